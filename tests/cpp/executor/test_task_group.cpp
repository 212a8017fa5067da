// task_group: waits for its own tasks only, helps while it waits, cancels
// siblings on the first failure, nests, and waits in its destructor.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "dftracer/executor/task_group.hpp"
#include "test_support.hpp"

using namespace dftracer;

TEST(TaskGroup, WaitReturnsOnceEveryTaskOfTheGroupFinished) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> ran{0};
    task_group g(ex);
    for (int i = 0; i < 1000; ++i) g.run([&] { ran.fetch_add(1); });
    g.wait();
    EXPECT_EQ(ran.load(), 1000);
    EXPECT_EQ(g.pending(), 0u);
}

TEST(TaskGroup, WaitDoesNotWaitForTasksOutsideTheGroup) {
    test::gate outside;
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto other = ex.submit([&] { outside.hold(); });
    ASSERT_TRUE(outside.wait_held());
    task_group g(ex);
    auto mine = g.run([] { return 42; });
    g.wait();  // would hang if it waited for `other`
    EXPECT_EQ(mine.get(), 42);
    EXPECT_FALSE(other.done());
    outside.open();
    other.get();
}

TEST(TaskGroup, NestedGroupsFinishOnOneThread) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    std::atomic<int> leaves{0};
    std::function<void(int)> tree = [&](int depth) {
        if (depth == 0) {
            leaves.fetch_add(1);
            return;
        }
        task_group children(ex);
        children.run([&, depth] { tree(depth - 1); });
        children.run([&, depth] { tree(depth - 1); });
        children.wait();
    };
    ex.submit([&] { tree(6); }).get();
    EXPECT_EQ(leaves.load(), 64);
}

TEST(TaskGroup, FirstFailureIsRethrownAndQueuedSiblingsAreCancelled) {
    test::gate blocker;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    // The only worker is held, so everything below stays queued until the
    // failing task runs first.
    auto hold = ex.submit([&] { blocker.hold(); });
    ASSERT_TRUE(blocker.wait_held());
    task_group g(ex);
    auto failing = g.run([]() -> int { throw std::runtime_error("boom"); });
    std::vector<task_handle<int>> siblings;
    for (int i = 0; i < 10; ++i) siblings.push_back(g.run([] { return 1; }));
    EXPECT_FALSE(g.is_cancelled());
    blocker.open();
    EXPECT_THROW(g.wait(), std::runtime_error);
    EXPECT_EQ(failing.state(), task_state::failed);
    for (auto& s : siblings) EXPECT_EQ(s.state(), task_state::cancelled);
    // Usable again after the wait.
    EXPECT_FALSE(g.is_cancelled());
    auto again = g.run([] { return 7; });
    g.wait();
    EXPECT_EQ(again.get(), 7);
}

TEST(TaskGroup, CancelStopsQueuedTasksAndAsksRunningOnesToStop) {
    test::gate running;
    std::atomic<bool> saw_stop{false};
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    task_group g(ex);
    auto first = g.run([&] {
        running.hold();
        saw_stop = this_task::stop_requested();
    });
    ASSERT_TRUE(running.wait_held());
    auto queued = g.run([] {});
    g.cancel();
    running.open();
    g.wait();
    EXPECT_TRUE(saw_stop.load());
    EXPECT_EQ(first.state(), task_state::completed);
    EXPECT_EQ(queued.state(), task_state::cancelled);
}

TEST(TaskGroup, WaitForGivesUpAndAnotherWaitFinishes) {
    test::gate slow;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    task_group g(ex);
    g.run([&] { slow.hold(); });
    ASSERT_TRUE(slow.wait_held());
    EXPECT_FALSE(g.wait_for(std::chrono::milliseconds(10)));
    slow.open();
    EXPECT_TRUE(g.wait_for(test::generous));
}

TEST(TaskGroup, DestructorWaitsForTheGroup) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> ran{0};
    {
        task_group g(ex);
        for (int i = 0; i < 100; ++i) g.run([&] { ran.fetch_add(1); });
    }
    EXPECT_EQ(ran.load(), 100);
}

namespace {
task<int> square(int x) { co_return x* x; }
}  // namespace

TEST(TaskGroup, SpawnsCoroutines) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    task_group g(ex);
    auto a = g.spawn(square(3));
    auto b = g.spawn(square(4));
    g.wait();
    EXPECT_EQ(a.get() + b.get(), 25);
}

TEST(TaskGroup, RunAfterShutdownThrowsAndLeavesTheGroupIdle) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    task_group g(ex);
    ex.shutdown();
    EXPECT_THROW(g.run([] {}), executor_shut_down);
    EXPECT_EQ(g.pending(), 0u);
    g.wait();
}

TEST(TaskGroup, StressManyThreadsSubmitIntoOneGroup) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> ran{0};
    task_group g(ex);
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
        producers.emplace_back([&] {
            for (int i = 0; i < 5000; ++i) g.run([&] { ran.fetch_add(1); });
        });
    }
    for (auto& p : producers) p.join();
    g.wait();
    EXPECT_EQ(ran.load(), 20000);
}
