// The run loop through its three policies: a worker's main loop (sleeps
// and is woken for each burst), helping waits (run other work meanwhile,
// whatever executor the awaited task belongs to), and outside waits.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "dftracer/executor/task_group.hpp"
#include "test_support.hpp"

using namespace dftracer;

TEST(RunLoop, MainLoopIsWokenForEveryBurstAfterGoingIdle) {
    // Each round leaves the pool idle (spinning, watching or asleep) before
    // the next push: a lost wake-up would leave the round's task unrun.
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    for (int round = 0; round < 3000; ++round) {
        auto h = ex.submit([round] { return round; });
        ASSERT_TRUE(h.wait_for(test::generous)) << "round " << round;
        ASSERT_EQ(h.get(), round);
    }
}

TEST(RunLoop, ChainOfTasksEachSubmittingTheNextFinishes) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> remaining{20000};
    test::event done;
    std::function<void()> step = [&] {
        if (remaining.fetch_sub(1) == 1) {
            done.set();
            return;
        }
        ex.post(step);
    };
    ex.post(step);
    ASSERT_TRUE(done.wait());
    ex.wait_all();
    EXPECT_EQ(ex.counts().completed, 20000u);
}

TEST(RunLoop, HelpingWaitOnAnotherExecutorsTaskRunsOwnQueue) {
    test::gate held;
    executor a(executor_config{.threads = 1, .io_threads = 1});
    executor b(executor_config{.threads = 1, .io_threads = 1});
    auto slow = b.submit([&] {
        held.hold();
        return 1;
    });
    ASSERT_TRUE(held.wait_held());
    std::atomic<bool> queued_ran{false};
    auto waiter = a.submit([&] {
        a.submit([&] { queued_ran = true; });
        // Blocks on b's task; a's only worker must run the task above.
        while (!queued_ran.load()) {
            if (slow.wait_for(std::chrono::milliseconds(1))) break;
        }
        return queued_ran.load();
    });
    EXPECT_TRUE(waiter.get());
    held.open();
    EXPECT_EQ(slow.get(), 1);
}

TEST(RunLoop, ManyOutsideThreadsWaitOnHandlesAndGroups) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::vector<std::thread> waiters;
    std::atomic<int> finished{0};
    for (int t = 0; t < 8; ++t) {
        waiters.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                if (t % 2 == 0) {
                    if (ex.submit([i] { return i; }).get() == i) finished.fetch_add(1);
                } else {
                    task_group g(ex);
                    g.run([] {});
                    g.run([] {});
                    g.wait();
                    finished.fetch_add(1);
                }
            }
        });
    }
    for (auto& w : waiters) w.join();
    EXPECT_EQ(finished.load(), 8 * 200);
}

TEST(RunLoop, WaitAllFromOutsideAndInsideAtOnce) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> ran{0};
    for (int i = 0; i < 1000; ++i) ex.post([&] { ran.fetch_add(1); });
    auto inside = ex.submit([&] { ex.wait_all(); });
    ex.wait_all();
    inside.get();
    EXPECT_EQ(ran.load(), 1000);
}
