// worker_queue: who may push, pop and steal, and what a thief may see.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "worker_queue.hpp"

using dftracer::detail::job;
using dftracer::detail::worker_queue;

namespace {
// Jobs are tagged pointers with two spare low bits: any multiple of 4 will do.
constexpr job j(int n) { return static_cast<job>(n) * 8; }

/// Steals until the slot's job is given up (the steal rule's delay) or a
/// generous deadline passes.
bool steal_slot_eventually(worker_queue& q, job& out) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (q.steal(out, true, false)) return true;
        std::this_thread::yield();
    }
    return false;
}
}  // namespace

TEST(WorkerQueue, OwnerPopsNewestOwnJobFirstThenInboxInOrder) {
    worker_queue q;
    q.push_inbox(j(1));
    q.push_inbox(j(2));
    EXPECT_TRUE(q.push_own(j(3)));   // into the empty slot
    EXPECT_FALSE(q.push_own(j(4)));  // the slot's job moves to local
    EXPECT_EQ(q.size(), 4u);
    job out = 0;
    std::vector<job> order;
    while (q.pop_own(out)) order.push_back(out);
    EXPECT_EQ(order, (std::vector<job>{j(4), j(3), j(1), j(2)}));
    EXPECT_EQ(q.size(), 0u);
}

TEST(WorkerQueue, OwnBatchRunsInOrderForTheOwnerAndFromTheEndForThieves) {
    worker_queue q;
    EXPECT_TRUE(q.push_own(j(9)));  // older than the batch
    q.push_own_batch(4, [](auto&& push) {
        for (int i = 1; i <= 4; ++i) push(j(i));
    });
    EXPECT_EQ(q.size(), 5u);
    EXPECT_FALSE(q.slot_holds_job());  // the slot's job went behind the batch
    job out = 0;
    ASSERT_TRUE(q.steal(out, true, false));
    EXPECT_EQ(out, j(9));  // a thief takes the oldest: the former slot job
    ASSERT_TRUE(q.steal(out, true, false));
    EXPECT_EQ(out, j(4));  // then the batch from its end
    std::vector<job> order;
    while (q.pop_own(out)) order.push_back(out);
    EXPECT_EQ(order, (std::vector<job>{j(1), j(2), j(3)}));
}

TEST(WorkerQueue, InboxBatchKeepsItsOrderAndAnEmptyBatchChangesNothing) {
    worker_queue q;
    q.push_inbox(j(1));
    q.push_inbox_batch(3, [](auto&& push) {
        for (int i = 2; i <= 4; ++i) push(j(i));
    });
    q.push_inbox_batch(0, [](auto&&) {});
    q.push_own_batch(0, [](auto&&) {});
    EXPECT_EQ(q.size(), 4u);
    job out = 0;
    std::vector<job> order;
    while (q.steal(out, true, false)) order.push_back(out);
    EXPECT_EQ(order, (std::vector<job>{j(1), j(2), j(3), j(4)}));
}

TEST(WorkerQueue, ThiefTakesOldestLockedJobAndLeavesTheSlotAtFirst) {
    worker_queue q;
    q.push_own(j(1));
    q.push_own(j(2));  // j(1) to local, j(2) in the slot
    q.push_inbox(j(3));
    job out = 0;
    ASSERT_TRUE(q.steal(out, true, false));
    EXPECT_EQ(out, j(3));  // inbox first
    ASSERT_TRUE(q.steal(out, true, false));
    EXPECT_EQ(out, j(1));  // then the oldest of local
    // The slot's job is not taken on first sight.
    EXPECT_FALSE(q.steal(out, true, false));
    EXPECT_TRUE(q.slot_holds_job());
}

TEST(WorkerQueue, SlotJobIsStolenOnceItStaysThereLongEnough) {
    worker_queue q;
    q.push_own(j(7));
    job out = 0;
    ASSERT_TRUE(steal_slot_eventually(q, out));
    EXPECT_EQ(out, j(7));
    EXPECT_FALSE(q.pop_own(out));  // taken exactly once
}

TEST(WorkerQueue, SlotJobIsStolenAtOnceWhenTheOwnerSleeps) {
    worker_queue q;
    q.push_own(j(7));
    job out = 0;
    ASSERT_TRUE(q.steal(out, true, true));
    EXPECT_EQ(out, j(7));
}

TEST(WorkerQueue, ThiefLeavesTheSlotWhenNotLookingAtIt) {
    worker_queue q;
    q.push_own(j(7));
    job out = 0;
    EXPECT_FALSE(q.steal(out, false, true));
    EXPECT_TRUE(q.pop_own(out));
}

TEST(WorkerQueue, APushIntoTheSlotRestartsTheSighting) {
    worker_queue q;
    q.push_own(j(1));
    job out = 0;
    EXPECT_FALSE(q.steal(out, true, false));  // sighted
    ASSERT_TRUE(q.pop_own(out));
    q.push_own(j(1));  // the same address again, but a new push
    // Seen for the first time again: not taken on this look.
    EXPECT_FALSE(q.steal(out, true, false));
}

TEST(WorkerQueue, OwnChildrenExcludeTheInbox) {
    worker_queue q;
    q.push_inbox(j(1));
    job out = 0;
    EXPECT_FALSE(q.pop_own_child(out));
    q.push_own(j(2));
    q.push_own(j(3));
    ASSERT_TRUE(q.pop_own_child(out));
    EXPECT_EQ(out, j(3));
    ASSERT_TRUE(q.pop_own_child(out));
    EXPECT_EQ(out, j(2));
    EXPECT_FALSE(q.pop_own_child(out));
    EXPECT_EQ(q.size(), 1u);
}

