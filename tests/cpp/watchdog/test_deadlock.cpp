// Deadlocks: every worker of a pool blocked in a wait that cannot end, with
// the wait-for cycle named where it is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "watchdog_support.hpp"

using namespace dftracer;
using namespace dftracer::test;

namespace {

watchdog_config deadlocks_only() {
    auto c = manual_config();
    c.slow_threshold = 0ms;
    c.stall_threshold = 0ms;
    return c;
}

bool all_waiting(const std::vector<worker_sample>& samples, pool_kind pool) {
    return std::all_of(samples.begin(), samples.end(),
                       [&](const worker_sample& s) { return s.pool != pool || s.waiting_for != 0; });
}

/// Two tasks that wait for each other. Breaking it: fail one of them.
struct two_cycle {
    event a_started, b_started, handles_ready;
    task_handle<void> a, b;

    two_cycle(executor& ex, pool_kind pool_a, pool_kind pool_b) {
        a = ex.submit(
            [this] {
                a_started.set();
                handles_ready.wait();
                b.wait();
            },
            {.name = "a", .pool = pool_a});
        b = ex.submit(
            [this] {
                b_started.set();
                handles_ready.wait();
                a.wait();
            },
            {.name = "b", .pool = pool_b});
        EXPECT_TRUE(a_started.wait());
        EXPECT_TRUE(b_started.wait());
        handles_ready.set();
    }
    void wait_blocked(const executor& ex) {
        EXPECT_TRUE(wait_for_samples(ex, [&](const auto& s) {
            int waiting = 0;
            for (const auto& w : s) waiting += (w.waiting_for == a.id() || w.waiting_for == b.id()) ? 1 : 0;
            return waiting == 2;
        }));
    }
    void break_it(executor& ex) {
        EXPECT_TRUE(ex.fail_task(a.id(), std::make_exception_ptr(std::runtime_error("broken by the test"))));
        b.wait();
        ex.shutdown();  // a's handle failed before its body returned
    }
};

}  // namespace

TEST(WatchdogDeadlock, TwoTasksWaitingForEachOtherAreReportedWithTheCycle) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    watchdog wd(deadlocks_only());
    wd.watch(ex);
    two_cycle cycle(ex, pool_kind::compute, pool_kind::compute);
    cycle.wait_blocked(ex);
    ASSERT_TRUE(all_waiting(ex.sample_workers(), pool_kind::compute));

    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    EXPECT_TRUE(wd.check_at(t0 + 4999ms).empty());
    auto reports = wd.check_at(t0 + 5s);
    ASSERT_EQ(reports.size(), 1u);
    const auto& r = reports[0];
    EXPECT_EQ(r.kind, report_kind::deadlock);
    EXPECT_EQ(r.pool, pool_kind::compute);
    EXPECT_EQ(r.elapsed, std::chrono::nanoseconds(5s));
    ASSERT_EQ(r.cycle.size(), 2u);
    std::vector<std::uint64_t> sorted = r.cycle;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<std::uint64_t>{cycle.a.id(), cycle.b.id()}));
    EXPECT_EQ(r.task_id, r.cycle.front());
    EXPECT_TRUE(r.task_name == "a" || r.task_name == "b");
    EXPECT_GE(r.worker, 0);
    EXPECT_NE(r.native_thread, 0u);
    std::vector<int> workers = r.workers;
    std::sort(workers.begin(), workers.end());
    EXPECT_EQ(workers, (std::vector<int>{0, 1}));
    EXPECT_EQ(r.native_threads.size(), r.workers.size());
    EXPECT_NE(r.message.find("cycle"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("'a'"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("'b'"), std::string::npos) << r.message;

    // Escalates like slow tasks, and stays watched.
    EXPECT_TRUE(wd.check_at(t0 + 9s).empty());
    EXPECT_EQ(wd.check_at(t0 + 10s).size(), 1u);
    cycle.break_it(ex);
    EXPECT_TRUE(wd.check_at(t0 + 1h).empty());
}

TEST(WatchdogDeadlock, CycleAcrossPoolsIsReportedForEachBlockedPool) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(deadlocks_only());
    wd.watch(ex);
    two_cycle cycle(ex, pool_kind::compute, pool_kind::io);
    cycle.wait_blocked(ex);
    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    auto reports = wd.check_at(t0 + 5s);
    ASSERT_EQ(reports.size(), 2u);
    EXPECT_NE(reports[0].pool, reports[1].pool);
    for (const auto& r : reports) {
        EXPECT_EQ(r.kind, report_kind::deadlock);
        EXPECT_EQ(r.cycle.size(), 2u);
    }
    cycle.break_it(ex);
}

