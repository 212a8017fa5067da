// registry_shard: where a started record is (running stack, finished batch,
// locked list), who moves it, and that a reader holding the lock reaches
// every such record, alive, at every moment.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "task_registry.hpp"

using dftracer::task_state;
using dftracer::detail::pending_finish;
using dftracer::detail::record;
using dftracer::detail::registry_shard;

namespace {

std::atomic<int> destroyed{0};

/// A record whose body is never run here; the test moves its state by hand.
/// `alive` is cleared by the destructor, so a reader can tell a freed one
/// (AddressSanitizer, which the pool defers to, reports the read itself).
struct test_record final : record {
    explicit test_record(std::uint64_t task_id, std::uint32_t refs = 1) {
        id = task_id;
        add_refs_unpublished(refs - 1);  // a record starts with one
        try_claim();                     // started: running
    }
    ~test_record() override {
        alive.store(false, std::memory_order_relaxed);
        destroyed.fetch_add(1, std::memory_order_relaxed);
    }
    pending_finish run() noexcept override { return pending_finish::none; }
    void finish() {
        ASSERT_TRUE(begin_finish());
        set_terminal(task_state::completed);
    }
    std::atomic<bool> alive{true};
};

std::vector<std::uint64_t> live_ids(registry_shard& shard) {
    std::vector<std::uint64_t> ids;
    std::lock_guard<dftracer::detail::spin_lock> guard(shard.lock);
    shard.for_each_live([&](record& rec) { ids.push_back(rec.id); });
    return ids;
}

std::set<std::uint64_t> history_ids(registry_shard& shard) {
    std::set<std::uint64_t> ids;
    std::lock_guard<dftracer::detail::spin_lock> guard(shard.lock);
    shard.history.for_each([&](const auto& entry) { ids.insert(entry.id); });
    return ids;
}

}  // namespace

TEST(TaskRegistry, FinishedRunIsBatchedThenFlushedToHistoryAndReleased) {
    registry_shard shard;
    shard.history.resize(8);
    const int before = destroyed.load();
    auto* rec = new test_record(7);
    shard.enter(*rec, 3);
    EXPECT_EQ(rec->live_shard, 3);
    EXPECT_EQ(live_ids(shard), std::vector<std::uint64_t>{7});
    rec->finish();
    EXPECT_FALSE(shard.leave(*rec, 1));  // batched, holding the reference
    EXPECT_EQ(live_ids(shard), std::vector<std::uint64_t>{7});
    EXPECT_EQ(destroyed.load(), before);
    shard.flush();
    EXPECT_TRUE(live_ids(shard).empty());
    EXPECT_EQ(history_ids(shard), std::set<std::uint64_t>{7});
    EXPECT_EQ(destroyed.load(), before + 1);
}

TEST(TaskRegistry, NestedRunsStackInnermostFirst) {
    registry_shard shard;
    auto* outer = new test_record(1);
    auto* inner = new test_record(2);
    shard.enter(*outer, 0);
    shard.enter(*inner, 0);
    EXPECT_EQ(live_ids(shard), (std::vector<std::uint64_t>{2, 1}));
    inner->finish();
    EXPECT_FALSE(shard.leave(*inner, 1));
    outer->finish();
    EXPECT_FALSE(shard.leave(*outer, 1));
    EXPECT_EQ(live_ids(shard), (std::vector<std::uint64_t>{2, 1}));  // now both in the batch
    shard.flush();
    EXPECT_TRUE(live_ids(shard).empty());
}

TEST(TaskRegistry, UnfinishedRunMovesToListUntilFinishedElsewhere) {
    registry_shard shard;
    shard.history.resize(8);
    const int before = destroyed.load();
    auto* rec = new test_record(5, 2);  // the run's reference and the finisher's
    shard.enter(*rec, 0);
    EXPECT_FALSE(shard.leave(*rec, 1));  // suspended: into the list, the run's reference dropped
    EXPECT_EQ(live_ids(shard), std::vector<std::uint64_t>{5});
    EXPECT_EQ(destroyed.load(), before);
    rec->finish();
    EXPECT_TRUE(shard.finish_elsewhere(*rec, task_state::completed));  // unlinked and recorded now
    EXPECT_TRUE(live_ids(shard).empty());
    EXPECT_EQ(history_ids(shard), std::set<std::uint64_t>{5});
    rec->release();  // the finisher's
    EXPECT_EQ(destroyed.load(), before + 1);
}

TEST(TaskRegistry, RecordFinishedElsewhereWhileRunningIsLeftToItsWorker) {
    registry_shard shard;
    shard.history.resize(8);
    auto* rec = new test_record(9, 2);
    shard.enter(*rec, 0);
    rec->finish();
    EXPECT_FALSE(shard.finish_elsewhere(*rec, task_state::completed));  // on the stack: the worker's
    rec->release();                                                     // the finisher's goes at once
    EXPECT_EQ(live_ids(shard), std::vector<std::uint64_t>{9});
    EXPECT_FALSE(shard.leave(*rec, 1));  // finished: batched, not listed
    shard.flush();
    EXPECT_EQ(history_ids(shard), std::set<std::uint64_t>{9});
}