TEST(WorkerQueue, TakeIfNewestRemovesOnlyTheSlotsOrLocalsNewestJob) {
    worker_queue q;
    q.push_own(j(1));
    q.push_own(j(2));
    q.push_own(j(3));  // local: 1 2, slot: 3
    q.push_inbox(j(4));
    EXPECT_FALSE(q.take_if_newest(j(1)));
    EXPECT_FALSE(q.take_if_newest(j(4)));  // the inbox is never searched
    EXPECT_TRUE(q.take_if_newest(j(3)));   // from the slot
    EXPECT_TRUE(q.take_if_newest(j(2)));   // the newest of local
    EXPECT_TRUE(q.take_if_newest(j(1)));
    EXPECT_EQ(q.size(), 1u);
}

TEST(WorkerQueue, ForEachQueuedListsTheSlotAndKeepsEveryJobQueued) {
    worker_queue q;
    q.push_inbox(j(1));
    q.push_own(j(2));
    std::set<job> seen;
    q.for_each_queued([&](job x) { seen.insert(x); });
    EXPECT_EQ(seen, (std::set<job>{j(1), j(2)}));
    EXPECT_FALSE(q.slot_holds_job());  // moved into the locked queue
    job out = 0;
    std::set<job> popped;
    while (q.pop_own(out)) popped.insert(out);
    EXPECT_EQ(popped, seen);
}

TEST(WorkerQueue, StressEveryJobIsTakenExactlyOnce) {
    constexpr int jobs = 200000;
    constexpr int thieves = 2;
    worker_queue q;
    std::atomic<bool> done{false};
    std::vector<std::vector<job>> taken(thieves + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < thieves; ++t) {
        threads.emplace_back([&, t] {
            job out = 0;
            while (!done.load(std::memory_order_acquire)) {
                if (q.steal(out, true, t == 0)) taken[static_cast<std::size_t>(t) + 1].push_back(out);
            }
            while (q.steal(out, true, true)) taken[static_cast<std::size_t>(t) + 1].push_back(out);
        });
    }
    job out = 0;
    for (int i = 1; i <= jobs; ++i) {
        if (i % 3 == 0) {
            q.push_inbox(j(i));
        } else {
            q.push_own(j(i));
        }
        if (i % 2 == 0 && q.pop_own(out)) taken[0].push_back(out);
    }
    done.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    while (q.pop_own(out)) taken[0].push_back(out);
    std::set<job> all;
    std::size_t count = 0;
    for (const auto& list : taken) {
        count += list.size();
        all.insert(list.begin(), list.end());
    }
    EXPECT_EQ(count, static_cast<std::size_t>(jobs));
    EXPECT_EQ(all.size(), static_cast<std::size_t>(jobs));
}

TEST(WorkerQueue, InboxJobsTakenOverByTheOwnerStayStealableAndListed) {
    worker_queue q;
    for (int i = 1; i <= 4; ++i) q.push_inbox(j(i));
    job out = 0;
    ASSERT_TRUE(q.pop_own(out));  // takes the whole inbox over, runs the oldest
    EXPECT_EQ(out, j(1));
    q.push_inbox(j(5));  // a new inbox job, behind the ones taken over
    EXPECT_EQ(q.size(), 4u);
    std::vector<job> listed;
    q.for_each_queued([&](job queued) { listed.push_back(queued); });
    EXPECT_EQ(std::set<job>(listed.begin(), listed.end()), (std::set<job>{j(2), j(3), j(4), j(5)}));
    ASSERT_TRUE(q.steal(out, true, false));
    EXPECT_EQ(out, j(5));  // a thief looks at the inbox first
    ASSERT_TRUE(q.steal(out, true, false));
    EXPECT_EQ(out, j(2));  // then at the oldest job taken over
    std::vector<job> order;
    while (q.pop_own(out)) order.push_back(out);
    EXPECT_EQ(order, (std::vector<job>{j(3), j(4)}));
}

TEST(WorkerQueue, StressPushersOwnerAndThiefTakeEveryInboxJobOnce) {
    constexpr int per_pusher = 100000;
    constexpr int pushers = 2;
    worker_queue q;
    std::atomic<int> pushers_left{pushers};
    std::vector<std::vector<job>> taken(2);  // [0] owner, [1] thief
    std::vector<std::thread> threads;
    for (int p = 0; p < pushers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 1; i <= per_pusher; ++i) q.push_inbox(j(p * per_pusher + i));
            pushers_left.fetch_sub(1, std::memory_order_release);
        });
    }
    threads.emplace_back([&] {
        job out = 0;
        while (pushers_left.load(std::memory_order_acquire) != 0) {
            if (q.steal(out, true, false)) taken[1].push_back(out);
        }
    });
    job out = 0;
    int listings = 0;
    while (pushers_left.load(std::memory_order_acquire) != 0) {
        if (q.pop_own(out)) taken[0].push_back(out);
        if (++listings % 1000 == 0) q.for_each_queued([](job) {});
    }
    for (auto& t : threads) t.join();
    while (q.pop_own(out)) taken[0].push_back(out);
    std::set<job> all(taken[0].begin(), taken[0].end());
    all.insert(taken[1].begin(), taken[1].end());
    EXPECT_EQ(taken[0].size() + taken[1].size(), static_cast<std::size_t>(pushers * per_pusher));
    EXPECT_EQ(all.size(), static_cast<std::size_t>(pushers * per_pusher));
}
