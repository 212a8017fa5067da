// Small-block allocator for task records and coroutine frames.
//
// Tasks are usually allocated on one thread and freed on another (submitter vs
// worker), which makes general-purpose allocators contend on their arenas. This
// pool keeps per-thread free lists per size class and moves blocks between
// threads in batches through a shared depot, so the steady state allocates
// nothing from the system. Blocks above the largest class go to operator new.
//
// Thread-safety: every function may be called from any thread. The depot
// keeps freed blocks while work flows (up to a cap); pool_trim(), called by
// the executor once a worker has been idle for a second and after shutdown,
// returns all but a small reserve to operator delete.
#pragma once

#include <array>
#include <cstddef>

namespace dftracer::detail {

namespace block_pool {

inline constexpr std::size_t granule = 64;  // class sizes: 64 .. 1024 bytes
inline constexpr std::size_t classes = 16;

constexpr std::size_t class_of(std::size_t size) noexcept { return (size == 0 ? 0 : size - 1) / granule; }

struct free_block {
    free_block* next;
};

/// A singly linked list of free blocks of one class.
struct free_list {
    free_block* head = nullptr;
    std::size_t count = 0;

    free_block* pop() noexcept {
        free_block* block = head;
        head = block->next;
        --count;
        return block;
    }
    void push(free_block* block) noexcept {
        block->next = head;
        head = block;
        ++count;
    }
};

/// The calling thread's free lists (plain data, constant-initialised: the
/// fast paths below are a TLS access and a list pop or push). Only this
/// thread touches them; block_pool.cpp hands them to the depot at exit.
struct thread_cache {
    std::array<free_list, classes> lists;
    bool flusher_registered;  ///< false also after exit: frees take the slow path
    bool gone;                ///< thread exited: use operator new/delete
};
extern thread_local constinit thread_cache cache;

/// A thread's list holds at most this many blocks; beyond, half go to the depot.
inline constexpr std::size_t max_cached = 128;

void* allocate_slow(std::size_t size);
void deallocate_slow(void* block, std::size_t size) noexcept;

}  // namespace block_pool

/// A block of at least `size` bytes, 64-byte aligned (operator new's
/// alignment above 1024 bytes). Throws std::bad_alloc.
inline void* pool_allocate(std::size_t size) {
    const std::size_t cls = block_pool::class_of(size);
    if (cls < block_pool::classes) {
        block_pool::free_list& list = block_pool::cache.lists[cls];
        if (list.head != nullptr) {
            block_pool::free_block* block = list.pop();
#if defined(__GNUC__)
            // Blocks freed on other cores are cold here: start fetching the
            // next one while this one is filled in.
            __builtin_prefetch(list.head, 1);
#endif
            return block;
        }
    }
    return block_pool::allocate_slow(size);
}

/// Returns a block from pool_allocate(size) (same size). Null is ignored.
inline void pool_deallocate(void* block, std::size_t size) noexcept {
    const std::size_t cls = block_pool::class_of(size);
    if (block != nullptr && cls < block_pool::classes) {
        block_pool::free_list& list = block_pool::cache.lists[cls];
        if (block_pool::cache.flusher_registered && list.count + 1 < block_pool::max_cached) {
            list.push(static_cast<block_pool::free_block*>(block));
            return;
        }
    }
    block_pool::deallocate_slow(block, size);
}

/// Returns idle depot memory beyond a small reserve to the system.
void pool_trim() noexcept;

}  // namespace dftracer::detail
