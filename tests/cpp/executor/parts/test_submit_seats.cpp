// Submit seats: outside_seats hands each taker its own seat, takes seats
// back, keeps given-back counts in the sums; through the executor, outside
// threads beyond the capacity share a seat and every count still adds up.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "submit_seat.hpp"

using namespace dftracer;
using namespace dftracer::detail;

TEST(OutsideSeats, EachTakerGetsItsOwnSeatUntilNoneIsLeft) {
    outside_seats seats;
    EXPECT_EQ(seats.used(), 0u);
    std::set<submit_seat*> taken;
    for (std::size_t i = 0; i < outside_seats::capacity; ++i) {
        submit_seat* seat = seats.take();
        ASSERT_NE(seat, nullptr);
        EXPECT_TRUE(seat->counters.single_writer);
        EXPECT_TRUE(taken.insert(seat).second);
        EXPECT_EQ(seats.used(), i + 1);
    }
    EXPECT_EQ(seats.take(), nullptr);
}

TEST(OutsideSeats, GivenBackSeatIsTakenAgainWithItsCounts) {
    outside_seats seats;
    submit_seat* first = seats.take();
    submit_seat* second = seats.take();
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    first->counters.bump(task_counters::submitted);
    seats.give_back(first);
    EXPECT_EQ(seats.used(), 2u);  // its count still belongs to the sums
    submit_seat* again = seats.take();
    EXPECT_EQ(again, first);
    EXPECT_EQ(again->counters.read(task_counters::submitted), 1u);
}

TEST(OutsideSeats, ConcurrentTakersNeverShareASeat) {
    outside_seats seats;
    constexpr int threads = 8;
    std::vector<std::vector<submit_seat*>> got(threads);
    std::vector<std::thread> takers;
    for (int t = 0; t < threads; ++t) {
        takers.emplace_back([&, t] {
            while (submit_seat* seat = seats.take()) got[static_cast<std::size_t>(t)].push_back(seat);
        });
    }
    for (auto& t : takers) t.join();
    std::set<submit_seat*> all;
    for (const auto& list : got) {
        for (submit_seat* seat : list) EXPECT_TRUE(all.insert(seat).second);
    }
    EXPECT_EQ(all.size(), outside_seats::capacity);
}

// More outside threads than seats, each submitting and exiting, in waves:
// seats are given back at thread exit and taken again; the threads past the
// capacity share one seat. Counts must add up exactly.
TEST(OutsideSeats, ManyShortLivedSubmittersKeepCountsExact) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    constexpr int waves = 3;
    constexpr int per_wave = static_cast<int>(outside_seats::capacity) + 16;
    constexpr int tasks_each = 200;
    std::atomic<int> ran{0};
    for (int wave = 0; wave < waves; ++wave) {
        std::vector<std::thread> submitters;
        for (int t = 0; t < per_wave; ++t) {
            submitters.emplace_back([&] {
                for (int i = 0; i < tasks_each; ++i) ex.post([&] { ran.fetch_add(1, std::memory_order_relaxed); });
            });
        }
        for (auto& t : submitters) t.join();
    }
    ex.wait_all();
    const auto expected = static_cast<std::uint64_t>(waves) * per_wave * tasks_each;
    EXPECT_EQ(static_cast<std::uint64_t>(ran.load()), expected);
    const task_counts c = ex.counts();
    EXPECT_EQ(c.total, expected);
    EXPECT_EQ(c.completed, expected);
    EXPECT_EQ(c.queued + c.running, 0u);
}

// Task ids stay unique across workers, seats and the shared seat.
TEST(OutsideSeats, TaskIdsAreUniqueAcrossSeats) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    constexpr int threads = 4;
    std::vector<std::vector<std::uint64_t>> ids(threads);
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            for (int i = 0; i < 1000; ++i) {
                auto h = ex.submit([&ex] { return ex.submit([] {}).id(); });
                ids[static_cast<std::size_t>(t)].push_back(h.id());
                ids[static_cast<std::size_t>(t)].push_back(h.get());
            }
        });
    }
    for (auto& t : submitters) t.join();
    std::set<std::uint64_t> all;
    for (const auto& list : ids) {
        for (auto id : list) EXPECT_TRUE(all.insert(id).second) << id;
    }
    EXPECT_EQ(all.size(), static_cast<std::size_t>(threads) * 2000);
}
