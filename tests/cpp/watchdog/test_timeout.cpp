// Per-task timeouts: the handle fails with task_timeout at the deadline and
// stop is requested; the body is never killed; coroutines are cancelled at
// their next suspension point.
#include <gtest/gtest.h>

#include <atomic>

#include "watchdog_support.hpp"

using namespace dftracer;
using namespace dftracer::test;

namespace {

watchdog_config timeouts_only() {
    auto c = manual_config();
    c.slow_threshold = 0ms;
    c.stall_threshold = 0ms;
    c.deadlock_threshold = 0ms;
    return c;
}

/// Body that spins until asked to stop, then reports it and waits to be let go.
struct cooperative_task {
    event started, saw_stop, release;
    task_handle<int> handle;

    executor& ex;

    cooperative_task(executor& e, std::chrono::nanoseconds timeout) : ex(e) {
        handle = ex.submit(
            [this] {
                started.set();
                const auto give_up = std::chrono::steady_clock::now() + generous;
                while (!this_task::stop_requested() && std::chrono::steady_clock::now() < give_up) {
                    std::this_thread::yield();
                }
                if (this_task::stop_requested()) saw_stop.set();
                release.wait();
                return 42;
            },
            {.name = "parse-trace", .timeout = timeout});
        EXPECT_TRUE(started.wait());
    }
    // A timed-out handle is done while its body still runs: joining the
    // workers is what guarantees the body no longer uses this object.
    ~cooperative_task() {
        release.set();
        ex.shutdown();
    }
};

clock::time_point started_at(const executor& ex, std::uint64_t id) {
    auto info = ex.find_task(id);
    EXPECT_TRUE(info.has_value());
    return info ? info->started_at : clock::time_point{};
}

}  // namespace

TEST(WatchdogTimeout, FailsTheHandleAtTheDeadlineAndRequestsStop) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(timeouts_only());
    wd.watch(ex);
    cooperative_task task(ex, 2s);
    const auto start = started_at(ex, task.handle.id());

    EXPECT_TRUE(wd.check_at(start + 1999ms).empty());
    EXPECT_FALSE(task.handle.done());

    auto reports = wd.check_at(start + 2s);
    ASSERT_EQ(reports.size(), 1u);
    const auto& r = reports[0];
    EXPECT_EQ(r.kind, report_kind::timeout);
    EXPECT_EQ(r.task_id, task.handle.id());
    EXPECT_EQ(r.task_name, "parse-trace");
    EXPECT_EQ(r.worker, 0);
    EXPECT_NE(r.native_thread, 0u);
    EXPECT_EQ(r.elapsed, std::chrono::nanoseconds(2s));
    EXPECT_NE(r.message.find("timeout of 2.000s"), std::string::npos) << r.message;

    // Waiters are released now, while the body is still running.
    EXPECT_TRUE(task.handle.done());
    EXPECT_EQ(task.handle.state(), task_state::failed);
    EXPECT_THROW(task.handle.get(), task_timeout);
    try {
        task.handle.get();
    } catch (const task_timeout& e) {
        EXPECT_NE(std::string(e.what()).find("'parse-trace'"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(task.saw_stop.wait());
    EXPECT_FALSE(task.release.is_set());  // never killed: it is still in its body

    // Reported once: the task no longer has a live deadline.
    EXPECT_TRUE(wd.check_at(start + 1h).empty());
}

TEST(WatchdogTimeout, CoroutineIsCancelledAtItsNextSuspensionPoint) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(timeouts_only());
    wd.watch(ex);
    event started, cancelled;
    std::atomic<int> rounds{0};
    auto body = [&]() -> task<int> {
        started.set();
        try {
            for (;;) {
                rounds.fetch_add(1, std::memory_order_relaxed);
                co_await yield();
            }
        } catch (const task_cancelled&) {
            cancelled.set();
            throw;
        }
        co_return 0;
    };
    auto h = ex.spawn(body(), {.name = "coro", .timeout = 1s});
    ASSERT_TRUE(started.wait());
    const auto start = started_at(ex, h.id());
    auto reports = wd.check_at(start + 1s);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].kind, report_kind::timeout);
    EXPECT_EQ(reports[0].task_name, "coro");
    EXPECT_THROW(h.get(), task_timeout);  // the handle keeps the timeout error
    EXPECT_TRUE(cancelled.wait());
    ex.shutdown();  // the failed handle does not wait for the coroutine's end
    EXPECT_GT(rounds.load(), 0);
}

TEST(WatchdogTimeout, DeadlineCountsFromStartNotFromSubmit) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(timeouts_only());
    wd.watch(ex);
    gate held;
    auto blocker = ex.submit([&] { held.hold(); });
    ASSERT_TRUE(held.wait_held());
    auto queued = ex.submit([] { return 1; }, {.name = "queued", .timeout = 1s});
    EXPECT_TRUE(wd.check_at(clock::now() + 1h).empty());  // never started: no deadline
    held.open();
    EXPECT_EQ(queued.get(), 1);
}

TEST(WatchdogTimeout, FinishedTaskIsNotTimedOut) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(timeouts_only());
    wd.watch(ex);
    auto h = ex.submit([] { return 7; }, {.timeout = 1ms});
    EXPECT_EQ(h.get(), 7);
    ex.wait_all();
    EXPECT_TRUE(wd.check_at(clock::now() + 1h).empty());
    EXPECT_EQ(h.get(), 7);
}

TEST(WatchdogTimeout, NotEnforcedWhenDisabled) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto config = timeouts_only();
    config.enforce_timeouts = false;
    watchdog wd(config);
    wd.watch(ex);
    cooperative_task task(ex, 1s);
    EXPECT_TRUE(wd.check_at(started_at(ex, task.handle.id()) + 1h).empty());
    EXPECT_FALSE(task.handle.done());
    EXPECT_FALSE(task.saw_stop.is_set());
    task.release.set();
    task.handle.request_stop();
    EXPECT_EQ(task.handle.get(), 42);
}

TEST(WatchdogTimeout, TimedOutTaskStillRunningIsReportedSlowWithItsState) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto config = manual_config();
    watchdog wd(config);
    wd.watch(ex);
    cooperative_task task(ex, 1s);
    const auto start = started_at(ex, task.handle.id());
    EXPECT_EQ(of_kind(wd.check_at(start + 1s), report_kind::timeout).size(), 1u);
    ASSERT_TRUE(task.saw_stop.wait());
    auto slow = of_kind(wd.check_at(ex.sample_workers()[0].running_since + 10s), report_kind::slow);
    ASSERT_EQ(slow.size(), 1u);
    EXPECT_NE(slow[0].message.find("already failed"), std::string::npos) << slow[0].message;
    EXPECT_NE(slow[0].message.find("still running"), std::string::npos) << slow[0].message;
}
