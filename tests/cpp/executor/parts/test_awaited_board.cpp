// awaited_board: which records it lists, whose references it holds, when it
// lets them go, and whom it wakes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "awaited_board.hpp"

using dftracer::pool_kind;
using dftracer::task_state;
using dftracer::detail::awaited_board;
using dftracer::detail::parker;
using dftracer::detail::pending_finish;
using dftracer::detail::record;
using dftracer::detail::scheduler;
using dftracer::detail::wake_ref;

namespace {

/// A queued record of a made-up owner; the test moves its state by hand.
struct test_record final : record {
    test_record(const void* of, pool_kind on) {
        owner = static_cast<scheduler*>(const_cast<void*>(of));
        pool = on;
    }
    ~test_record() override { alive->store(false); }
    pending_finish run() noexcept override { return pending_finish::none; }
    void claim() { ASSERT_TRUE(try_claim()); }
    void finish() {
        ASSERT_TRUE(begin_finish(true));
        set_terminal(task_state::completed);
    }
    std::atomic<bool>* alive = nullptr;
};

/// Owners are only compared: any two distinct addresses do.
const int owner_a = 0;
const int owner_b = 0;
const auto* a = reinterpret_cast<const scheduler*>(&owner_a);
const auto* b = reinterpret_cast<const scheduler*>(&owner_b);

test_record* make(const scheduler* of, pool_kind on, std::atomic<bool>& alive) {
    auto* rec = new test_record(of, on);
    rec->alive = &alive;
    return rec;
}

}  // namespace

TEST(AwaitedBoard, ListsAQueuedRecordOnceAndHoldsItUntilItFinishes) {
    auto& board = awaited_board::instance();
    const std::size_t before = board.size();
    std::atomic<bool> alive{true};
    test_record* rec = make(a, pool_kind::compute, alive);
    board.note(*rec);
    board.note(*rec);  // a second awaiter: still one entry
    EXPECT_EQ(board.size(), before + 1);
    rec->release();  // the caller's reference: the board keeps it
    EXPECT_TRUE(alive.load());
    rec->claim();
    rec->finish();
    awaited_board::finished(*rec);  // as the scheduler does at every finish
    EXPECT_FALSE(alive.load());
    EXPECT_EQ(board.size(), before);
}

TEST(AwaitedBoard, DoesNotListARecordThatStarted) {
    auto& board = awaited_board::instance();
    const std::size_t before = board.size();
    std::atomic<bool> alive{true};
    test_record* rec = make(a, pool_kind::compute, alive);
    rec->claim();
    board.note(*rec);
    EXPECT_EQ(board.size(), before);
    EXPECT_FALSE(rec->on_awaited_board.load());
    rec->finish();
    rec->release();
    EXPECT_FALSE(alive.load());
}

TEST(AwaitedBoard, TakeFindsOnlyQueuedRecordsOfTheHelpersOwnPool) {
    auto& board = awaited_board::instance();
    std::atomic<bool> alive_io{true}, alive_b{true}, alive_a{true};
    test_record* io = make(a, pool_kind::io, alive_io);
    test_record* other = make(b, pool_kind::compute, alive_b);
    test_record* mine = make(a, pool_kind::compute, alive_a);
    for (test_record* rec : {io, other, mine}) board.note(*rec);
    EXPECT_TRUE(board.has_listed(a, pool_kind::compute));
    record* found = board.take(a, pool_kind::compute);
    ASSERT_EQ(found, mine);
    found->release();  // take()'s reference
    mine->claim();     // running now: no longer offered
    EXPECT_EQ(board.take(a, pool_kind::compute), nullptr);
    EXPECT_FALSE(board.has_listed(a, pool_kind::compute));
    for (test_record* rec : {io, other, mine}) {
        if (rec->state() == task_state::queued) rec->claim();
        rec->finish();
        awaited_board::finished(*rec);
        rec->release();
    }
    EXPECT_FALSE(alive_io.load() || alive_b.load() || alive_a.load());
}

TEST(AwaitedBoard, AFinishTheBoardMissedIsDroppedByTheNextCall) {
    auto& board = awaited_board::instance();
    const std::size_t before = board.size();
    std::atomic<bool> alive{true};
    test_record* rec = make(a, pool_kind::compute, alive);
    board.note(*rec);
    rec->release();
    rec->claim();
    rec->finish();  // finished() not called: as if the flag was missed
    EXPECT_TRUE(alive.load());
    EXPECT_EQ(board.take(b, pool_kind::io), nullptr);  // any call drops it
    EXPECT_FALSE(alive.load());
    EXPECT_EQ(board.size(), before);
}

TEST(AwaitedBoard, NoteWakesTheHelpersOfTheRecordsPool) {
    auto& board = awaited_board::instance();
    parker mine, theirs;
    const awaited_board::helper helper_a{wake_ref{nullptr, 0, &mine}, a, pool_kind::compute};
    const awaited_board::helper helper_b{wake_ref{nullptr, 0, &theirs}, b, pool_kind::compute};
    ASSERT_TRUE(board.join(helper_a));
    ASSERT_TRUE(board.join(helper_b));
    std::atomic<bool> alive{true};
    test_record* rec = make(a, pool_kind::compute, alive);
    board.note(*rec);  // wakes helper_a before it parks: the token stays
    const auto soon = dftracer::clock::now() + std::chrono::seconds(30);
    EXPECT_TRUE(mine.park_until(soon));
    EXPECT_FALSE(theirs.park_until(dftracer::clock::now()));  // not its pool's
    board.leave(helper_a);
    board.leave(helper_b);
    rec->claim();
    rec->finish();
    awaited_board::finished(*rec);
    rec->release();
    EXPECT_FALSE(alive.load());
}
