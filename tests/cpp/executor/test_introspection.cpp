// Counts, worker views, task records and bounded history.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

namespace {
void expect_adds_up(const task_counts& c) {
    EXPECT_EQ(c.total, c.queued + c.running + c.completed + c.failed + c.cancelled);
}
}  // namespace

TEST(Introspection, CountsAndWorkersWhileBusy) {
    test::gate gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto running = ex.submit([&] { gate.hold(); }, {.name = "blocker"});
    ASSERT_TRUE(gate.wait_held());
    auto queued = ex.submit([] {}, {.name = "waiting-in-line"});

    auto snap = ex.snapshot();
    expect_adds_up(snap.counts);
    EXPECT_EQ(snap.counts.total, 2u);
    EXPECT_EQ(snap.counts.running, 1u);
    EXPECT_EQ(snap.counts.queued, 1u);
    ASSERT_EQ(snap.workers.size(), 2u);
    const auto& w0 = snap.workers[0];
    EXPECT_EQ(w0.pool, pool_kind::compute);
    EXPECT_FALSE(w0.idle);
    EXPECT_EQ(w0.task_id, running.id());
    EXPECT_EQ(w0.task_name, "blocker");
    EXPECT_GT(w0.running_since.time_since_epoch().count(), 0);
    EXPECT_EQ(w0.queue_depth, 1u);
    EXPECT_TRUE(snap.workers[1].idle);
    EXPECT_EQ(snap.workers[1].pool, pool_kind::io);

    ASSERT_EQ(snap.tasks.size(), 2u);
    EXPECT_EQ(snap.tasks[0].name, "blocker");
    EXPECT_EQ(snap.tasks[0].state, task_state::running);
    EXPECT_EQ(snap.tasks[0].worker, 0);
    EXPECT_EQ(snap.tasks[1].state, task_state::queued);

    auto samples = ex.sample_workers();
    EXPECT_EQ(samples[0].task_id, running.id());
    gate.open();
    ex.wait_all();
    auto after = ex.counts();
    EXPECT_EQ(after.completed, 2u);
    expect_adds_up(after);
}

TEST(Introspection, FinishedTaskRecordHasTimesAndError) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([] { throw std::runtime_error("bad trace line"); }, {.name = "parse"});
    h.wait();
    ex.wait_all();
    auto info = ex.find_task(h.id());
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->name, "parse");
    EXPECT_EQ(info->state, task_state::failed);
    EXPECT_EQ(info->error, "bad trace line");
    EXPECT_EQ(info->worker, 0);
    EXPECT_LE(info->queued_at, info->started_at);
    EXPECT_LE(info->started_at, info->finished_at);
}

TEST(Introspection, TaskClaimedInsideAnotherStartsAfterItWasQueued) {
    // One worker: `outer` runs `first` inline while waiting for it, then runs
    // its own code, then submits and waits for `second`, which also runs
    // inline. `second` must not take `first`'s finish as its start time.
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    std::uint64_t first_id = 0, second_id = 0;
    auto outer = ex.submit([&] {
        auto first = ex.submit([] {});
        first_id = first.id();
        first.get();
        const auto busy_until = clock::now() + std::chrono::milliseconds(2);
        while (clock::now() < busy_until) {
        }
        auto second = ex.submit([] {});
        second_id = second.id();
        second.get();
    });
    outer.get();
    auto first = ex.find_task(first_id);
    auto second = ex.find_task(second_id);
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(second.has_value());
    EXPECT_LE(first->finished_at, second->queued_at);
    EXPECT_LE(second->queued_at, second->started_at);
    EXPECT_LE(second->started_at, second->finished_at);
}

TEST(Introspection, TaskWaitedForInErrorHookStartsAfterItWasQueued) {
    // The error hook runs on the worker while the failed task finishes; a
    // task it submits and waits for runs inline after the hook's own work.
    executor* self = nullptr;
    std::uint64_t inner_id = 0;
    executor_config config{.threads = 1, .io_threads = 1};
    config.on_error = [&](const task_info&, std::exception_ptr) {
        const auto busy_until = clock::now() + std::chrono::milliseconds(2);
        while (clock::now() < busy_until) {
        }
        auto inner = self->submit([] {});
        inner_id = inner.id();
        inner.get();
    };
    executor ex(config);
    self = &ex;
    ex.submit([] { throw std::runtime_error("bad line"); }).wait();
    ex.wait_all();
    auto inner = ex.find_task(inner_id);
    ASSERT_TRUE(inner.has_value());
    EXPECT_LE(inner->queued_at, inner->started_at);
    EXPECT_LE(inner->started_at, inner->finished_at);
}

