// C++20 coroutines: lazy tasks, awaiting tasks and handles, pool hops,
// when_all, yield, deep recursion and long await chains.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

namespace {

task<int> leaf(int v) { co_return v; }

task<long> fib_inline(int n) {
    if (n < 2) co_return n;
    long a = co_await fib_inline(n - 1);
    long b = co_await fib_inline(n - 2);
    co_return a + b;
}

task<long> fib_spawning(int n) {
    if (n < 2) co_return n;
    auto left = co_await spawn(fib_spawning(n - 1), pool_kind::compute);
    long b = co_await fib_spawning(n - 2);
    co_return co_await left + b;
}

task<long> long_chain(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await leaf(1);
    co_return sum;
}

task<int> throws_later() {
    co_await yield();
    throw std::domain_error("from coroutine");
}

}  // namespace

TEST(Coroutines, TaskIsLazyUntilSpawned) {
    std::atomic<bool> ran{false};
    auto body = [&]() -> task<int> {
        ran = true;
        co_return 1;
    };
    auto t = body();
    EXPECT_FALSE(ran.load());
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_EQ(ex.run(std::move(t)), 1);
    EXPECT_TRUE(ran.load());
}

TEST(Coroutines, SpawnReturnsHandleWithName) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto h = ex.spawn(leaf(9), {.name = "leaf"});
    EXPECT_EQ(h.get(), 9);
    EXPECT_EQ(h.name(), "leaf");
}

TEST(Coroutines, RecursiveFib25InlineDoesNotOverflow) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_EQ(ex.run(fib_inline(25)), 75025);
}

TEST(Coroutines, RecursiveFib25Spawning) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    EXPECT_EQ(ex.run(fib_spawning(25)), 75025);
}

TEST(Coroutines, RecursiveFibSpawningOnOneThread) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_EQ(ex.run(fib_spawning(18)), 2584);
}

TEST(Coroutines, MillionAwaitChainUsesConstantStack) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_EQ(ex.run(long_chain(1'000'000)), 1'000'000);
}

TEST(Coroutines, AwaitingAHandleSuspendsInsteadOfBlocking) {
    // One compute thread: if awaiting blocked the thread, the io task that
    // needs the compute pool to post its result could never be observed.
    test::event release;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto io = ex.submit(
        [&] {
            release.wait();
            return 5;
        },
        {.pool = pool_kind::io});
    auto waiter = ex.spawn([](task_handle<int> h) -> task<int> { co_return co_await h * 2; }(io));
    // While the coroutine is suspended the compute thread is free.
    auto other = ex.submit([] { return 1; });
    EXPECT_EQ(other.get(), 1);
    EXPECT_FALSE(waiter.done());
    release.set();
    EXPECT_EQ(waiter.get(), 10);
}

TEST(Coroutines, ResumeOnMovesBetweenPools) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto body = []() -> task<std::vector<int>> {
        std::vector<int> seen;
        seen.push_back(this_task::worker_id());
        co_await resume_on(pool_kind::io);
        seen.push_back(this_task::worker_id());
        co_await resume_on(pool_kind::compute);
        seen.push_back(this_task::worker_id());
        co_return seen;
    };
    auto seen = ex.run(body());
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 0}));
}

TEST(Coroutines, WhenAllReturnsResultsInOrder) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto body = []() -> task<int> {
        std::vector<task<int>> parts;
        for (int i = 0; i < 50; ++i) parts.push_back(leaf(i));
        auto values = co_await when_all(std::move(parts));
        int sum = 0;
        for (int i = 0; i < 50; ++i) {
            if (values[static_cast<std::size_t>(i)] != i) co_return -1;
            sum += values[static_cast<std::size_t>(i)];
        }
        co_return sum;
    };
    EXPECT_EQ(ex.run(body()), 1225);
}

TEST(Coroutines, WhenAllRethrowsFirstFailureAfterAll) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> finished{0};
    auto part = [&](int i) -> task<void> {
        co_await yield();
        finished++;
        if (i == 3) throw std::runtime_error("part 3");
    };
    auto body = [&]() -> task<void> {
        std::vector<task<void>> parts;
        for (int i = 0; i < 8; ++i) parts.push_back(part(i));
        co_await when_all(std::move(parts));
    };
    EXPECT_THROW(ex.run(body()), std::runtime_error);
    EXPECT_EQ(finished.load(), 8);
}

TEST(Coroutines, ExceptionsPropagateThroughAwait) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto outer = []() -> task<int> {
        try {
            co_return co_await throws_later();
        } catch (const std::domain_error&) {
            co_return -7;
        }
    };
    EXPECT_EQ(ex.run(outer()), -7);
    auto h = ex.spawn(throws_later());
    EXPECT_THROW(h.get(), std::domain_error);
    EXPECT_EQ(h.state(), task_state::failed);
}