TEST(TaskRegistry, RetiredListRecordIsUnlinkedAtFlush) {
    registry_shard shard;
    shard.history.resize(8);
    auto* rec = new test_record(4, 1);
    shard.enter(*rec, 0);
    rec->add_ref();  // the finish reference, which covers the list
    EXPECT_FALSE(shard.leave(*rec, 1));
    rec->finish();  // a later run on the same worker finishes it
    EXPECT_FALSE(shard.retire(*rec, 1));
    EXPECT_EQ(live_ids(shard), (std::vector<std::uint64_t>{4, 4}));  // batch and list: seen twice
    shard.flush();
    EXPECT_TRUE(live_ids(shard).empty());
    EXPECT_EQ(history_ids(shard), std::set<std::uint64_t>{4});
}

TEST(TaskRegistry, LeaveSaysWhenTheBatchIsFull) {
    registry_shard shard;
    for (std::size_t i = 1; i <= registry_shard::batch_capacity; ++i) {
        auto* rec = new test_record(i);
        shard.enter(*rec, 0);
        rec->finish();
        EXPECT_EQ(shard.leave(*rec, 1), i == registry_shard::batch_capacity) << i;
    }
    EXPECT_EQ(live_ids(shard).size(), registry_shard::batch_capacity);
    shard.flush();
    EXPECT_TRUE(live_ids(shard).empty());
}

// The owner runs records through every place (outer run on the stack
// throughout; inner runs finished, nesting a run of their own, or
// suspended then finished elsewhere or retired here; flushes); a reader,
// under the lock, must find every record entered and not yet in the
// history, and only live ones.
TEST(TaskRegistry, ReaderReachesEveryRecordAliveWhileTheOwnerMovesThem) {
    registry_shard shard;
    shard.history.resize(4 * registry_shard::batch_capacity);
    constexpr std::uint64_t rounds = 200000;
    constexpr std::uint64_t nested_ids = 1u << 30;  // ids of nested runs, not checked for order
    std::atomic<std::uint64_t> entered{0};
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> checks{0};
    std::atomic<bool> failed{false};
    auto* outer = new test_record(0);  // on the stack throughout
    shard.enter(*outer, 0);

    std::thread reader([&] {
        while (!stop.load(std::memory_order_acquire)) {
            std::uint64_t newest = 0;
            std::set<std::uint64_t> seen;
            bool outer_seen = false;
            {
                // Read under the lock: the owner cannot flush meanwhile, so
                // nothing it entered can have left the history yet.
                std::lock_guard<dftracer::detail::spin_lock> guard(shard.lock);
                newest = entered.load(std::memory_order_acquire);
                shard.for_each_live([&](record& rec) {
                    if (!static_cast<test_record&>(rec).alive.load(std::memory_order_relaxed)) {
                        failed = true;
                        ADD_FAILURE() << "freed record reached: " << rec.id;
                    }
                    if (rec.id == 0) outer_seen = true;
                    seen.insert(rec.id);
                });
                shard.history.for_each([&](const auto& entry) { seen.insert(entry.id); });
            }
            if (!outer_seen) {
                failed = true;
                ADD_FAILURE() << "outer run missing";
            }
            // The last few entered are either still held or in the history.
            for (std::uint64_t id = newest > 8 ? newest - 8 : 1; id <= newest; ++id) {
                if (seen.count(id) == 0) {
                    failed = true;
                    ADD_FAILURE() << "record " << id << " missing (newest entered: " << newest << ")";
                }
            }
            checks.fetch_add(1, std::memory_order_relaxed);
        }
    });

    for (std::uint64_t id = 1; id <= rounds; ++id) {
        auto* rec = new test_record(id, 2);  // the run's and the finish reference
        shard.enter(*rec, 0);
        entered.store(id, std::memory_order_release);
        bool full = false;
        switch (id % 4) {
            case 0:  // suspended, then finished by another thread
                full = shard.leave(*rec, 1);
                rec->finish();
                shard.finish_elsewhere(*rec, task_state::completed);
                rec->release();
                break;
            case 1:  // suspended, then finished by a later run here
                full = shard.leave(*rec, 1);
                rec->finish();
                full = shard.retire(*rec, 1) || full;
                break;
            case 2: {  // a nested run inside it
                auto* inner = new test_record(id + nested_ids, 1);
                shard.enter(*inner, 0);
                inner->finish();
                full = shard.leave(*inner, 1);
                rec->finish();
                full = shard.leave(*rec, 2) || full;
                break;
            }
            default:
                rec->finish();
                full = shard.leave(*rec, 2);
        }
        if (full) shard.flush();
    }
    // Let the reader look at the final state too.
    const std::uint64_t target = checks.load() + 10;
    while (checks.load() < target) std::this_thread::yield();
    stop = true;
    reader.join();
    outer->finish();
    EXPECT_FALSE(shard.leave(*outer, 1));
    shard.flush();
    EXPECT_FALSE(failed.load());
    EXPECT_TRUE(live_ids(shard).empty());
}