TEST(Introspection, HistoryIsBoundedCountsStayExact) {
    executor ex(executor_config{.threads = 2, .io_threads = 1, .history_size = 16});
    for (int i = 0; i < 5000; ++i) ex.submit([] {});
    ex.wait_all();
    auto snap = ex.snapshot();
    EXPECT_EQ(snap.counts.completed, 5000u);
    EXPECT_LE(snap.tasks.size(), 16u);
    EXPECT_GE(snap.tasks.size(), 1u);
}

TEST(Introspection, QueuedListingIsCapped) {
    test::gate gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.submit([&] { gate.hold(); });
    ASSERT_TRUE(gate.wait_held());
    for (int i = 0; i < 100; ++i) ex.submit([] {});
    auto snap = ex.snapshot({.include_tasks = true, .max_queued_tasks = 10});
    EXPECT_EQ(snap.counts.queued, 100u);
    auto queued = std::count_if(snap.tasks.begin(), snap.tasks.end(),
                                [](const task_info& t) { return t.state == task_state::queued; });
    EXPECT_EQ(queued, 10);
    gate.open();
}

TEST(Introspection, WaitingWorkerReportsWhatItWaitsFor) {
    test::gate io_gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto io = ex.submit([&] { io_gate.hold(); }, {.pool = pool_kind::io});
    ASSERT_TRUE(io_gate.wait_held());
    auto waiter = ex.submit([&] { io.wait(); });
    bool seen = false;
    for (int i = 0; i < 3000 && !seen; ++i) {
        seen = ex.sample_workers()[0].waiting_for == io.id();
        if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(seen);
    io_gate.open();
    waiter.wait();
}

TEST(Introspection, CoroutineSuspendedIsStillRunning) {
    test::event release;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto io = ex.submit([&] { release.wait(); }, {.pool = pool_kind::io});
    auto h = ex.spawn([](task_handle<void> dep) -> task<void> { co_await dep; }(io), {.name = "coro"});
    bool seen_suspended = false;
    for (int i = 0; i < 3000 && !seen_suspended; ++i) {
        auto snap = ex.snapshot();
        auto it =
            std::find_if(snap.tasks.begin(), snap.tasks.end(), [&](const task_info& t) { return t.id == h.id(); });
        seen_suspended = it != snap.tasks.end() && it->state == task_state::running && snap.workers[0].idle;
        if (!seen_suspended) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(seen_suspended);
    release.set();
    h.get();
}

TEST(Introspection, FailTaskReleasesWaitersWhileBodyRuns) {
    test::gate gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([&] {
        gate.hold();
        return this_task::stop_requested();
    });
    ASSERT_TRUE(gate.wait_held());
    EXPECT_TRUE(ex.fail_task(h.id(), std::make_exception_ptr(task_timeout("too slow"))));
    EXPECT_THROW(h.get(), task_timeout);
    EXPECT_FALSE(ex.fail_task(h.id(), std::make_exception_ptr(std::runtime_error("again"))));
    gate.open();
    ex.wait_all();
    EXPECT_EQ(ex.counts().failed, 1u);
    EXPECT_EQ(ex.counts().completed, 0u);
}

// A failing task's run writes its error while it is still running; a
// snapshot taken meanwhile must read the error only once the task is
// terminal (ThreadSanitizer reports the race otherwise, and a half-written
// message could be copied).
TEST(Introspection, SnapshotsWhileTasksFailSeeErrorsOnlyWhenTerminal) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    std::atomic<bool> done{false};
    std::atomic<int> bad{0};
    std::thread reader([&] {
        while (!done.load(std::memory_order_acquire)) {
            for (const auto& t : ex.snapshot({.include_tasks = true}).tasks) {
                const bool failed = t.state == task_state::failed;
                if (failed != !t.error.empty()) bad.fetch_add(1, std::memory_order_relaxed);
            }
        }
    });
    const std::string message(200, 'x');
    for (int i = 0; i < 2000; ++i) ex.submit([&] { throw std::runtime_error(message); });
    ex.wait_all();
    done.store(true, std::memory_order_release);
    reader.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(ex.counts().failed, 2000u);
}
