// The sampling thread against the real clock: each report kind arrives, and
// within the documented latency (threshold + two intervals) plus generous
// slack for loaded or sanitized runs. Every wait is on an event with a 30 s
// bound; nothing sleeps and hopes.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "watchdog_support.hpp"

using namespace dftracer;
using namespace dftracer::test;

namespace {

constexpr auto interval = 20ms;
constexpr auto threshold = 200ms;
// Scheduling noise allowance on top of threshold + 2 intervals.
constexpr auto slack = 5s;

watchdog_config realtime(report_kind only) {
    watchdog_config c;
    c.interval = interval;
    c.log_sink = nullptr;
    c.slow_threshold = only == report_kind::slow ? threshold : 0ms;
    c.stall_threshold = only == report_kind::stall ? threshold : 0ms;
    c.deadlock_threshold = only == report_kind::deadlock ? threshold : 0ms;
    return c;
}

/// Records the first report of a kind and when it arrived.
struct first_report {
    std::mutex m;
    event arrived;
    watchdog_report report;
    clock::time_point at;
    report_callback callback(report_kind kind) {
        return [this, kind](const watchdog_report& r) {
            if (r.kind != kind || arrived.is_set()) return;
            {
                std::lock_guard<std::mutex> guard(m);
                report = r;
                at = clock::now();
            }
            arrived.set();
        };
    }
    watchdog_report get() {
        std::lock_guard<std::mutex> guard(m);
        return report;
    }
    clock::time_point when() {
        std::lock_guard<std::mutex> guard(m);
        return at;
    }
};

}  // namespace

TEST(WatchdogRealtime, SlowTaskReportedWithinThresholdPlusTwoIntervals) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    first_report first;  // outlives the watchdog thread that calls into it
    watchdog wd(realtime(report_kind::slow));
    wd.add_callback(first.callback(report_kind::slow));
    wd.watch(ex);
    std::atomic<std::int64_t> started_ns{0};
    auto h = ex.submit(
        [&] {
            started_ns = clock::now().time_since_epoch().count();
            first.arrived.wait();  // runs until reported (bounded)
        },
        {.name = "sleepy"});
    ASSERT_TRUE(first.arrived.wait());
    h.wait();
    const auto r = first.get();
    EXPECT_EQ(r.task_id, h.id());
    EXPECT_EQ(r.task_name, "sleepy");
    EXPECT_GE(r.elapsed, threshold);
    const auto latency = first.when() - clock::time_point(std::chrono::nanoseconds(started_ns.load()));
    EXPECT_GE(latency, threshold);
    EXPECT_LT(latency, threshold + 2 * interval + slack);
    wd.unwatch(ex);
}

TEST(WatchdogRealtime, TimeoutReleasesWaitersAndStopsACooperativeTask) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    first_report first;
    watchdog wd(realtime(report_kind::timeout));
    wd.add_callback(first.callback(report_kind::timeout));
    wd.watch(ex);
    event saw_stop;
    auto h = ex.submit(
        [&] {
            const auto give_up = std::chrono::steady_clock::now() + generous;
            while (!this_task::stop_requested() && std::chrono::steady_clock::now() < give_up) {
                std::this_thread::yield();
            }
            if (this_task::stop_requested()) saw_stop.set();
        },
        {.name = "spinner", .timeout = 100ms});
    const auto submitted = clock::now();
    EXPECT_THROW(h.get(), task_timeout);
    EXPECT_LT(clock::now() - submitted, 100ms + 2 * interval + slack);
    EXPECT_TRUE(saw_stop.wait());
    ASSERT_TRUE(first.arrived.wait());
    EXPECT_EQ(first.get().task_name, "spinner");
    wd.unwatch(ex);
    ex.shutdown();  // the handle failed before the body returned
}

TEST(WatchdogRealtime, StallIsReported) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    first_report first;
    watchdog wd(realtime(report_kind::stall));
    wd.add_callback(first.callback(report_kind::stall));
    wd.watch(ex);
    event started;
    auto hog = ex.submit(
        [&] {
            started.set();
            first.arrived.wait();
        },
        {.name = "hog"});
    ASSERT_TRUE(started.wait());
    const auto queued_at = clock::now();
    auto queued = ex.submit([] {});
    ASSERT_TRUE(first.arrived.wait());
    EXPECT_EQ(first.get().task_name, "hog");
    EXPECT_GE(first.get().elapsed, threshold);
    EXPECT_LT(first.when() - queued_at, threshold + 2 * interval + slack);
    queued.wait();
    wd.unwatch(ex);
}

TEST(WatchdogRealtime, DeadlockIsReportedAndWatchingContinues) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    first_report first;
    counter deadlocks;
    watchdog wd(realtime(report_kind::deadlock));
    wd.add_callback(first.callback(report_kind::deadlock));
    wd.add_callback([&](const watchdog_report& r) {
        if (r.kind == report_kind::deadlock) deadlocks.add();
    });
    wd.watch(ex);
    event a_started, b_started, ready;
    task_handle<void> a, b;
    a = ex.submit(
        [&] {
            a_started.set();
            ready.wait();
            b.wait();
        },
        {.name = "a"});
    b = ex.submit(
        [&] {
            b_started.set();
            ready.wait();
            a.wait();
        },
        {.name = "b"});
    ASSERT_TRUE(a_started.wait());
    ASSERT_TRUE(b_started.wait());
    const auto blocked_from = clock::now();
    ready.set();
    ASSERT_TRUE(first.arrived.wait());
    EXPECT_EQ(first.get().cycle.size(), 2u);
    EXPECT_LT(first.when() - blocked_from, threshold + 2 * interval + slack);
    ASSERT_TRUE(deadlocks.wait_at_least(2));  // the doubling repeat at 2x threshold
    EXPECT_TRUE(ex.fail_task(a.id(), std::make_exception_ptr(std::runtime_error("broken by the test"))));
    b.wait();
    wd.unwatch(ex);
    ex.shutdown();  // a's handle failed before its body returned
}

TEST(WatchdogRealtime, BusyExecutorUnderAFastWatchdogReportsNothingSpurious) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    watchdog_config c;
    c.interval = 1ms;
    c.log_sink = nullptr;
    c.slow_threshold = 10s;
    c.stall_threshold = 10s;
    c.deadlock_threshold = 10s;
    std::atomic<int> reports{0};
    watchdog wd(c);
    wd.add_callback([&](const watchdog_report&) { reports.fetch_add(1); });
    wd.watch(ex);
    const char* env = std::getenv("DFTRACER_STRESS_TASKS");
    const int n = env != nullptr ? std::max(1000, std::atoi(env) / 10) : 100'000;
    std::atomic<int> done{0};
    for (int i = 0; i < n; ++i) {
        ex.submit([&] { done.fetch_add(1, std::memory_order_relaxed); },
                  {.pool = i % 7 == 0 ? pool_kind::io : pool_kind::compute, .timeout = i % 3 == 0 ? 10s : 0s});
    }
    ex.wait_all();
    EXPECT_EQ(done.load(), n);
    EXPECT_EQ(ex.counts().completed, static_cast<std::uint64_t>(n));
    wd.unwatch(ex);
    EXPECT_EQ(reports.load(), 0);
}
