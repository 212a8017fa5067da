// When to repeat a report: at the threshold, then each time the elapsed time
// doubles. Also the "same state since" tracker behind stall and deadlock.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "dftracer/executor/types.hpp"

namespace dftracer::watchdog_detail {

using std::chrono::nanoseconds;

/// Doubling schedule. Levels are threshold * 1, 2, 4, ...
class escalation {
public:
    /// True if `elapsed` reached the next level.
    bool due(nanoseconds elapsed, nanoseconds threshold) const noexcept {
        return threshold.count() > 0 && reached(elapsed, threshold, factor_);
    }
    /// Moves past every level `elapsed` reached, so one report covers a jump
    /// over several levels (e.g. a first look at a task an hour old).
    void advance(nanoseconds elapsed, nanoseconds threshold) noexcept {
        while (factor_ < max_factor && reached(elapsed, threshold, factor_)) factor_ *= 2;
    }
    void reset() noexcept { factor_ = 1; }

private:
    // 2^40 levels cover any realistic run even with a 1 ns threshold.
    static constexpr std::int64_t max_factor = std::int64_t{1} << 40;

    static bool reached(nanoseconds elapsed, nanoseconds threshold, std::int64_t factor) noexcept {
        if (threshold.count() > std::numeric_limits<std::int64_t>::max() / factor) return false;
        return elapsed.count() >= threshold.count() * factor;
    }

    std::int64_t factor_ = 1;
};

/// Tracks how long a condition has held with an unchanged signature (the
/// per-worker task ids and counters of a pool). A changed signature means
/// something started or finished: the episode restarts.
class episode {
public:
    /// Records this pass; returns how long the condition has held with this
    /// signature (zero on the first pass that sees it), or a negative value
    /// when the condition does not hold.
    nanoseconds observe(bool condition, const std::vector<std::uint64_t>& signature, clock::time_point now) {
        if (!condition) {
            active_ = false;
            return nanoseconds(-1);
        }
        if (!active_ || signature != signature_) {
            active_ = true;
            signature_ = signature;
            since_ = now;
            schedule_.reset();
            return nanoseconds(0);
        }
        const auto elapsed = std::chrono::duration_cast<nanoseconds>(now - since_);
        return elapsed.count() < 0 ? nanoseconds(0) : elapsed;
    }
    escalation& schedule() noexcept { return schedule_; }

private:
    bool active_ = false;
    std::vector<std::uint64_t> signature_;
    clock::time_point since_{};
    escalation schedule_;
};

}  // namespace dftracer::watchdog_detail
