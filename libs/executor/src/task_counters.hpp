// Task counters: one block per submitting thread, summed for totals.
#pragma once

#include <atomic>
#include <cstdint>

#include "dftracer/executor/types.hpp"

namespace dftracer::detail {

/// Task counters of one submit seat (see submit_seat.hpp): a seat held by
/// one thread counts with plain load+store increments (single writer, no
/// bus lock); the shared seat with atomic increments. Totals are sums over
/// all seats.
struct alignas(64) task_counters {
    enum index : int {
        submitted,
        started,
        completed,
        failed_started,
        cancelled_started,
        failed_unstarted,
        cancelled_unstarted,
        // Counted as submitted and cancelled_unstarted, but refused at the
        // door: a submit that raced shutdown() and threw. Progress reports
        // subtract it from both, so the caller's failed submit is not a task.
        withdrawn,
        count
    };
    std::atomic<std::uint64_t> values[count] = {};
    bool single_writer = false;

    void bump(index i) noexcept {
        if (single_writer) {
            values[i].store(values[i].load(std::memory_order_relaxed) + 1, std::memory_order_release);
        } else {
            values[i].fetch_add(1, std::memory_order_release);
        }
    }
    std::uint64_t read(index i) const noexcept { return values[i].load(std::memory_order_acquire); }
};

/// The counter a finished task adds to.
inline task_counters::index finish_counter(task_state terminal, bool was_started) noexcept {
    switch (terminal) {
        case task_state::completed:
            return task_counters::completed;
        case task_state::failed:
            return was_started ? task_counters::failed_started : task_counters::failed_unstarted;
        default:
            return was_started ? task_counters::cancelled_started : task_counters::cancelled_unstarted;
    }
}

}  // namespace dftracer::detail
