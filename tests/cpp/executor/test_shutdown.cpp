// Shutdown: draining, cancelling, idempotence, from a worker, submit after.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

TEST(Shutdown, DrainRunsQueuedWork) {
    std::atomic<int> ran{0};
    test::event release;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.submit([&] { release.wait(); });
    std::vector<task_handle<void>> queued;
    for (int i = 0; i < 100; ++i) queued.push_back(ex.submit([&] { ran++; }));
    release.set();
    ex.shutdown(true);
    EXPECT_EQ(ran.load(), 100);
    for (auto& h : queued) EXPECT_EQ(h.state(), task_state::completed);
    EXPECT_TRUE(ex.is_shut_down());
}

TEST(Shutdown, CancelModeCancelsQueuedAndFinishesRunning) {
    test::gate gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto running = ex.submit([&] {
        gate.hold();
        return 1;
    });
    ASSERT_TRUE(gate.wait_held());
    std::vector<task_handle<int>> queued;
    for (int i = 0; i < 50; ++i) queued.push_back(ex.submit([] { return 2; }));
    std::thread stopper([&] { ex.shutdown(false); });
    // Cancellation is immediate; the running task still finishes.
    for (auto& h : queued) EXPECT_TRUE(h.wait_for(test::generous));
    for (auto& h : queued) EXPECT_EQ(h.state(), task_state::cancelled);
    gate.open();
    stopper.join();
    EXPECT_EQ(running.get(), 1);
    auto c = ex.counts();
    EXPECT_EQ(c.cancelled, 50u);
    EXPECT_EQ(c.completed, 1u);
    EXPECT_EQ(c.total, 51u);
}

TEST(Shutdown, SubmitAfterShutdownThrows) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.shutdown();
    EXPECT_THROW(ex.submit([] {}), executor_shut_down);
    EXPECT_THROW(ex.spawn([]() -> task<void> { co_return; }()), executor_shut_down);
}

TEST(Shutdown, TwiceIsSafe) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    ex.submit([] {});
    ex.shutdown();
    ex.shutdown(false);
    ex.shutdown();
}

TEST(Shutdown, FromAWorkerIsSafe) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto h = ex.submit([&] { ex.shutdown(); });
    EXPECT_TRUE(h.wait_for(test::generous));
    EXPECT_TRUE(ex.is_shut_down());
}

TEST(Shutdown, DestructorDrains) {
    std::atomic<int> ran{0};
    {
        executor ex(executor_config{.threads = 2, .io_threads = 1});
        for (int i = 0; i < 1000; ++i) ex.submit([&] { ran++; });
    }
    EXPECT_EQ(ran.load(), 1000);
}

TEST(Shutdown, HandlesOutliveTheExecutor) {
    task_handle<int> h;
    {
        executor ex(executor_config{.threads = 1, .io_threads = 1});
        h = ex.submit([] { return 3; });
    }
    EXPECT_EQ(h.get(), 3);
}

TEST(Shutdown, ConcurrentSubmitAndShutdownLoseNothing) {
    for (int round = 0; round < 20; ++round) {
        executor ex(executor_config{.threads = 2, .io_threads = 1});
        std::atomic<int> accepted{0}, ran{0};
        std::vector<task_handle<void>> handles;
        std::mutex m;
        std::thread producer([&] {
            for (int i = 0; i < 2000; ++i) {
                try {
                    auto h = ex.submit([&] { ran++; });
                    accepted++;
                    std::lock_guard<std::mutex> g(m);
                    handles.push_back(h);
                } catch (const executor_shut_down&) {
                    break;
                }
            }
        });
        ex.shutdown(round % 2 == 0);
        producer.join();
        // Every accepted task either ran or says it was cancelled.
        int cancelled = 0;
        for (auto& h : handles) {
            ASSERT_TRUE(h.wait_for(test::generous));
            if (h.state() == task_state::cancelled) cancelled++;
        }
        EXPECT_EQ(ran.load() + cancelled, accepted.load());
        // A submit that threw is no task: the counts hold only accepted ones.
        const task_counts c = ex.counts();
        EXPECT_EQ(c.total, static_cast<std::uint64_t>(accepted.load()));
        EXPECT_EQ(c.cancelled, static_cast<std::uint64_t>(cancelled));
    }
}

TEST(Shutdown, SubmittersRacingShutdownLeaveCountsOfAcceptedTasksOnly) {
    // Eight submitters against shutdown(): the late-refusal path (queued,
    // then cancelled and thrown) must take its count back. The window is
    // narrow: about one round in a hundred hits it.
    // Every task holds a copy of `alive`: a task whose record outlives its
    // executor (a refused job queued after the workers had exited) keeps
    // one, and the count says so.
    auto alive = std::make_shared<int>(0);
    for (int round = 0; round < 400; ++round) {
        {
            executor ex(executor_config{.threads = 2, .io_threads = 1});
            std::atomic<std::uint64_t> accepted{0};
            test::event go;
            std::vector<std::thread> submitters;
            for (int t = 0; t < 8; ++t) {
                submitters.emplace_back([&] {
                    go.wait();
                    try {
                        for (;;) {
                            ex.submit([alive] {});
                            accepted++;
                        }
                    } catch (const executor_shut_down&) {
                    }
                });
            }
            go.set();
            ex.shutdown(round % 2 == 0);
            for (auto& t : submitters) t.join();
            ex.wait_all();
            const task_counts c = ex.counts();
            EXPECT_EQ(c.total, accepted.load());
            EXPECT_EQ(c.completed + c.cancelled, accepted.load());
        }
        ASSERT_EQ(alive.use_count(), 1) << "a task outlived its executor in round " << round;
    }
}