TEST(WatchdogDeadlock, WaitingOnARunningTaskIsNotADeadlock) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(deadlocks_only());
    wd.watch(ex);
    gate io_held;
    auto io = ex.submit([&] { io_held.hold(); }, {.name = "slow-read", .pool = pool_kind::io});
    ASSERT_TRUE(io_held.wait_held());
    auto waiter = ex.submit([&] { io.wait(); }, {.name = "consumer"});
    ASSERT_TRUE(wait_for_samples(ex, [&](const auto& s) { return s[0].waiting_for == io.id(); }));
    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    EXPECT_TRUE(wd.check_at(t0 + 1h).empty());  // the io task can still finish
    io_held.open();
    waiter.wait();
}

TEST(WatchdogDeadlock, DisabledWithZeroThreshold) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto config = deadlocks_only();
    config.deadlock_threshold = 0ms;
    watchdog wd(config);
    wd.watch(ex);
    two_cycle cycle(ex, pool_kind::compute, pool_kind::compute);
    cycle.wait_blocked(ex);
    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    EXPECT_TRUE(wd.check_at(t0 + 1h).empty());
    cycle.break_it(ex);
}

// b runs d inline (work-helping: waiting for d, it claims it), and d waits
// for a; a waits for b. b is innermost on no worker, so the edge a -> b goes
// through the worker that started b: an uncertain edge, trusted only while
// nothing else in the executor runs un-blocked.
TEST(WatchdogDeadlock, CycleThroughAHelpedTaskIsFoundWhenNothingElseRuns) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    watchdog wd(deadlocks_only());
    wd.watch(ex);
    event a_started, ready;
    task_handle<void> a, b;
    a = ex.submit(
        [&] {
            a_started.set();
            ready.wait();  // a plain wait: this worker cannot steal d
            b.wait();
        },
        {.name = "a"});
    ASSERT_TRUE(a_started.wait());
    std::atomic<std::uint64_t> d_id{0};
    b = ex.submit(
        [&] {
            auto d = ex.submit([&] { a.wait(); }, {.name = "d"});
            d_id = d.id();
            d.wait();
        },
        {.name = "b"});
    ASSERT_TRUE(wait_for_samples(ex, [&](const auto& s) {
        return std::any_of(s.begin(), s.end(), [&](const worker_sample& w) { return w.waiting_for == a.id(); });
    }));
    ready.set();
    ASSERT_TRUE(wait_for_samples(ex, [&](const auto& s) { return all_waiting(s, pool_kind::compute); }));

    // An unrelated task running on the io pool could be what b waits for
    // (if b were a suspended coroutine): no report while it runs.
    gate io_held;
    auto io = ex.submit([&] { io_held.hold(); }, {.pool = pool_kind::io});
    ASSERT_TRUE(io_held.wait_held());
    (void)sample_running(ex, io.id());
    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    EXPECT_TRUE(wd.check_at(t0 + 5s).empty());
    io_held.open();
    io.wait();
    ASSERT_TRUE(wait_for_samples(ex, [](const auto& s) { return s.back().task_id == 0; }));

    auto reports = wd.check_at(t0 + 6s);
    // The io worker's tasks_run changed, not the compute pool's signature.
    ASSERT_EQ(reports.size(), 1u);
    const auto& r = reports[0];
    EXPECT_EQ(r.kind, report_kind::deadlock);
    // a waits for b, which is under d on its worker (b cannot go on until d
    // returns), and d waits for a: the cycle names all three, in that order.
    ASSERT_EQ(r.cycle.size(), 3u);
    const auto at = std::find(r.cycle.begin(), r.cycle.end(), a.id());
    ASSERT_NE(at, r.cycle.end());
    std::vector<std::uint64_t> from_a(at, r.cycle.end());
    from_a.insert(from_a.end(), r.cycle.begin(), at);
    EXPECT_EQ(from_a, (std::vector<std::uint64_t>{a.id(), b.id(), d_id.load()}));
    EXPECT_NE(r.message.find("'d'"), std::string::npos) << r.message;

    EXPECT_TRUE(ex.fail_task(a.id(), std::make_exception_ptr(std::runtime_error("broken by the test"))));
    b.wait();
    ex.shutdown();
}

