// when_all over tasks: children run as strands of the awaiting task (no
// record each), suspend and resume on their own strand, nest, fail by
// position, and survive shutdown and cross-executor resumptions.
#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

namespace {

task<int> leaf(int v) { co_return v; }

/// Suspends in every way a coroutine can, then returns v.
task<int> restless(executor& other, int v) {
    co_await yield();
    co_await resume_on(pool_kind::io);
    int from_io = co_await leaf(v);
    co_await resume_on(pool_kind::compute);
    auto here = co_await spawn(leaf(1));
    int one = co_await here;
    // A handle of another executor: resumed from one of its workers.
    int zero = co_await other.spawn(leaf(0));
    co_return from_io + one - 1 + zero;
}

/// A binary fork-join tree of when_alls: the sum of leaves 1..2^depth.
task<long> tree(int depth, long first) {
    if (depth == 0) co_return first;
    const long half = 1L << (depth - 1);
    std::vector<task<long>> halves;
    halves.push_back(tree(depth - 1, first));
    halves.push_back(tree(depth - 1, first + half));
    auto sums = co_await when_all(std::move(halves));
    co_return sums[0] + sums[1];
}

/// fib as fork-join steps: both halves as parts of this task.
task<long> fib_forking(int n) {
    if (n < 2) co_return n;
    auto [left, right] = co_await when_all(fib_forking(n - 1), fib_forking(n - 2));
    co_return left + right;
}

}  // namespace

TEST(Strands, ForkJoinStepReturnsATupleInOrder) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto body = []() -> task<bool> {
        auto word = []() -> task<std::string> {
            co_await yield();  // suspends: finishes after the others
            co_return std::string("three");
        };
        auto [a, b, c] = co_await when_all(leaf(1), leaf(2), word());
        co_return a == 1 && b == 2 && c == "three";
    };
    EXPECT_TRUE(ex.run(body()));
    EXPECT_EQ(ex.counts().total, 1u);
}

TEST(Strands, ForkJoinFibOnOneAndTwoThreads) {
    executor single(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_EQ(single.run(fib_forking(22)), 17711);
    executor two(executor_config{.threads = 2, .io_threads = 1});
    for (int round = 0; round < 20; ++round) ASSERT_EQ(two.run(fib_forking(18)), 2584) << "round " << round;
}

TEST(Strands, ForkJoinStepRethrowsTheFirstFailureByPosition) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto fails = [](const char* what) -> task<int> {
        co_await yield();
        throw std::runtime_error(what);
    };
    auto body = [&]() -> task<int> {
        auto [a, b, c] = co_await when_all(leaf(0), fails("second"), fails("third"));
        co_return a + b + c;
    };
    try {
        ex.run(body());
        FAIL() << "expected the second task's failure";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "second");
    }
    auto with_empty = []() -> task<int> {
        auto [a, b] = co_await when_all(leaf(1), task<int>{});
        co_return a + b;
    };
    EXPECT_THROW(ex.run(with_empty()), std::invalid_argument);
}

TEST(Strands, ChildrenRunAsPartOfTheAwaitingTask) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto body = []() -> task<bool> {
        const auto own = this_task::id();
        auto child = [own]() -> task<int> {
            co_await yield();
            co_return this_task::id() == own ? 1 : 0;
        };
        std::vector<task<int>> parts;
        for (int i = 0; i < 100; ++i) parts.push_back(child());
        auto seen = co_await when_all(std::move(parts));
        co_return std::accumulate(seen.begin(), seen.end(), 0) == 100;
    };
    EXPECT_TRUE(ex.run(body()));
    // The children were no tasks of their own: only the root was counted.
    EXPECT_EQ(ex.counts().total, 1u);
    EXPECT_EQ(ex.counts().completed, 1u);
}

