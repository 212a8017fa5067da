// Small-block allocator for task records and coroutine frames, built to keep
// locality: consecutive allocations of a thread come from one 64 KiB slab.
//
// Tasks are usually allocated on one thread and freed on another (submitter
// vs worker). A pool that hands freed blocks to whichever thread asks next
// scatters them: after a few bursts a thread's next thousand records lie on a
// thousand pages, and every first touch misses the cache and the TLB (1M
// tasks ran 2.5x slower in the eighth burst than in the first). Here every
// block belongs to a slab, every slab to one thread's heap, and a freed block
// goes back to its own slab:
//  - the owner takes blocks from one slab at a time (its free blocks, then
//    the never-used rest in address order) into its private list, and frees
//    its own blocks into that list;
//  - a block freed on another thread travels back to its owner's heap in a
//    chain of up to 64 (one atomic push per chain), and the owner sorts it
//    into its slab when it next needs blocks;
//  - a slab whose blocks are all back is empty: it goes to a spare stack and
//    starts again in address order for whichever heap takes it.
// A heap outlives its thread (another thread adopts it), so a block can be
// freed at any time. Blocks above the largest class go to operator new.
//
// Thread-safety: every function may be called from any thread, also during
// thread exit. pool_trim(), called by the executor once a worker has been
// idle for a second and after shutdown, returns idle slabs to the system.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define DFTRACER_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define DFTRACER_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define DFTRACER_POOL_POISON(p, n) ((void)(p), (void)(n))
#define DFTRACER_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace dftracer::detail {

namespace block_pool {

inline constexpr std::size_t granule = 64;  // class sizes: 64 .. 1024 bytes
inline constexpr std::size_t classes = 16;
inline constexpr std::size_t slab_bytes = std::size_t{64} * 1024;  // also a slab's alignment

constexpr std::size_t class_of(std::size_t size) noexcept { return (size == 0 ? 0 : size - 1) / granule; }
constexpr std::size_t class_bytes(std::size_t cls) noexcept { return (cls + 1) * granule; }

/// A free block: its first word links it into a list. Under AddressSanitizer
/// a free block is poisoned whole (a task touching a freed record is
/// reported), and the pool reads and writes the link through these two.
struct free_block {
    free_block* next;
};
inline free_block* next_of(free_block* block) noexcept {
    DFTRACER_POOL_UNPOISON(block, sizeof(free_block));
    free_block* next = block->next;
    DFTRACER_POOL_POISON(block, sizeof(free_block));
    return next;
}
inline void set_next(free_block* block, free_block* next) noexcept {
    DFTRACER_POOL_UNPOISON(block, sizeof(free_block));
    block->next = next;
    DFTRACER_POOL_POISON(block, sizeof(free_block));
}

struct heap;  // block_pool.cpp

/// The heap owning the slab that holds `block` (a block of a pooled class):
/// a slab begins with its owner, and slabs are aligned to their size.
inline heap* owner_of(const void* block) noexcept {
    const auto slab_start = reinterpret_cast<std::uintptr_t>(block) & ~(std::uintptr_t{slab_bytes} - 1);
    return *reinterpret_cast<heap* const*>(slab_start);
}

/// The calling thread's blocks of one class, all from slabs of its own heap:
/// a free list, then a run of never-used blocks [bump, bump_end) of one slab.
struct private_list {
    free_block* head;
    std::uint32_t count;  ///< blocks on the free list (not counting the run)
    char* bump;
    char* bump_end;
};

/// The calling thread's part of the pool (plain data, constant-initialised:
/// the fast paths below are a TLS access and a list pop or push). Only this
/// thread touches it; block_pool.cpp returns it to the heap at thread exit.
struct thread_cache {
    std::array<private_list, classes> lists;
    heap* home;  ///< this thread's heap; null before the first allocation and after exit
    bool gone;   ///< thread exited: every block takes the slow path
};
extern thread_local constinit thread_cache cache;

/// A private free list holds at most this many blocks; beyond, half go back
/// to their slabs.
inline constexpr std::uint32_t max_private = 256;

void* allocate_slow(std::size_t size);
void deallocate_slow(void* block, std::size_t size) noexcept;

/// What the pool holds from the system (for tests and diagnostics).
struct statistics {
    std::size_t mapped_slabs;  ///< slabs mapped and not yet returned
    std::size_t spare_slabs;   ///< of which empty and owned by no heap
};
statistics stats() noexcept;

}  // namespace block_pool

/// A block of at least `size` bytes, 64-byte aligned (operator new's
/// alignment above 1024 bytes). Throws std::bad_alloc.
inline void* pool_allocate(std::size_t size) {
    const std::size_t cls = block_pool::class_of(size);
    if (cls < block_pool::classes) {
        block_pool::private_list& list = block_pool::cache.lists[cls];
        if (list.head != nullptr) {
            block_pool::free_block* block = list.head;
            list.head = block_pool::next_of(block);
            --list.count;
#if defined(__GNUC__)
            // A block freed on another core is cold here: fetch the next one
            // while this one is filled in.
            __builtin_prefetch(list.head, 1);
#endif
            DFTRACER_POOL_UNPOISON(block, size);
            return block;
        }
        if (list.bump != list.bump_end) {
            char* block = list.bump;
            list.bump += block_pool::class_bytes(cls);
            DFTRACER_POOL_UNPOISON(block, size);  // a reused slab's old blocks were poisoned
            return block;
        }
    }
    return block_pool::allocate_slow(size);
}

/// Returns a block from pool_allocate(size) (same size), from any thread.
/// Null is ignored.
inline void pool_deallocate(void* block, std::size_t size) noexcept {
    const std::size_t cls = block_pool::class_of(size);
    if (block != nullptr && cls < block_pool::classes) {
        block_pool::private_list& list = block_pool::cache.lists[cls];
        if (block_pool::owner_of(block) == block_pool::cache.home && list.count < block_pool::max_private) {
            auto* b = static_cast<block_pool::free_block*>(block);
            DFTRACER_POOL_POISON(b, block_pool::class_bytes(cls));
            block_pool::set_next(b, list.head);
            list.head = b;
            ++list.count;
            return;
        }
    }
    block_pool::deallocate_slow(block, size);
}

/// Gives the calling thread's private blocks back to their slabs, settles
/// every heap's returned blocks, and returns empty slabs beyond a small
/// reserve to the system. Call from an idle thread (it takes locks).
void pool_trim() noexcept;

}  // namespace dftracer::detail
