// Where a thread submits from. Every worker has a seat; a thread outside the
// pools takes one per executor it submits to (outside_seats), so that a
// submit writes only lines of its own thread: no shared counter, id or
// round-robin cursor is bumped per task. Threads past the seats' capacity
// share one seat whose counters are atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "task_counters.hpp"

namespace dftracer::detail {

/// How many consecutive jobs a seat pushes into one worker's inbox before
/// turning to the next worker. A worker takes its whole inbox over at once,
/// so a stretch of one submitter's jobs costs the two of them one meeting
/// on the inbox lock, whose line stays on the submitter's core meanwhile;
/// idle workers steal from the front of a busy one's inbox. (Same minutes,
/// 6 interleaved runs: 1M empty tasks from outside about 280 -> 230 ms,
/// four producers about 305 -> 270 ms, against turning at every job.)
inline constexpr std::uint32_t inbox_stretch = 64;

/// One thread's submit state at one executor. Owner thread only, except
/// counters (read by anyone) and, for the shared seat, the atomic counters.
struct submit_seat {
    task_counters counters;
    /// Task ids reserved for this seat: next_id up to id_limit (exclusive).
    /// Both stay 0 on the shared seat, which takes one id at a time.
    std::uint64_t next_id = 0;
    std::uint64_t id_limit = 0;
    /// This seat's pushes into inboxes so far: they go to the pool's
    /// workers in turn, inbox_stretch at a time (scheduler::next_peer()).
    std::uint32_t next_peer = 0;
};

/// The seats of threads outside the pools, a fixed number per executor.
/// take() and give_back() are lock-free and thread-safe; a seat's counts
/// stay in the sums after it is given back (the next taker adds to them).
class outside_seats {
public:
    static constexpr std::size_t capacity = 64;

    outside_seats() : entries_(std::make_unique<entry[]>(capacity)) {}

    /// A free seat (its counters single-writer from now on), or null when
    /// all are taken.
    submit_seat* take() noexcept {
        for (std::size_t i = 0; i < capacity; ++i) {
            if (entries_[i].taken.load(std::memory_order_relaxed)) continue;
            if (entries_[i].taken.exchange(true, std::memory_order_acquire)) continue;
            // Published before the first count: sums read seats below used().
            std::size_t seen = used_.load(std::memory_order_relaxed);
            while (seen < i + 1 && !used_.compare_exchange_weak(seen, i + 1, std::memory_order_release)) {
            }
            entries_[i].seat.counters.single_writer = true;
            return &entries_[i].seat;
        }
        return nullptr;
    }
    /// Gives back a seat from take(); the caller stops using it.
    void give_back(submit_seat* seat) noexcept {
        auto* e = reinterpret_cast<entry*>(seat);  // seat is entry's first member
        e->taken.store(false, std::memory_order_release);
    }
    /// Seats [0, used()) may hold counts.
    std::size_t used() const noexcept { return used_.load(std::memory_order_acquire); }
    const submit_seat& operator[](std::size_t i) const noexcept { return entries_[i].seat; }

private:
    struct alignas(64) entry {
        submit_seat seat;  // first: give_back() casts back to the entry
        std::atomic<bool> taken{false};
    };
    std::unique_ptr<entry[]> entries_;
    std::atomic<std::size_t> used_{0};
};

}  // namespace dftracer::detail
