// Small-block allocator for task records and coroutine frames.
//
// Tasks are usually allocated on one thread and freed on another (submitter vs
// worker), which makes general-purpose allocators contend on their arenas. This
// pool keeps per-thread free lists per size class and moves blocks between
// threads in batches through a shared depot, so the steady state allocates
// nothing from the system. Blocks above the largest class go to operator new.
//
// Thread-safety: both functions may be called from any thread. Memory kept
// idle in the depot is capped; the excess goes back to operator delete.
#pragma once

#include <cstddef>

namespace dftracer::detail {

void* pool_allocate(std::size_t size);
void pool_deallocate(void* block, std::size_t size) noexcept;

}  // namespace dftracer::detail
