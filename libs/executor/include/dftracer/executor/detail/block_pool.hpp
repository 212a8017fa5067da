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

#include <cstddef>

namespace dftracer::detail {

void* pool_allocate(std::size_t size);
void pool_deallocate(void* block, std::size_t size) noexcept;
/// Returns idle depot memory beyond a small reserve to the system.
void pool_trim() noexcept;

}  // namespace dftracer::detail