TEST(Coroutines, StopRequestCancelsAtNextSuspensionPoint) {
    test::event reached, go;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    std::atomic<bool> after{false};
    auto body = [&]() -> task<void> {
        reached.set();
        go.wait();
        co_await yield();  // cancellation point
        after = true;
    };
    auto h = ex.spawn(body());
    ASSERT_TRUE(reached.wait());
    h.request_stop();
    go.set();
    EXPECT_THROW(h.get(), task_cancelled);
    EXPECT_FALSE(after.load());
}

TEST(Coroutines, ResumeOnWorksInsideAnAwaitedChildTask) {
    auto body = []() -> task<void> { co_await resume_on(pool_kind::io); };
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    // Awaited as a child of a spawned task it works...
    auto parent = [&]() -> task<void> { co_await body(); };
    EXPECT_NO_THROW(ex.run(parent()));
}

TEST(Coroutines, ChildThatHopsPoolsAndFinishesFirstStillFinishesItsTask) {
    // The child, awaited inline, moves to the io pool and may finish there
    // before its parent has learnt on the compute worker whether to
    // suspend; the parent then carries on (and finishes) there. The
    // outcome must reach that run, not the io worker's, which has returned.
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto child = []() -> task<int> {
        co_await resume_on(pool_kind::io);
        co_return 1;
    };
    auto parent = [&]() -> task<int> { co_return co_await child() + 1; };
    for (int round = 0; round < 5000; ++round) {
        auto h = ex.spawn(parent());
        ASSERT_TRUE(h.wait_for(test::generous)) << "the task never finished, round " << round;
        ASSERT_EQ(h.get(), 2);
    }
}

TEST(Coroutines, AwaitingAHandleStraightFromSpawnOrSubmit) {
    // The handle is a temporary kept across the suspension. With a
    // defaulted options argument, GCC 12 broke the options' std::string
    // in the coroutine frame (ASan: bad free); the one-argument overloads
    // make no such temporary.
    executor other(executor_config{.threads = 1, .io_threads = 1});
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto body = [&]() -> task<int> {
        int a = co_await other.spawn(leaf(1));
        int b = co_await other.submit([] { return 2; });
        int c = co_await ex.submit([] { return 3; });
        // Options given: a named handle (see the coroutines page on GCC 12).
        auto named = ex.submit([] { return 4; }, {.name = "with options"});
        int d = co_await named;
        co_return a + b + c + d;
    };
    for (int round = 0; round < 200; ++round) ASSERT_EQ(ex.run(body()), 10) << "round " << round;
}

TEST(Coroutines, AwaitingAnotherExecutorsHandleContinuesAtHome) {
    executor other(executor_config{.threads = 1, .io_threads = 1});
    executor home(executor_config{.threads = 1, .io_threads = 1});
    test::event release;
    auto remote = other.submit([&] {
        release.wait();
        return 2;
    });
    auto body = [](task_handle<int> h) -> task<bool> {
        int v = co_await h;
        co_return v == 2 && executor::current() != nullptr&& this_task::worker_id() == 0;
    };
    auto h = home.spawn(body(remote));
    release.set();
    EXPECT_TRUE(h.get());
    auto where = home.spawn([](task_handle<int> r) -> task<executor*> {
        co_await r;
        co_return executor::current();
    }(other.submit([] { return 1; })));
    EXPECT_EQ(where.get(), &home);
}

// The other executor's worker queues the resumed coroutine on `home`, then
// looks at home's sleepers: home may run the coroutine, and be destroyed,
// before that worker is done with it. Home's destructor must wait for it.
// A stress test: the window is a few instructions wide, so the sanitizers
// catch a destructor that does not wait only in some runs (the remote
// handles are kept so that dropping them adds no ordering that hides it).
TEST(Coroutines, ExecutorDestroyedRightAfterAResumeFromAnotherExecutor) {
    executor other(executor_config{.threads = 1, .io_threads = 1});
    std::vector<task_handle<int>> kept;
    for (int round = 0; round < 200; ++round) {
        executor home(executor_config{.threads = 1, .io_threads = 1});
        test::event release;
        auto remote = other.submit([&] {
            release.wait();
            return round;
        });
        kept.push_back(remote);
        test::event awaiting;  // set just before the coroutine suspends on remote
        auto resumed = home.spawn([](task_handle<int> h, test::event& before) -> task<int> {
            before.set();
            co_return co_await h;
        }(remote, awaiting));
        awaiting.wait();
        release.set();
        ASSERT_EQ(resumed.get(), round);
    }
}
