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
#include <new>

// Under AddressSanitizer, records and frames come from operator new: the
// sanitizer then sees each one (use after free, overflow, leaks), which a
// pool's recycled blocks would hide. The pool itself stays in the library
// and its tests call it directly.
#if defined(__SANITIZE_ADDRESS__)
#define DFTRACER_POOL_BYPASS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DFTRACER_POOL_BYPASS 1
#endif
#endif
#ifndef DFTRACER_POOL_BYPASS
#define DFTRACER_POOL_BYPASS 0
#endif

namespace dftracer::detail {

namespace block_pool {

inline constexpr std::size_t granule = 64;  // class sizes: 64 .. 1024 bytes
inline constexpr std::size_t classes = 16;
inline constexpr std::size_t slab_bytes = std::size_t{64} * 1024;  // also a slab's alignment

constexpr std::size_t class_of(std::size_t size) noexcept { return (size == 0 ? 0 : size - 1) / granule; }
constexpr std::size_t class_bytes(std::size_t cls) noexcept { return (cls + 1) * granule; }

struct free_block {
    free_block* next;
};

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
    std::uint32_t limit;  ///< frees beyond this many go back to their slabs
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

/// What a private free list keeps: at most max_private blocks freed here
/// (beyond, all but the latest max_private / 2 go back to their slabs), or
/// what one slab gave it plus max_private / 2.
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

namespace block_pool {

/// The pool's fast paths (pool_allocate() below is what the library uses).
inline void* allocate(std::size_t size) {
    const std::size_t cls = class_of(size);
    if (cls < classes) {
        private_list& list = cache.lists[cls];
        if (list.head != nullptr) {
            free_block* block = list.head;
            list.head = block->next;
            --list.count;
#if defined(__GNUC__)
            // A block freed on another core is cold here: fetch the next one
            // while this one is filled in.
            __builtin_prefetch(list.head, 1);
#endif
            return block;
        }
        if (list.bump != list.bump_end) {
            char* block = list.bump;
            list.bump += class_bytes(cls);
            return block;
        }
    }
    return allocate_slow(size);
}

inline void deallocate(void* block, std::size_t size) noexcept {
    const std::size_t cls = class_of(size);
    if (block != nullptr && cls < classes) {
        private_list& list = cache.lists[cls];
        if (owner_of(block) == cache.home && list.count < list.limit) {
            auto* b = static_cast<free_block*>(block);
            b->next = list.head;
            list.head = b;
            ++list.count;
            return;
        }
    }
    deallocate_slow(block, size);
}

}  // namespace block_pool

/// A block of at least `size` bytes, 64-byte aligned (operator new's
/// alignment above 1024 bytes). Throws std::bad_alloc.
inline void* pool_allocate(std::size_t size) {
    if constexpr (DFTRACER_POOL_BYPASS) return ::operator new(size, std::align_val_t{block_pool::granule});
    return block_pool::allocate(size);
}

/// Returns a block from pool_allocate(size) (same size), from any thread.
/// Null is ignored.
inline void pool_deallocate(void* block, std::size_t size) noexcept {
    if constexpr (DFTRACER_POOL_BYPASS) {
        ::operator delete(block, size, std::align_val_t{block_pool::granule});
        return;
    }
    block_pool::deallocate(block, size);
}

/// Gives the calling thread's private blocks back to their slabs, settles
/// every heap's returned blocks, and returns empty slabs beyond a small
/// reserve to the system. Call from an idle thread (it takes locks).
void pool_trim() noexcept;

}  // namespace dftracer::detail
