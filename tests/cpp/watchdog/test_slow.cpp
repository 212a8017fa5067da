// Slow tasks: reported at the threshold, again at each doubling, never when
// the check is disabled; deterministic through check_at().
#include <gtest/gtest.h>

#include "watchdog_support.hpp"

using namespace dftracer;
using namespace dftracer::test;

namespace {

struct blocked_task {
    gate held;
    task_handle<void> handle;
    worker_sample sample;

    blocked_task(executor& ex, std::string name, pool_kind pool = pool_kind::compute) {
        handle = ex.submit([this] { held.hold(); }, {.name = std::move(name), .pool = pool});
        EXPECT_TRUE(held.wait_held());
        sample = sample_running(ex, handle.id());
    }
    ~blocked_task() {
        held.open();
        handle.wait();
    }
};

}  // namespace

TEST(WatchdogSlow, ReportedAtThresholdWithFullIdentity) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(manual_config());
    wd.watch(ex);
    blocked_task task(ex, "read-chunk");
    const auto since = task.sample.running_since;

    EXPECT_TRUE(of_kind(wd.check_at(since + 9999ms), report_kind::slow).empty());
    auto reports = of_kind(wd.check_at(since + 10s), report_kind::slow);
    ASSERT_EQ(reports.size(), 1u);
    const auto& r = reports[0];
    EXPECT_EQ(r.source, &ex);
    EXPECT_EQ(r.pool, pool_kind::compute);
    EXPECT_EQ(r.task_id, task.handle.id());
    EXPECT_EQ(r.task_name, "read-chunk");
    EXPECT_EQ(r.worker, 0);
    EXPECT_NE(r.native_thread, 0u);
    EXPECT_EQ(r.native_thread, task.sample.native_thread);
    EXPECT_EQ(r.elapsed, std::chrono::nanoseconds(10s));
    EXPECT_NE(r.message.find("'read-chunk'"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("10.000s"), std::string::npos) << r.message;
    ASSERT_EQ(r.workers, std::vector<int>{0});
    EXPECT_EQ(r.native_threads, std::vector<std::uint64_t>{r.native_thread});
    EXPECT_TRUE(r.cycle.empty());
}

TEST(WatchdogSlow, RepeatsEachTimeTheRunningTimeDoubles) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(manual_config());
    wd.watch(ex);
    blocked_task task(ex, "stuck");
    const auto since = task.sample.running_since;
    auto slow_at = [&](std::chrono::milliseconds t) {
        return of_kind(wd.check_at(since + t), report_kind::slow).size();
    };

    EXPECT_EQ(slow_at(10s), 1u);
    EXPECT_EQ(slow_at(10s), 0u);  // once per level
    EXPECT_EQ(slow_at(15s), 0u);
    EXPECT_EQ(slow_at(19999ms), 0u);
    EXPECT_EQ(slow_at(20s), 1u);
    EXPECT_EQ(slow_at(39s), 0u);
    EXPECT_EQ(slow_at(40s), 1u);
    EXPECT_EQ(slow_at(80s), 1u);
    // A jump over several levels gives one report, then the next doubling.
    EXPECT_EQ(slow_at(1000s), 1u);
    EXPECT_EQ(slow_at(1279s), 0u);
    EXPECT_EQ(slow_at(1280s), 1u);
    // An hour-long hang stays visible: about nine lines, not one.
    std::size_t total = 0;
    for (int s = 1281; s <= 3600 * 8; s += 60) total += slow_at(std::chrono::seconds(s));
    EXPECT_EQ(total, 4u);  // 2560, 5120, 10240, 20480
}

TEST(WatchdogSlow, DisabledWithZeroThreshold) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto config = manual_config();
    config.slow_threshold = 0ms;
    watchdog wd(config);
    wd.watch(ex);
    blocked_task task(ex, "long");
    EXPECT_TRUE(wd.check_at(task.sample.running_since + 1h).empty());
}

TEST(WatchdogSlow, CustomThresholdAndOneReportPerSlowWorker) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto config = manual_config();
    config.slow_threshold = 50ms;
    watchdog wd(config);
    wd.watch(ex);
    blocked_task a(ex, "a");
    blocked_task b(ex, "b");
    blocked_task c(ex, "c", pool_kind::io);
    const auto latest = std::max({a.sample.running_since, b.sample.running_since, c.sample.running_since});
    auto reports = of_kind(wd.check_at(latest + 50ms), report_kind::slow);
    ASSERT_EQ(reports.size(), 3u);
    std::vector<std::string> names;
    for (const auto& r : reports) names.push_back(r.task_name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
    for (const auto& r : reports) {
        EXPECT_EQ(r.pool, r.task_name == "c" ? pool_kind::io : pool_kind::compute);
    }
}

TEST(WatchdogSlow, NamesWhatAWaitingTaskWaitsFor) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(manual_config());
    wd.watch(ex);
    blocked_task io(ex, "io-read", pool_kind::io);
    auto waiter = ex.submit([&] { io.handle.wait(); }, {.name = "consumer"});
    ASSERT_TRUE(wait_for_samples(ex, [&](const auto& s) { return s[0].waiting_for == io.handle.id(); }));
    const auto since = ex.sample_workers()[0].running_since;
    auto reports = of_kind(wd.check_at(std::max(since, io.sample.running_since) + 10s), report_kind::slow);
    ASSERT_EQ(reports.size(), 2u);
    const auto& consumer = reports[0].task_name == "consumer" ? reports[0] : reports[1];
    EXPECT_EQ(consumer.task_name, "consumer");
    EXPECT_NE(consumer.message.find("waiting for task " + std::to_string(io.handle.id()) + " 'io-read'"),
              std::string::npos)
        << consumer.message;
    io.held.open();
    waiter.wait();
}

TEST(WatchdogSlow, AFinishedTaskIsForgottenAndANewOneStartsAtTheThreshold) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(manual_config());
    wd.watch(ex);
    {
        blocked_task first(ex, "first");
        EXPECT_EQ(of_kind(wd.check_at(first.sample.running_since + 10s), report_kind::slow).size(), 1u);
    }
    ex.wait_all();
    EXPECT_TRUE(wd.check_now().empty());  // prunes the finished task
    blocked_task second(ex, "second");
    auto reports = of_kind(wd.check_at(second.sample.running_since + 10s), report_kind::slow);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].task_name, "second");
}
