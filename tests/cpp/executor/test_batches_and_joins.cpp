// Submitting many at once (submit_batch, post) and joining many handles
// (when_all over task_handles), and waits that cross executors.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

TEST(SubmitBatch, ReturnsHandlesInOrderAndCountsEveryTask) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::vector<std::function<int()>> fns;
    for (int i = 0; i < 1000; ++i) fns.emplace_back([i] { return i * 2; });
    auto handles = ex.submit_batch(std::move(fns), {.name = "batch"});
    ASSERT_EQ(handles.size(), 1000u);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(handles[static_cast<std::size_t>(i)].get(), i * 2);
    EXPECT_EQ(handles[0].name(), "batch");
    ex.wait_all();
    auto c = ex.counts();
    EXPECT_EQ(c.total, 1000u);
    EXPECT_EQ(c.completed, 1000u);
}

TEST(SubmitBatch, FromInsideATaskAndEmpty) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto total = ex.submit([&] {
                       std::vector<std::function<int()>> fns(100, [] { return 1; });
                       int sum = 0;
                       for (auto& h : ex.submit_batch(fns)) sum += h.get();
                       return sum;
                   }).get();
    EXPECT_EQ(total, 100);
    std::vector<std::function<void()>> none;
    EXPECT_TRUE(ex.submit_batch(none).empty());
}

TEST(SubmitBatch, AfterShutdownThrows) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.shutdown();
    std::vector<std::function<void()>> fns(3, [] {});
    EXPECT_THROW(ex.submit_batch(fns), executor_shut_down);
}

TEST(Post, IsCountedWaitedForAndReportsFailures) {
    std::atomic<int> errors{0};
    executor_config config{.threads = 2, .io_threads = 1};
    config.on_error = [&](const task_info&, std::exception_ptr) { errors.fetch_add(1); };
    executor ex(config);
    std::atomic<int> ran{0};
    for (int i = 0; i < 500; ++i) ex.post([&] { ran.fetch_add(1); });
    ex.post([] { throw std::runtime_error("lost?"); }, {.name = "fails"});
    ex.wait_all();
    EXPECT_EQ(ran.load(), 500);
    EXPECT_EQ(errors.load(), 1);
    auto c = ex.counts();
    EXPECT_EQ(c.total, 501u);
    EXPECT_EQ(c.failed, 1u);
}

TEST(Post, AfterShutdownThrows) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.shutdown();
    EXPECT_THROW(ex.post([] {}), executor_shut_down);
}

TEST(WhenAllHandles, GetFromOrdinaryCodeReturnsResultsInOrder) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::vector<task_handle<int>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(ex.submit([i] { return i; }));
    auto results = when_all(hs).get();
    ASSERT_EQ(results.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)], i);
}

TEST(WhenAllHandles, RethrowsTheFirstFailureByPosition) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::vector<task_handle<int>> hs;
    hs.push_back(ex.submit([] { return 1; }));
    hs.push_back(ex.submit([]() -> int { throw std::invalid_argument("second"); }));
    hs.push_back(ex.submit([]() -> int { throw std::runtime_error("third"); }));
    EXPECT_THROW(when_all(hs).get(), std::invalid_argument);
    EXPECT_THROW(when_all(std::vector<task_handle<int>>{task_handle<int>{}}), std::invalid_argument);
}

namespace {
task<int> sum_of(std::vector<task_handle<int>> hs) {
    int sum = 0;
    for (int v : co_await when_all(std::move(hs))) sum += v;
    co_return sum;
}
}  // namespace

TEST(WhenAllHandles, CoAwaitSuspendsOnceUntilAllFinished) {
    test::gate held;
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::vector<task_handle<int>> hs;
    hs.push_back(ex.submit([&] {
        held.hold();
        return 10;
    }));
    for (int i = 0; i < 50; ++i) hs.push_back(ex.submit([] { return 1; }));
    ASSERT_TRUE(held.wait_held());
    auto total = ex.spawn(sum_of(hs));
    held.open();
    EXPECT_EQ(total.get(), 60);
}

TEST(WhenAllHandles, CoAwaitOnHandlesOfAnotherExecutor) {
    executor a(executor_config{.threads = 1, .io_threads = 1});
    executor b(executor_config{.threads = 1, .io_threads = 1});
    std::vector<task_handle<int>> hs;
    for (int i = 0; i < 20; ++i) hs.push_back(b.submit([] { return 2; }));
    EXPECT_EQ(a.spawn(sum_of(hs)).get(), 40);
}

TEST(CrossExecutorWaits, NestedWaitsAcrossTwoSingleThreadExecutorsFinish) {
    // A's only worker waits on B's task, which waits on a task queued on A:
    // A's worker must run A's queue while it waits.
    executor a(executor_config{.threads = 1, .io_threads = 1});
    executor b(executor_config{.threads = 1, .io_threads = 1});
    auto outer = a.submit([&] {
        auto middle = b.submit([&] {
            auto inner = a.submit([] { return 5; });
            return inner.get() + 1;
        });
        return middle.get() + 1;
    });
    ASSERT_TRUE(outer.wait_for(test::generous));
    EXPECT_EQ(outer.get(), 7);
}

TEST(ExecutorSizes, AbsurdSizesAreRefusedBeforeAnythingStarts) {
    EXPECT_THROW(executor(executor_config{.threads = 4097}), std::invalid_argument);
    EXPECT_THROW(executor(executor_config{.threads = 1, .io_threads = 1000000}), std::invalid_argument);
    EXPECT_THROW(executor(executor_config{.threads = -1}), std::invalid_argument);
}