// A cycle on one worker's stack: a waits for b, which its wait ran inline
// (b is on top of a), and b waits for a. The report names both tasks.
TEST(WatchdogDeadlock, CycleOnOneWorkersStackNamesBothTasks) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    watchdog wd(deadlocks_only());
    wd.watch(ex);
    std::atomic<std::uint64_t> b_id{0};
    event a_ready;
    task_handle<void> a;
    a = ex.submit(
        [&] {
            a_ready.wait();
            auto b = ex.submit([&] { a.wait(); }, {.name = "b"});
            b_id = b.id();
            b.wait();  // runs b here, inline
        },
        {.name = "a"});
    a_ready.set();
    ASSERT_TRUE(wait_for_samples(ex, [&](const auto& s) {
        return std::any_of(s.begin(), s.end(), [&](const worker_sample& w) { return w.waiting_for == a.id(); });
    }));
    const auto t0 = clock::now();
    EXPECT_TRUE(wd.check_at(t0).empty());
    auto reports = wd.check_at(t0 + 5s);
    ASSERT_EQ(reports.size(), 1u);
    const auto& r = reports[0];
    EXPECT_EQ(r.kind, report_kind::deadlock);
    EXPECT_EQ(r.cycle, (std::vector<std::uint64_t>{b_id.load(), a.id()}));
    EXPECT_NE(r.message.find(std::to_string(b_id.load()) + " -> " + std::to_string(a.id()) + " -> " +
                             std::to_string(b_id.load())),
              std::string::npos)
        << r.message;

    EXPECT_TRUE(ex.fail_task(a.id(), std::make_exception_ptr(std::runtime_error("broken by the test"))));
    ex.shutdown();
}

// A task of one executor waits for a task of another, which waits back: each
// executor's only worker is blocked, and each executor's watchdog follows the
// wait into the other and names the cycle with the executor of each task.
TEST(WatchdogDeadlock, CycleAcrossTwoExecutorsIsReportedByEachWatchdog) {
    executor first(executor_config{.threads = 1, .io_threads = 1});
    executor second(executor_config{.threads = 1, .io_threads = 1});
    ASSERT_NE(first.serial(), second.serial());
    watchdog wd_first(deadlocks_only()), wd_second(deadlocks_only());
    wd_first.watch(first);
    wd_second.watch(second);
    event a_started, b_started, handles_ready;
    task_handle<void> a, b;
    a = first.submit(
        [&] {
            a_started.set();
            handles_ready.wait();
            b.wait();
        },
        {.name = "a"});
    b = second.submit(
        [&] {
            b_started.set();
            handles_ready.wait();
            a.wait();
        },
        {.name = "b"});
    ASSERT_TRUE(a_started.wait());
    ASSERT_TRUE(b_started.wait());
    handles_ready.set();
    ASSERT_TRUE(wait_for_samples(first, [&](const auto& s) { return s[0].waiting_for == b.id(); }));
    ASSERT_TRUE(wait_for_samples(second, [&](const auto& s) { return s[0].waiting_for == a.id(); }));
    EXPECT_EQ(first.sample_workers()[0].waiting_for_executor, second.serial());
    EXPECT_EQ(second.sample_workers()[0].waiting_for_executor, first.serial());

    const auto t0 = clock::now();
    for (auto* wd : {&wd_first, &wd_second}) EXPECT_TRUE(wd->check_at(t0).empty());
    for (auto* wd : {&wd_first, &wd_second}) {
        auto reports = of_kind(wd->check_at(t0 + 5s), report_kind::deadlock);
        ASSERT_EQ(reports.size(), 1u);
        const auto& r = reports[0];
        ASSERT_EQ(r.cycle.size(), 2u);
        ASSERT_EQ(r.cycle_executors.size(), 2u);
        const bool from_first = r.source == &first;
        // The report leads with the watched executor's own task.
        EXPECT_EQ(r.cycle.front(), from_first ? a.id() : b.id());
        EXPECT_EQ(r.cycle_executors.front(), from_first ? first.serial() : second.serial());
        EXPECT_EQ(r.cycle.back(), from_first ? b.id() : a.id());
        EXPECT_EQ(r.cycle_executors.back(), from_first ? second.serial() : first.serial());
        EXPECT_EQ(r.workers, (std::vector<int>{0}));
        const auto other = std::to_string(from_first ? second.serial() : first.serial());
        EXPECT_NE(r.message.find("of executor " + other), std::string::npos) << r.message;
    }
    ASSERT_TRUE(first.fail_task(a.id(), std::make_exception_ptr(std::runtime_error("broken by the test"))));
    b.wait();
    first.shutdown();
    EXPECT_TRUE(wd_first.check_at(t0 + 1h).empty());
}

// The same shape without a cycle: a (first) waits for b (second), which waits
// for c queued on first. first's worker runs c while it waits (it helps its
// own pool whatever it waits for), so everything finishes.
TEST(WatchdogDeadlock, WaitIntoAnotherExecutorThatCanEndIsNoDeadlock) {
    executor first(executor_config{.threads = 1, .io_threads = 1});
    executor second(executor_config{.threads = 1, .io_threads = 1});
    auto a = first.submit([&] {
        auto b = second.submit([&] { return first.submit([] { return 7; }).get(); });
        return b.get();
    });
    ASSERT_TRUE(a.wait_for(generous));
    EXPECT_EQ(a.get(), 7);
}