TEST(Strands, ChildrenSuspendAndResumeOnTheirOwnStrand) {
    executor other(executor_config{.threads = 1, .io_threads = 1});
    executor ex(executor_config{.threads = 2, .io_threads = 2});
    auto body = [&]() -> task<long> {
        std::vector<task<int>> parts;
        for (int i = 0; i < 64; ++i) parts.push_back(restless(other, i));
        auto values = co_await when_all(std::move(parts));
        for (int i = 0; i < 64; ++i) {
            if (values[static_cast<std::size_t>(i)] != i) co_return -1;
        }
        co_return std::accumulate(values.begin(), values.end(), 0L);
    };
    for (int round = 0; round < 50; ++round) ASSERT_EQ(ex.run(body()), 64L * 63 / 2) << "round " << round;
}

TEST(Strands, NestedForksFormATree) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    const int depth = 12;
    const long leaves = 1L << depth;
    EXPECT_EQ(ex.run(tree(depth, 1)), leaves * (leaves + 1) / 2);
    executor single(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_EQ(single.run(tree(depth, 1)), leaves * (leaves + 1) / 2);
}

TEST(Strands, ManyChildrenOnOneThreadUseConstantStack) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto body = []() -> task<long> {
        std::vector<task<int>> parts;
        for (int i = 0; i < 200'000; ++i) parts.push_back(leaf(1));
        auto values = co_await when_all(std::move(parts));
        co_return std::accumulate(values.begin(), values.end(), 0L);
    };
    EXPECT_EQ(ex.run(body()), 200'000);
}

TEST(Strands, FirstFailureByPositionAfterAllFinished) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<int> finished{0};
    auto part = [&](int i) -> task<int> {
        co_await yield();
        finished++;
        if (i == 5) throw std::logic_error("part 5");
        if (i == 2) throw std::runtime_error("part 2");
        co_return i;
    };
    auto body = [&]() -> task<int> {
        std::vector<task<int>> parts;
        for (int i = 0; i < 8; ++i) parts.push_back(part(i));
        auto values = co_await when_all(std::move(parts));
        co_return values[0];
    };
    try {
        ex.run(body());
        FAIL() << "expected the failure of part 2";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "part 2");
    }
    EXPECT_EQ(finished.load(), 8);
}

TEST(Strands, EmptySetAndEmptyTask) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto none = []() -> task<std::size_t> {
        auto values = co_await when_all(std::vector<task<int>>{});
        co_await when_all(std::vector<task<void>>{});
        co_return values.size();
    };
    EXPECT_EQ(ex.run(none()), 0u);
    auto with_empty = []() -> task<void> {
        std::vector<task<int>> parts;
        parts.push_back(leaf(1));
        parts.emplace_back();
        co_await when_all(std::move(parts));
    };
    EXPECT_THROW(ex.run(with_empty()), std::invalid_argument);
}

TEST(Strands, ShutdownWithoutDrainLetsARunningForkFinish) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    test::gate gate;
    auto body = [&]() -> task<long> {
        std::vector<task<int>> parts;
        for (int i = 0; i < 1000; ++i) {
            parts.push_back([](test::gate& g, bool first) -> task<int> {
                if (first) g.hold();
                co_await yield();
                co_return 1;
            }(gate, i == 0));
        }
        auto values = co_await when_all(std::move(parts));
        co_return std::accumulate(values.begin(), values.end(), 0L);
    };
    auto h = ex.spawn(body());
    ASSERT_TRUE(gate.wait_held());
    std::thread stopper([&] { ex.shutdown(false); });
    gate.open();
    // The task was running: its children are part of it, not queued tasks.
    EXPECT_EQ(h.get(), 1000);
    stopper.join();
}

TEST(Strands, StressManySmallForksOnTwoThreads) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto body = []() -> task<long> {
        long total = 0;
        for (int round = 0; round < 2000; ++round) {
            std::vector<task<int>> parts;
            for (int i = 0; i < 4; ++i) parts.push_back(leaf(i));
            auto values = co_await when_all(std::move(parts));
            total += std::accumulate(values.begin(), values.end(), 0L);
        }
        co_return total;
    };
    EXPECT_EQ(ex.run(body()), 2000L * 6);
}
