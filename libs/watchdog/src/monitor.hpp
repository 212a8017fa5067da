// Per-executor detection: one executor_monitor per watched executor keeps the
// escalation and episode state between passes; a pass_view is what one pass
// read from the executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "dftracer/watchdog/report.hpp"
#include "escalation.hpp"

namespace dftracer::watchdog_detail {

struct pass_settings {
    nanoseconds slow{0};
    nanoseconds stall{0};
    nanoseconds deadlock{0};
    bool timeouts = true;
};

/// What one pass read of one executor: its worker samples, taken once, and
/// task lookups cached for the pass (they take the executor's registry
/// locks, so they happen only while a report is being written).
class executor_view {
public:
    virtual ~executor_view() = default;

    std::uint64_t serial = 0;  ///< the executor's serial()
    std::vector<worker_sample> samples;

    /// The task's record, or null when the executor no longer knows it.
    const task_info* find(std::uint64_t id);
    /// "task 12 'parse'" (on another executor than the pass's: "... of
    /// executor 3").
    std::string label(std::uint64_t id);
    std::string name_of(std::uint64_t id);
    /// "worker 0 (compute)", qualified like label().
    std::string worker_name(const worker_sample& s) const;
    /// The sample of global worker `id`, or null.
    const worker_sample* worker(int id) const;

protected:
    virtual std::optional<task_info> lookup(std::uint64_t id) = 0;
    virtual bool foreign() const { return false; }

private:
    std::unordered_map<std::uint64_t, std::optional<task_info>> cache_;
};

/// Another executor that a wait leads into, reached through
/// visit_executor(): it may be destroyed between two lookups (a lookup then
/// finds nothing).
class foreign_view final : public executor_view {
public:
    /// Null when no live executor has this serial.
    static std::unique_ptr<foreign_view> read(std::uint64_t serial);

protected:
    std::optional<task_info> lookup(std::uint64_t id) override;
    bool foreign() const override { return true; }
};

/// One pass over one watched executor.
class pass_view final : public executor_view {
public:
    pass_view(executor& ex, clock::time_point now);

    executor& ex;
    clock::time_point now;

    /// The view of the executor with this serial: this one, another read
    /// once per pass, or null if none is alive.
    executor_view* view_of(std::uint64_t serial);
    /// A report about `task` on `worker` (worker may be -1), with identity
    /// fields filled in (the name looked up unless given); the caller adds
    /// elapsed, message and extras.
    watchdog_report make_report(report_kind kind, pool_kind pool, std::uint64_t task, int worker,
                                const std::string* name = nullptr);

protected:
    std::optional<task_info> lookup(std::uint64_t id) override { return ex.find_task(id); }

private:
    std::unordered_map<std::uint64_t, std::unique_ptr<foreign_view>> others_;
};

/// What the wait-for analysis found for a pool whose workers all wait.
struct deadlock_finding {
    std::vector<std::uint64_t> cycle;            ///< see watchdog_report::cycle
    std::vector<std::uint64_t> cycle_executors;  ///< and cycle_executors
    std::vector<int> workers;                    ///< every worker on the chains
    int lead_worker = -1;                        ///< first worker of the cycle, or of the pool
    std::string chains;                          ///< human description of the chains
};

/// Follows every wait-for chain from `pool`'s workers (all of which wait).
/// Returns a finding only if no chain can end: each reaches a cycle, a task
/// queued on a pool whose workers all wait, or (when no worker of the
/// executor is running un-blocked) a task whose position is not sampled.
std::optional<deadlock_finding> find_deadlock(pass_view& view, pool_kind pool);

class executor_monitor {
public:
    /// One pass. `dropped` turns true if the executor is unwatched during the
    /// pass (from its on_error hook, run by fail_task on this thread); the
    /// pass then stops touching it.
    void run(executor& ex, const pass_settings& settings, clock::time_point now, std::vector<watchdog_report>& out,
             const bool& dropped);

private:
    void check_timeouts(pass_view& view, std::vector<watchdog_report>& out, const bool& dropped);
    void check_slow(pass_view& view, nanoseconds threshold, std::vector<watchdog_report>& out);
    void check_stall(pass_view& view, pool_kind pool, nanoseconds threshold, std::vector<watchdog_report>& out);
    void check_deadlock(pass_view& view, pool_kind pool, nanoseconds threshold, std::vector<watchdog_report>& out);

    /// Reported slow tasks by id (only those: a healthy executor leaves it empty).
    std::unordered_map<std::uint64_t, escalation> slow_;
    episode stall_[2];
    episode deadlock_[2];
};

}  // namespace dftracer::watchdog_detail
