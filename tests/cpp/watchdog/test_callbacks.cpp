// Delivery: callbacks and the log sink, exceptions contained, removal.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "watchdog_support.hpp"

using namespace dftracer;
using namespace dftracer::test;

namespace {

/// One executor with one blocked task, and a manual watchdog watching it.
struct slow_fixture {
    executor ex{executor_config{.threads = 1, .io_threads = 1}};
    gate held;
    task_handle<void> handle;
    clock::time_point since;

    slow_fixture() {
        handle = ex.submit([this] { held.hold(); }, {.name = "slowpoke"});
        EXPECT_TRUE(held.wait_held());
        since = sample_running(ex, handle.id()).running_since;
    }
    ~slow_fixture() {
        held.open();
        handle.wait();
    }
};

}  // namespace

TEST(WatchdogCallbacks, EveryCallbackGetsEveryReportInOrder) {
    slow_fixture f;
    watchdog wd(manual_config());
    wd.watch(f.ex);
    std::vector<std::string> calls;
    const auto first = wd.add_callback([&](const watchdog_report& r) { calls.push_back("1:" + r.task_name); });
    const auto second = wd.add_callback([&](const watchdog_report& r) { calls.push_back("2:" + r.task_name); });
    EXPECT_NE(first, 0u);
    EXPECT_NE(first, second);
    wd.check_at(f.since + 10s);
    EXPECT_EQ(calls, (std::vector<std::string>{"1:slowpoke", "2:slowpoke"}));
    EXPECT_TRUE(wd.remove_callback(first));
    EXPECT_FALSE(wd.remove_callback(first));
    EXPECT_FALSE(wd.remove_callback(12345));
    wd.check_at(f.since + 20s);
    EXPECT_EQ(calls.back(), "2:slowpoke");
    EXPECT_EQ(calls.size(), 3u);
    EXPECT_THROW(wd.add_callback(nullptr), std::invalid_argument);
}

TEST(WatchdogCallbacks, AThrowingCallbackIsLoggedAndOthersStillRun) {
    slow_fixture f;
    log_capture log;
    watchdog wd(manual_config(log.sink()));
    wd.watch(f.ex);
    int after = 0;
    wd.add_callback([](const watchdog_report&) { throw std::runtime_error("boom"); });
    wd.add_callback([](const watchdog_report&) { throw 17; });
    wd.add_callback([&](const watchdog_report&) { ++after; });
    EXPECT_EQ(wd.check_at(f.since + 10s).size(), 1u);
    EXPECT_EQ(after, 1);
    auto lines = log.entries();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].level, log_level::warning);
    EXPECT_TRUE(lines[0].has_report);
    EXPECT_EQ(lines[0].line.rfind("slow: ", 0), 0u) << lines[0].line;
    EXPECT_EQ(lines[1].level, log_level::error);
    EXPECT_FALSE(lines[1].has_report);
    EXPECT_NE(lines[1].line.find("boom"), std::string::npos) << lines[1].line;
    EXPECT_NE(lines[2].line.find("unknown exception"), std::string::npos) << lines[2].line;
    // Still watching.
    EXPECT_EQ(wd.check_at(f.since + 20s).size(), 1u);
    EXPECT_EQ(after, 2);
}

TEST(WatchdogCallbacks, ThrowingLogSinkDoesNotStopDelivery) {
    slow_fixture f;
    auto config = manual_config(
        [](log_level, const std::string&, const watchdog_report*) { throw std::runtime_error("sink down"); });
    watchdog wd(config);
    wd.watch(f.ex);
    int calls = 0;
    wd.add_callback([&](const watchdog_report&) { ++calls; });
    testing::internal::CaptureStderr();
    wd.check_at(f.since + 10s);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(calls, 1);
    EXPECT_NE(err.find("log sink threw"), std::string::npos) << err;
}

TEST(WatchdogCallbacks, DefaultSinkWritesOneStderrLine) {
    slow_fixture f;
    auto config = manual_config();
    config.log_sink = watchdog_config{}.log_sink;
    watchdog wd(config);
    wd.watch(f.ex);
    testing::internal::CaptureStderr();
    wd.check_at(f.since + 10s);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err.rfind("dftracer watchdog warning: slow: task ", 0), 0u) << err;
    EXPECT_NE(err.find("'slowpoke'"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
}

TEST(WatchdogCallbacks, EmptySinkIsSilentButCallbacksRun) {
    slow_fixture f;
    watchdog wd(manual_config(nullptr));
    wd.watch(f.ex);
    int calls = 0;
    wd.add_callback([&](const watchdog_report&) { ++calls; });
    testing::internal::CaptureStderr();
    wd.check_at(f.since + 10s);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    EXPECT_EQ(calls, 1);
}

TEST(WatchdogCallbacks, ACallbackMayRemoveItselfAndCallTheWatchdog) {
    slow_fixture f;
    watchdog wd(manual_config());
    wd.watch(f.ex);
    int calls = 0;
    std::size_t id = 0;
    id = wd.add_callback([&](const watchdog_report& r) {
        ++calls;
        EXPECT_TRUE(wd.is_watching(*r.source));
        EXPECT_TRUE(wd.remove_callback(id));  // does not wait for itself
        EXPECT_TRUE(wd.unwatch(*r.source));
    });
    EXPECT_EQ(wd.check_at(f.since + 10s).size(), 1u);
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(wd.is_watching(f.ex));
    wd.watch(f.ex);
    EXPECT_EQ(wd.check_at(f.since + 20s).size(), 1u);
    EXPECT_EQ(calls, 1);
}

TEST(WatchdogCallbacks, RemoveWaitsForACallInProgressAndDestroysTheCallback) {
    slow_fixture f;
    watchdog wd(manual_config());
    wd.watch(f.ex);
    event entered, proceed;
    std::atomic<bool> finished{false};
    auto alive = std::make_shared<int>(1);
    std::weak_ptr<int> watch_alive = alive;
    const auto id = wd.add_callback([&, keep = std::move(alive)](const watchdog_report&) {
        entered.set();
        proceed.wait();
        finished = true;
    });
    std::thread checker([&] { wd.check_at(f.since + 10s); });
    ASSERT_TRUE(entered.wait());
    std::atomic<bool> removed{false};
    std::thread remover([&] {
        EXPECT_TRUE(wd.remove_callback(id));
        EXPECT_TRUE(finished.load());        // not before the call returned
        EXPECT_TRUE(watch_alive.expired());  // and the callback is gone
        removed = true;
    });
    proceed.set();
    remover.join();
    checker.join();
    EXPECT_TRUE(removed.load());
}

TEST(WatchdogCallbacks, DeadlockIsLoggedAsError) {
    // The level mapping, independently of an actual deadlock.
    EXPECT_EQ(level_of(report_kind::deadlock), log_level::error);
    EXPECT_EQ(level_of(report_kind::slow), log_level::warning);
    EXPECT_EQ(level_of(report_kind::stall), log_level::warning);
    EXPECT_EQ(level_of(report_kind::timeout), log_level::warning);
    EXPECT_STREQ(to_string(report_kind::slow), "slow");
    EXPECT_STREQ(to_string(report_kind::timeout), "timeout");
    EXPECT_STREQ(to_string(report_kind::stall), "stall");
    EXPECT_STREQ(to_string(report_kind::deadlock), "deadlock");
    EXPECT_STREQ(to_string(log_level::error), "error");
    watchdog_report r;
    r.kind = report_kind::stall;
    r.message = "m";
    EXPECT_EQ(format_report(r), "stall: m");
}
