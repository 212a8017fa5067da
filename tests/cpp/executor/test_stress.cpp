// A million tasks from several producers with random failures and
// cancellations; counts must be exact.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

namespace {
int stress_tasks() {
    // Sanitizer builds are 5-20x slower; they still cover every path.
    if (const char* env = std::getenv("DFTRACER_STRESS_TASKS")) return std::atoi(env);
    return 1'000'000;
}
}  // namespace

TEST(Stress, MillionTasksFromFourProducersWithErrorsAndCancels) {
    executor ex(executor_config{.threads = 2, .io_threads = 2, .history_size = 256});
    const int total = stress_tasks();
    const int producers = 4;
    std::atomic<long> ran{0}, thrown{0}, cancelled{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            std::mt19937 rng(static_cast<unsigned>(p) * 7919u + 1u);
            for (int i = p; i < total; i += producers) {
                const bool fail = rng() % 10 == 0;
                const auto pool = rng() % 4 == 0 ? pool_kind::io : pool_kind::compute;
                auto h = ex.submit(
                    [&, fail] {
                        ran++;
                        if (fail) {
                            thrown++;
                            throw std::runtime_error("planned");
                        }
                    },
                    {.pool = pool});
                if (rng() % 20 == 0 && h.cancel()) cancelled++;
            }
        });
    }
    for (auto& t : threads) t.join();
    ex.wait_all();
    auto c = ex.counts();
    EXPECT_EQ(c.total, static_cast<std::uint64_t>(total));
    EXPECT_EQ(c.queued, 0u);
    EXPECT_EQ(c.running, 0u);
    EXPECT_EQ(c.cancelled, static_cast<std::uint64_t>(cancelled.load()));
    EXPECT_EQ(c.failed, static_cast<std::uint64_t>(thrown.load()));
    EXPECT_EQ(c.completed, static_cast<std::uint64_t>(ran.load() - thrown.load()));
    EXPECT_EQ(c.total, c.completed + c.failed + c.cancelled);
    EXPECT_LE(ex.snapshot().tasks.size(), 256u);
}

TEST(Stress, CountsAlwaysAddUpWhileRunning) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<bool> stop{false};
    std::atomic<long> checks{0}, bad{0};
    std::thread observer([&] {
        while (!stop) {
            auto c = ex.counts();
            if (c.total != c.queued + c.running + c.completed + c.failed + c.cancelled) bad++;
            checks++;
        }
    });
    for (int i = 0; i < stress_tasks() / 10; ++i) {
        auto h = ex.submit([i] {
            if (i % 7 == 0) throw std::logic_error("x");
        });
        if (i % 13 == 0) h.cancel();
    }
    ex.wait_all();
    stop = true;
    observer.join();
    EXPECT_GT(checks.load(), 0);
    EXPECT_EQ(bad.load(), 0);
}

TEST(Stress, ConcurrentSnapshotsDuringWork) {
    executor ex(executor_config{.threads = 2, .io_threads = 1, .history_size = 64});
    std::atomic<bool> stop{false};
    std::thread observer([&] {
        while (!stop) {
            auto s = ex.snapshot({.include_tasks = true, .max_queued_tasks = 50});
            (void)s;
            ex.find_task(s.counts.total / 2);
        }
    });
    for (int i = 0; i < 20000; ++i) {
        ex.submit(
            [&ex, i] {
                if (i % 100 == 0) ex.submit([] {}).get();
            },
            {.name = "t"});
    }
    ex.wait_all();
    stop = true;
    observer.join();
    EXPECT_EQ(ex.counts().completed, 20000u + 200u);
}

// Waiters that arrive while a task is finishing (the finisher decides, from
// the state word alone, whether anyone listens) must all be woken with the
// value: two threads wait on every task while the workers finish them.
TEST(Stress, WaitersRacingTheFinishAreAllWoken) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    const int total = stress_tasks() / 20;
    std::vector<task_handle<int>> handles;
    handles.reserve(static_cast<std::size_t>(total));
    std::atomic<int> published{0};
    std::atomic<long> seen{0};
    auto waiter = [&] {
        for (int i = 0; i < total; ++i) {
            while (published.load(std::memory_order_acquire) <= i) std::this_thread::yield();
            if (handles[static_cast<std::size_t>(i)].get() == i) seen++;
        }
    };
    std::thread a(waiter), b(waiter);
    for (int i = 0; i < total; ++i) {
        handles.push_back(ex.submit([i] { return i; }));
        published.store(i + 1, std::memory_order_release);
    }
    a.join();
    b.join();
    EXPECT_EQ(seen.load(), 2L * total);
}
