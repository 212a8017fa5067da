// Running out of memory inside submit(): the caller gets std::bad_alloc and
// nothing is lost -- the task is accounted for as failed, so the counts add
// up and wait_all() does not wait for a task that was never queued.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "dftracer/executor/executor.hpp"

namespace {
/// When non-zero, the next operator new of exactly this size on this thread
/// throws std::bad_alloc (then the trap disarms itself).
thread_local std::size_t fail_allocation_of = 0;
}  // namespace

void* operator new(std::size_t size) {
    if (fail_allocation_of != 0 && size == fail_allocation_of) {
        fail_allocation_of = 0;
        throw std::bad_alloc();
    }
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace dftracer;

TEST(OutOfMemory, QueueGrowthFailingInSubmitLosesNothing) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    // The first job pushed from outside into the io worker's empty inbox
    // grows it to its first 64 slots.
    fail_allocation_of = 64 * sizeof(std::uintptr_t);
    EXPECT_THROW(ex.submit([] {}, {.pool = pool_kind::io}), std::bad_alloc);
    ASSERT_EQ(fail_allocation_of, 0u) << "the queue's first growth was not the allocation that failed";
    EXPECT_TRUE(ex.wait_all_for(std::chrono::seconds(30)));
    auto c = ex.counts();
    EXPECT_EQ(c.total, 1u);
    EXPECT_EQ(c.failed, 1u);
    EXPECT_EQ(c.total, c.queued + c.running + c.completed + c.failed + c.cancelled);
    // The executor still works.
    EXPECT_EQ(ex.submit([] { return 5; }, {.pool = pool_kind::io}).get(), 5);
}
