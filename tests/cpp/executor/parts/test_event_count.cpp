// event_count: a notify after published work is never lost, and spinners
// and the slot watcher absorb the wake-ups they make unnecessary.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../test_support.hpp"
#include "event_count.hpp"

using steady = dftracer::clock;
using dftracer::detail::event_count;

namespace {
steady::time_point soon() { return steady::now() + std::chrono::milliseconds(20); }
steady::time_point generous_deadline() { return steady::now() + dftracer::test::generous; }

/// Parks waiter 0 on another thread; says when it has announced itself.
struct sleeper {
    event_count& ec;
    dftracer::test::event announced;
    std::atomic<int> woken{-1};  // -1: still parked; 1: notified; 0: timed out
    std::thread thread;
    explicit sleeper(event_count& e) : ec(e) {
        thread = std::thread([this] {
            ec.prepare_wait(0);
            announced.set();
            const auto deadline = generous_deadline();
            woken.store(ec.commit_wait(0, &deadline) ? 1 : 0);
        });
        announced.wait();
    }
    ~sleeper() {
        if (thread.joinable()) thread.join();
    }
};
}  // namespace

TEST(EventCount, NotifyOneWakesAnAnnouncedWaiter) {
    event_count ec;
    ec.resize(2);
    sleeper s(ec);
    ec.notify_one();
    s.thread.join();
    EXPECT_EQ(s.woken.load(), 1);
}

TEST(EventCount, ANotifyBetweenPrepareAndCommitIsNotLost) {
    event_count ec;
    ec.resize(1);
    ec.prepare_wait(0);
    ec.notify_one();  // the waiter has not parked yet
    const auto deadline = generous_deadline();
    EXPECT_TRUE(ec.commit_wait(0, &deadline));  // returns at once with the token
}

TEST(EventCount, CancelledWaiterIsNotASleeper) {
    event_count ec;
    ec.resize(1);
    ec.prepare_wait(0);
    ec.cancel_wait(0);
    EXPECT_FALSE(ec.is_sleeping(0));
    ec.notify_one();  // nobody announced: no token left behind
    ec.prepare_wait(0);
    const auto deadline = soon();
    EXPECT_FALSE(ec.commit_wait(0, &deadline));
}

TEST(EventCount, ASpinnerAbsorbsNotifyOne) {
    event_count ec;
    ec.resize(2);
    ASSERT_TRUE(ec.try_begin_spin());
    EXPECT_FALSE(ec.try_begin_spin());  // one spinner per pool
    ec.prepare_wait(0);
    ec.notify_one();
    auto deadline = soon();
    EXPECT_FALSE(ec.commit_wait(0, &deadline));
    ec.end_spin();
    ec.prepare_wait(0);
    ec.notify_one();
    deadline = generous_deadline();
    EXPECT_TRUE(ec.commit_wait(0, &deadline));
}

TEST(EventCount, TheSlotWatcherAbsorbsSlotNotifiesOnly) {
    event_count ec;
    ec.resize(2);
    ASSERT_TRUE(ec.try_watch());
    EXPECT_FALSE(ec.try_watch());  // one watcher per pool
    ec.prepare_wait(0);
    ec.notify_for_slot();
    auto deadline = soon();
    EXPECT_FALSE(ec.commit_wait(0, &deadline));
    ec.prepare_wait(0);
    ec.notify_one();  // work in a locked queue still wakes
    deadline = generous_deadline();
    EXPECT_TRUE(ec.commit_wait(0, &deadline));
    ec.stop_watching();
    ec.prepare_wait(0);
    ec.notify_for_slot();
    deadline = generous_deadline();
    EXPECT_TRUE(ec.commit_wait(0, &deadline));
}

TEST(EventCount, WakeReachesAnUnannouncedWaiterAndNotifyOneDoesNot) {
    event_count ec;
    ec.resize(1);
    ec.notify_one();  // not a sleeper: no token
    std::atomic<bool> returned{false};
    std::thread t([&] {
        ec.park_unannounced(0, nullptr);
        returned.store(true);
    });
    ec.wake(0);
    t.join();
    EXPECT_TRUE(returned.load());
}

TEST(EventCount, NotifyAllWakesEveryWaiter) {
    event_count ec;
    ec.resize(3);
    std::atomic<int> woken{0};
    dftracer::test::event ready[3];
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < 3; ++i) {
        threads.emplace_back([&, i] {
            ec.prepare_wait(i);
            ready[i].set();
            const auto deadline = generous_deadline();
            if (ec.commit_wait(i, &deadline)) woken.fetch_add(1);
        });
    }
    for (auto& r : ready) r.wait();
    ec.notify_all();
    for (auto& t : threads) t.join();
    EXPECT_EQ(woken.load(), 3);
}

TEST(EventCount, StressNoLostWakeUpBetweenPublishAndSleep) {
    // The consumer sleeps only after announcing and re-checking; the
    // producer publishes, then notifies. Every round must end, none waits
    // out its deadline.
    constexpr int rounds = 20000;
    event_count ec;
    ec.resize(1);
    std::atomic<int> published{0};
    std::atomic<int> timeouts{0};
    std::thread consumer([&] {
        for (int seen = 0; seen < rounds;) {
            if (published.load(std::memory_order_acquire) > seen) {
                ++seen;
                continue;
            }
            ec.prepare_wait(0);
            if (published.load(std::memory_order_acquire) > seen) {
                ec.cancel_wait(0);
                continue;
            }
            const auto deadline = steady::now() + std::chrono::seconds(5);
            if (!ec.commit_wait(0, &deadline)) timeouts.fetch_add(1);
        }
    });
    for (int i = 0; i < rounds; ++i) {
        published.fetch_add(1, std::memory_order_release);
        ec.notify_one();
        if (i % 64 == 0) std::this_thread::yield();
    }
    consumer.join();
    EXPECT_EQ(timeouts.load(), 0);
}
