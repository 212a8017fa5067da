// Starting, stopping and destroying watchdogs and executors in any order;
// watch/unwatch, including from inside a pass.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>

#include "watchdog_support.hpp"

using namespace dftracer;
using namespace dftracer::test;

namespace {

/// A config whose clock counts the thread's passes.
watchdog_config counting_config(counter& passes, std::chrono::milliseconds interval = 1ms) {
    watchdog_config c;
    c.interval = interval;
    c.log_sink = nullptr;
    c.now = [&passes] {
        passes.add();
        return clock::now();
    };
    return c;
}

}  // namespace

TEST(WatchdogLifecycle, RejectsNegativeDurations) {
    auto bad = manual_config();
    bad.interval = std::chrono::milliseconds(-1);
    EXPECT_THROW(watchdog{bad}, std::invalid_argument);
    bad = manual_config();
    bad.slow_threshold = std::chrono::milliseconds(-5);
    EXPECT_THROW(watchdog{bad}, std::invalid_argument);
    bad = manual_config();
    bad.stall_threshold = std::chrono::milliseconds(-5);
    EXPECT_THROW(watchdog{bad}, std::invalid_argument);
    bad = manual_config();
    bad.deadlock_threshold = std::chrono::milliseconds(-5);
    EXPECT_THROW(watchdog{bad}, std::invalid_argument);
}

TEST(WatchdogLifecycle, DocumentedDefaults) {
    watchdog_config c;
    EXPECT_EQ(c.interval, std::chrono::milliseconds(250));
    EXPECT_EQ(c.slow_threshold, std::chrono::seconds(10));
    EXPECT_EQ(c.stall_threshold, std::chrono::seconds(30));
    EXPECT_EQ(c.deadlock_threshold, std::chrono::seconds(5));
    EXPECT_TRUE(c.enforce_timeouts);
    EXPECT_TRUE(c.start_thread);
    EXPECT_TRUE(static_cast<bool>(c.log_sink));
    EXPECT_FALSE(static_cast<bool>(c.now));
}

TEST(WatchdogLifecycle, StartStopAreIdempotentAndThreadRunsPasses) {
    counter passes;
    auto config = counting_config(passes);
    config.start_thread = false;
    watchdog wd(config);
    EXPECT_FALSE(wd.running());
    wd.start();
    wd.start();
    EXPECT_TRUE(wd.running());
    EXPECT_TRUE(passes.wait_at_least(3));
    wd.stop();
    wd.stop();
    EXPECT_FALSE(wd.running());
    const int after_stop = passes.value();
    wd.start();
    EXPECT_TRUE(passes.wait_at_least(after_stop + 3));
    EXPECT_EQ(wd.config().interval, std::chrono::milliseconds(1));
}

TEST(WatchdogLifecycle, ZeroIntervalMeansNoThread) {
    auto config = manual_config();
    config.interval = 0ms;
    config.start_thread = true;
    watchdog wd(config);
    EXPECT_FALSE(wd.running());
    wd.start();
    EXPECT_FALSE(wd.running());
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    wd.watch(ex);
    EXPECT_TRUE(wd.check_now().empty());
    wd.unwatch(ex);
}

TEST(WatchdogLifecycle, WatchAndUnwatchReportWhatChanged) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    executor other(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(manual_config());
    EXPECT_FALSE(wd.is_watching(ex));
    EXPECT_TRUE(wd.watch(ex));
    EXPECT_FALSE(wd.watch(ex));
    EXPECT_TRUE(wd.is_watching(ex));
    EXPECT_FALSE(wd.is_watching(other));
    EXPECT_FALSE(wd.unwatch(other));
    EXPECT_TRUE(wd.unwatch(ex));
    EXPECT_FALSE(wd.unwatch(ex));
    EXPECT_FALSE(wd.is_watching(ex));
}

