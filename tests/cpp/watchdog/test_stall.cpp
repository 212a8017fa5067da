// Stalls: queued work, every worker of the pool busy, nothing started or
// finished for the threshold.
#include <gtest/gtest.h>

#include "watchdog_support.hpp"

using namespace dftracer;
using namespace dftracer::test;

namespace {

watchdog_config stalls_only() {
    auto c = manual_config();
    c.slow_threshold = 0ms;
    c.deadlock_threshold = 0ms;
    return c;
}

task_handle<void> block(executor& ex, event& started, event& release, std::string name) {
    auto h = ex.submit(
        [&] {
            started.set();
            release.wait();
        },
        {.name = std::move(name)});
    EXPECT_TRUE(started.wait());
    return h;
}

}  // namespace

TEST(WatchdogStall, QueuedWorkBehindABusyPoolIsReportedAndEscalates) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(stalls_only());
    wd.watch(ex);
    event started, release;
    auto blocker = block(ex, started, release, "hog");
    auto queued = ex.submit([] {}, {.name = "starved"});

    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());  // first sight starts the episode
    EXPECT_TRUE(wd.check_at(t0 + 29999ms).empty());
    auto reports = wd.check_at(t0 + 30s);
    ASSERT_EQ(reports.size(), 1u);
    const auto& r = reports[0];
    EXPECT_EQ(r.kind, report_kind::stall);
    EXPECT_EQ(r.pool, pool_kind::compute);
    EXPECT_EQ(r.task_id, blocker.id());
    EXPECT_EQ(r.task_name, "hog");
    EXPECT_EQ(r.worker, 0);
    EXPECT_EQ(r.elapsed, std::chrono::nanoseconds(30s));
    EXPECT_NE(r.message.find("1 queued"), std::string::npos) << r.message;
    EXPECT_EQ(r.workers, std::vector<int>{0});

    EXPECT_TRUE(wd.check_at(t0 + 45s).empty());
    EXPECT_EQ(of_kind(wd.check_at(t0 + 60s), report_kind::stall).size(), 1u);

    release.set();
    queued.wait();
    ex.wait_all();
    EXPECT_TRUE(wd.check_at(t0 + 1h).empty());
}

TEST(WatchdogStall, BusyPoolWithNothingQueuedIsNotAStall) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(stalls_only());
    wd.watch(ex);
    event started, release;
    auto blocker = block(ex, started, release, "alone");
    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    EXPECT_TRUE(wd.check_at(t0 + 1h).empty());
    release.set();
    blocker.wait();
}

TEST(WatchdogStall, ProgressRestartsTheEpisode) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(stalls_only());
    wd.watch(ex);
    event a_started, a_release, b_started, b_release;
    auto a = block(ex, a_started, a_release, "a");
    auto b = ex.submit(
        [&] {
            b_started.set();
            b_release.wait();
        },
        {.name = "b"});
    auto c = ex.submit([] {}, {.name = "c"});

    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    EXPECT_TRUE(wd.check_at(t0 + 20s).empty());
    a_release.set();  // a finishes, b starts: the pool made progress
    ASSERT_TRUE(b_started.wait());
    (void)sample_running(ex, b.id());
    EXPECT_TRUE(wd.check_at(t0 + 31s).empty());  // new episode from here
    EXPECT_TRUE(wd.check_at(t0 + 60s).empty());
    auto reports = wd.check_at(t0 + 61s);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].task_name, "b");
    b_release.set();
    c.wait();
}

TEST(WatchdogStall, DisabledWithZeroThreshold) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto config = stalls_only();
    config.stall_threshold = 0ms;
    watchdog wd(config);
    wd.watch(ex);
    event started, release;
    auto blocker = block(ex, started, release, "hog");
    auto queued = ex.submit([] {});
    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    EXPECT_TRUE(wd.check_at(t0 + 1h).empty());
    release.set();
    queued.wait();
}
