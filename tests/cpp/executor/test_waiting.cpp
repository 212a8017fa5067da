// Work-helping waits: nested submit-and-wait on small pools, wait_all
// semantics from inside and outside the pool.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

namespace {
int nested(executor& ex, int depth) {
    if (depth == 0) return 0;
    auto h = ex.submit([&ex, depth] { return nested(ex, depth - 1); });
    return h.get() + 1;
}
}  // namespace

TEST(Waiting, NestedSubmitAndWait100LevelsOnOneThread) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([&] { return nested(ex, 100); });
    ASSERT_TRUE(h.wait_for(test::generous));
    EXPECT_EQ(h.get(), 100);
}

// Waits that alternate between two executors (or two pools) of one thread
// each: past the nesting depth at which a waiting worker runs only its own
// children, the task it must run for the chain to go on was submitted by
// the other side's worker. 40 levels: 20 on each worker, far past it.
TEST(Waiting, ChainAlternatingBetweenTwoOneThreadExecutorsFinishes) {
    executor a(executor_config{.threads = 1, .io_threads = 1});
    executor b(executor_config{.threads = 1, .io_threads = 1});
    std::function<int(int)> step = [&](int depth) -> int {
        if (depth == 0) return 0;
        executor& next = depth % 2 != 0 ? a : b;
        return next.submit([&, depth] { return step(depth - 1); }).get() + 1;
    };
    auto h = a.submit([&] { return step(40); });
    ASSERT_TRUE(h.wait_for(test::generous));
    EXPECT_EQ(h.get(), 40);
}

TEST(Waiting, ChainAlternatingBetweenPoolsOfOneThreadFinishes) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    std::function<int(int)> step = [&](int depth) -> int {
        if (depth == 0) return 0;
        const pool_kind next = depth % 2 != 0 ? pool_kind::io : pool_kind::compute;
        return ex.submit([&, depth] { return step(depth - 1); }, {.pool = next}).get() + 1;
    };
    auto h = ex.submit([&] { return step(40); });
    ASSERT_TRUE(h.wait_for(test::generous));
    EXPECT_EQ(h.get(), 40);
}

TEST(Waiting, FanOutAndWaitInsideTasksOnOneThread) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([&] {
        std::vector<task_handle<int>> parts;
        for (int i = 0; i < 100; ++i) {
            parts.push_back(ex.submit([&ex, i] { return ex.submit([i] { return i; }).get(); }));
        }
        int sum = 0;
        for (auto& p : parts) sum += p.get();
        return sum;
    });
    ASSERT_TRUE(h.wait_for(test::generous));
    EXPECT_EQ(h.get(), 4950);
}

TEST(Waiting, WaitingOnATaskRunningElsewhereHelpsWithOtherWork) {
    // Two workers. Worker A runs `slow` (blocked on an event); worker B waits
    // on `slow` and must run `other` meanwhile, which releases `slow`.
    test::gate slow_gate;
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto slow = ex.submit([&] {
        slow_gate.hold();
        return 1;
    });
    ASSERT_TRUE(slow_gate.wait_held());
    auto waiter = ex.submit([&] {
        ex.submit([&] { slow_gate.open(); });
        return slow.get() + 1;
    });
    ASSERT_TRUE(waiter.wait_for(test::generous));
    EXPECT_EQ(waiter.get(), 2);
}

TEST(Waiting, ComputeTaskWaitingOnIoTask) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([&] {
        auto io = ex.submit([] { return 21; }, {.pool = pool_kind::io});
        return io.get() * 2;
    });
    EXPECT_EQ(h.get(), 42);
}

TEST(WaitAll, IncludesTasksSubmittedByTasks) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> leaves{0};
    std::function<void(int)> spread = [&](int depth) {
        if (depth == 0) {
            leaves++;
            return;
        }
        ex.submit([&, depth] { spread(depth - 1); });
        ex.submit([&, depth] { spread(depth - 1); });
    };
    ex.submit([&] { spread(10); });
    ex.wait_all();
    EXPECT_EQ(leaves.load(), 1024);
    auto c = ex.counts();
    EXPECT_EQ(c.queued + c.running, 0u);
    EXPECT_EQ(c.completed, c.total);
}

TEST(WaitAll, FromInsideATaskOnOneThread) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    std::atomic<int> done{0};
    auto h = ex.submit([&] {
        for (int i = 0; i < 20; ++i) ex.submit([&] { done++; });
        ex.wait_all();  // helps; does not wait for itself
        return done.load();
    });
    ASSERT_TRUE(h.wait_for(test::generous));
    EXPECT_EQ(h.get(), 20);
}

TEST(WaitAll, TwoTasksInWaitAllDoNotWaitForEachOther) {
    test::event both_in;
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> entered{0};
    auto body = [&] {
        if (++entered == 2) both_in.set();
        both_in.wait();
        ex.wait_all();
    };
    auto a = ex.submit(body);
    auto b = ex.submit(body);
    EXPECT_TRUE(a.wait_for(test::generous));
    EXPECT_TRUE(b.wait_for(test::generous));
}

TEST(WaitAll, TimesOut) {
    test::event release;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.submit([&] { release.wait(); });
    EXPECT_FALSE(ex.wait_all_for(std::chrono::milliseconds(20)));
    release.set();
    EXPECT_TRUE(ex.wait_all_for(test::generous));
}

TEST(WaitAll, ReturnsImmediatelyWhenIdle) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_TRUE(ex.wait_all_for(std::chrono::milliseconds(0)));
}

TEST(WaitAll, ReturnsWhenOnlyCancelledEntriesRemainQueued) {
    test::gate gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.submit([&] { gate.hold(); });
    ASSERT_TRUE(gate.wait_held());
    auto last_real = ex.submit([] {});
    std::vector<task_handle<void>> cancelled;
    for (int i = 0; i < 3; ++i) cancelled.push_back(ex.submit([] {}));
    for (auto& h : cancelled) ASSERT_TRUE(h.cancel());
    // The worker finishes `last_real` with stale entries still queued behind
    // it; wait_all must still be woken once they are skipped.
    std::thread waiter_release([&] { gate.open(); });
    EXPECT_TRUE(ex.wait_all_for(test::generous));
    waiter_release.join();
    EXPECT_EQ(last_real.state(), task_state::completed);
}

TEST(Waiting, TimedWaitsFromOutsideReportUnfinishedAndFinishedTasks) {
    // The first waits time out (zero and short timeouts) while the task is
    // blocked; after release the same handle reports it finished.
    test::gate gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([&] { gate.hold(); });
    ASSERT_TRUE(gate.wait_held());
    EXPECT_FALSE(h.wait_for(std::chrono::nanoseconds(0)));
    EXPECT_FALSE(h.wait_for(std::chrono::microseconds(100)));
    gate.open();
    EXPECT_TRUE(h.wait_for(test::generous));
    EXPECT_TRUE(h.wait_for(std::chrono::nanoseconds(0)));
}