TEST(WatchdogLifecycle, OneWatchdogWatchesSeveralExecutors) {
    executor first(executor_config{.threads = 1, .io_threads = 1});
    executor second(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(manual_config());
    wd.watch(first);
    wd.watch(second);
    event s1, s2, release;
    auto h1 = first.submit(
        [&] {
            s1.set();
            release.wait();
        },
        {.name = "one"});
    auto h2 = second.submit(
        [&] {
            s2.set();
            release.wait();
        },
        {.name = "two"});
    ASSERT_TRUE(s1.wait());
    ASSERT_TRUE(s2.wait());
    const auto since =
        std::max(sample_running(first, h1.id()).running_since, sample_running(second, h2.id()).running_since);
    auto reports = of_kind(wd.check_at(since + 10s), report_kind::slow);
    ASSERT_EQ(reports.size(), 2u);
    EXPECT_NE(reports[0].source, reports[1].source);
    for (const auto& r : reports) EXPECT_EQ(r.task_name, r.source == &first ? "one" : "two");
    wd.unwatch(second);
    EXPECT_EQ(of_kind(wd.check_at(since + 20s), report_kind::slow).size(), 1u);
    release.set();
    h1.wait();
    h2.wait();
}

TEST(WatchdogLifecycle, UnwatchThenDestroyExecutorWhileTheThreadRuns) {
    counter passes;
    watchdog wd(counting_config(passes));
    for (int round = 0; round < 20; ++round) {
        auto ex = std::make_unique<executor>(executor_config{.threads = 2, .io_threads = 1});
        wd.watch(*ex);
        for (int i = 0; i < 200; ++i) ex->submit([] {});
        const int seen = passes.value();
        ASSERT_TRUE(passes.wait_at_least(seen + 2));  // at least one full pass saw it
        EXPECT_TRUE(wd.unwatch(*ex));
        ex.reset();
    }
    EXPECT_TRUE(wd.running());
}

TEST(WatchdogLifecycle, DestroyWatchdogFirstThenExecutor) {
    auto ex = std::make_unique<executor>(executor_config{.threads = 2, .io_threads = 1});
    counter passes;
    {
        watchdog wd(counting_config(passes));
        wd.watch(*ex);
        for (int i = 0; i < 1000; ++i) ex->submit([] {});
        ASSERT_TRUE(passes.wait_at_least(3));
    }  // never unwatched: the destructor does not touch the executor
    ex->wait_all();
    EXPECT_EQ(ex->counts().completed, 1000u);
    ex.reset();
}

TEST(WatchdogLifecycle, StoppedWatchdogOutlivesAnUnwatchedDestroyedExecutor) {
    watchdog wd(manual_config());
    {
        executor ex(executor_config{.threads = 1, .io_threads = 1});
        wd.watch(ex);
        EXPECT_TRUE(wd.check_now().empty());
        wd.unwatch(ex);
    }
    EXPECT_TRUE(wd.check_now().empty());
}

TEST(WatchdogLifecycle, SharedExecutorMayBeDestroyedWithoutUnwatch) {
    counter passes;
    watchdog wd(counting_config(passes));
    for (int round = 0; round < 10; ++round) {
        auto ex = std::make_shared<executor>(executor_config{.threads = 2, .io_threads = 1});
        EXPECT_TRUE(wd.watch(ex));
        EXPECT_FALSE(wd.watch(ex));
        EXPECT_TRUE(wd.is_watching(*ex));
        for (int i = 0; i < 200; ++i) ex->submit([] {});
        const int seen = passes.value();
        ASSERT_TRUE(passes.wait_at_least(seen + 2));
        ex.reset();  // last owner here, or the watchdog during a pass
        ASSERT_TRUE(passes.wait_at_least(passes.value() + 2));
    }
    EXPECT_THROW(wd.watch(std::shared_ptr<executor>{}), std::invalid_argument);
}

TEST(WatchdogLifecycle, ExecutorHookMayUnwatchDuringATimeoutPass) {
    // fail_task runs the executor's on_error hook on the pass's thread; the
    // hook unwatches the executor and tries a nested pass.
    watchdog* wd_ptr = nullptr;
    executor* ex_ptr = nullptr;
    std::atomic<int> hook_calls{0};
    std::atomic<bool> nested_empty{false};
    executor ex(executor_config{.threads = 1, .io_threads = 1, .on_error = [&](const task_info&, std::exception_ptr) {
                                    hook_calls.fetch_add(1);
                                    wd_ptr->unwatch(*ex_ptr);
                                    nested_empty = wd_ptr->check_now().empty();
                                }});
    ex_ptr = &ex;
    auto config = manual_config();
    config.slow_threshold = 0ms;
    watchdog wd(config);
    wd_ptr = &wd;
    wd.watch(ex);
    gate held;
    auto h = ex.submit([&] { held.hold(); }, {.name = "t", .timeout = 1s});
    ASSERT_TRUE(held.wait_held());
    auto reports = wd.check_at(ex.find_task(h.id())->started_at + 1s);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].kind, report_kind::timeout);
    EXPECT_EQ(hook_calls.load(), 1);
    EXPECT_TRUE(nested_empty.load());
    EXPECT_FALSE(wd.is_watching(ex));
    EXPECT_THROW(h.get(), task_timeout);
    held.open();
    ex.shutdown();  // the handle failed before the body returned
}

TEST(WatchdogLifecycle, CallbackMayStopAndTheWatchdogRestarts) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog_config config;
    config.interval = 1ms;
    config.slow_threshold = 1ms;
    config.log_sink = nullptr;
    config.start_thread = false;
    watchdog wd(config);
    wd.watch(ex);
    event stopped_from_callback;
    std::atomic<int> calls{0};
    const auto id = wd.add_callback([&](const watchdog_report&) {
        if (calls.fetch_add(1) == 0) {
            wd.stop();  // on the watchdog thread: takes effect after this pass
            stopped_from_callback.set();
        }
    });
    gate held;
    auto h = ex.submit([&] { held.hold(); });
    ASSERT_TRUE(held.wait_held());
    wd.start();
    ASSERT_TRUE(stopped_from_callback.wait());
    EXPECT_FALSE(wd.running());
    wd.start();  // joins the exited thread and starts a new one
    EXPECT_TRUE(wd.running());
    wd.remove_callback(id);
    wd.stop();
    held.open();
    h.wait();
}
