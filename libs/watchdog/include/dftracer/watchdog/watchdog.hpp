// watchdog: watches executors from its own thread and reports slow tasks,
// per-task timeouts, stalled pools and deadlocked pools.
//
// How it observes: every `interval` it reads each watched executor's
// lock-free per-worker samples (executor::sample_workers()) and, only while
// tasks with a timeout are live, executor::deadlines(). It adds nothing to the
// task path: no lock, allocation or system call is taken by a worker because a
// watchdog exists. Task names are looked up (executor::find_task) only when a
// report is being written.
//
// What it does on a finding: builds a watchdog_report, hands its line to the
// log sink, then calls every registered callback, and keeps watching. The only
// finding that acts on the executor is a timeout: the task's handle is failed
// with dftracer::task_timeout (releasing every waiter) and the task is asked
// to stop (this_task::stop_requested() turns true; a coroutine throws
// task_cancelled at its next suspension point). A running thread is never
// killed.
//
// Detection latency: a finding is reported at most its threshold plus two
// intervals after the condition began (slow and timeout: threshold plus one
// interval, as their start times are known exactly).
//
// Repeats: a slow task is reported when its running time reaches the
// threshold, then again at 2x, 4x, 8x ... the threshold, so a task stuck for
// an hour shows up about nine times, not once. Stalls and deadlocks escalate
// the same way for as long as the pool stays in that state; a new episode
// starts over at the threshold.
//
// Thread-safety: every member function may be called concurrently from any
// thread, including from a callback or a log sink running on the watchdog
// thread, except the destructor (see ~watchdog()).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "dftracer/watchdog/report.hpp"

namespace dftracer {

/// Thresholds and hooks. Defaults suit trace processing, where tasks take
/// milliseconds to minutes. A threshold of zero disables that check; negative
/// values make the watchdog constructor throw std::invalid_argument.
struct watchdog_config {
    /// Time between sampling passes. 250 ms keeps detection latency well
    /// under a second above each threshold while costing a few microseconds
    /// of one thread per pass. Zero: no thread; check_now() only.
    std::chrono::milliseconds interval{250};
    /// A task running longer than this is reported. 10 s: far above a typical
    /// trace chunk (milliseconds), so reports are rare, while a stuck read is
    /// named within seconds; minute-long tasks cost a handful of lines thanks
    /// to the doubling.
    std::chrono::milliseconds slow_threshold{10'000};
    /// Queued work and no start or finish on a fully busy pool for this long
    /// is a stall. 30 s: three slow thresholds, so a pool busy with a batch of
    /// legitimately long tasks is not flagged before its tasks are.
    std::chrono::milliseconds stall_threshold{30'000};
    /// Every worker of a pool blocked in a wait that cannot end, for this
    /// long. 5 s: a real deadlock never resolves, and a wait-for picture that
    /// stays frozen this long is not a passing hand-over.
    std::chrono::milliseconds deadlock_threshold{5'000};
    /// Enforce submit_options::timeout (fail the handle with task_timeout and
    /// request a stop). When false, timeouts are neither enforced nor reported.
    bool enforce_timeouts = true;
    /// The clock findings are measured with; empty means clock::now(). Must
    /// return time points of dftracer::clock (the executor's timestamps come
    /// from it), so a test clock is "steady now plus an offset". Called on the
    /// watchdog thread and by check_now().
    std::function<clock::time_point()> now;
    /// Where report lines and internal errors go. Default: stderr. An empty
    /// function silences logging (callbacks still run).
    log_sink_fn log_sink = stderr_log_sink;
    /// Start the sampling thread in the constructor (when interval > 0).
    bool start_thread = true;
    /// Name of the sampling thread, where the platform supports it (Linux
    /// truncates to 15 characters).
    std::string thread_name = "dft-watchdog";
};

class watchdog {
public:
    /// Validates the configuration (std::invalid_argument on a negative
    /// duration) and starts the thread when config.start_thread and
    /// config.interval > 0.
    explicit watchdog(watchdog_config config = {});

    /// Stops and joins the thread. Never touches a watched executor, so
    /// executors may outlive or predecease a destroyed watchdog. Must not run
    /// on the watchdog thread (from a callback or log sink): that aborts, as
    /// the thread cannot join itself. No other member call may be in progress.
    ~watchdog();

    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    /// Starts watching `ex` (from the next pass). The watchdog keeps a plain
    /// reference: call unwatch(ex) before `ex` is destroyed, or use the
    /// shared_ptr overload. False if `ex` was already watched. Blocks while a
    /// pass is running on another thread (a pass is short: microseconds per
    /// executor, plus the executor's on_error hook for timed-out tasks).
    bool watch(executor& ex);

    /// Starts watching an executor owned by shared_ptrs, without extending
    /// its life between passes: the watchdog holds a weak_ptr and forgets the
    /// executor once it expires, so destroying them in any order is safe with
    /// no unwatch(). During a pass it holds a strong reference; if every
    /// other owner let go meanwhile, the executor is destroyed on the watchdog
    /// thread (its destructor drains queued work) after the pass, with no
    /// watchdog lock held. False if already watched.
    bool watch(std::shared_ptr<executor> ex);

    /// Stops watching `ex`. When this returns the watchdog no longer touches
    /// `ex` (a pass in progress on another thread is waited for), so `ex` may
    /// be destroyed. Called from inside a pass on the same thread (from the
    /// executor's on_error hook) it takes effect at once for the rest of the
    /// pass. False if `ex` was not watched.
    bool unwatch(const executor& ex);

    /// True if `ex` is currently watched.
    bool is_watching(const executor& ex) const;

    /// Registers a callback for every future report; returns its id (never
    /// 0). Callbacks run on the watchdog thread, or on the thread calling
    /// check_now(), in registration order, after the log sink. An exception
    /// thrown by a callback is caught and logged (level error); it never
    /// stops the watchdog. A callback may call any member of this watchdog
    /// and of the executors, except destroying the watchdog.
    std::size_t add_callback(report_callback callback);

    /// Unregisters a callback. When this returns the callback is not running
    /// on any other thread and will not be called again, and it has been
    /// destroyed; called from inside that same callback, the current call
    /// finishes and the callback is destroyed after it returns. Blocks while
    /// the callback runs on another thread. False for an unknown id.
    bool remove_callback(std::size_t id);

    /// Starts the sampling thread if it is not running (no-op when interval
    /// is zero). Called on the watchdog thread it cancels a pending stop().
    void start();

    /// Stops the sampling thread and joins it (a pass in progress finishes
    /// first). Called on the watchdog thread (from a callback) it only asks
    /// the thread to exit after the current pass; the destructor or a later
    /// start() joins it. Safe to call repeatedly.
    void stop();

    /// True while the sampling thread is running and not asked to stop.
    bool running() const;

    /// Runs one sampling pass now, on the calling thread, at config().now().
    /// Reports are logged and passed to the callbacks (on this thread) and
    /// returned. Blocks while another pass runs. Called from inside a pass
    /// (an executor's on_error hook on the watchdog thread) it returns an
    /// empty vector without sampling.
    std::vector<watchdog_report> check_now();

    /// As check_now(), evaluating every threshold at time `now` instead of the
    /// configured clock (deterministic tests, or replaying a decision).
    /// Escalation and stall/deadlock state is shared with the thread's passes,
    /// so mixing both with different clocks gives meaningless results.
    std::vector<watchdog_report> check_at(clock::time_point now);

    /// The configuration given at construction (immutable).
    const watchdog_config& config() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace dftracer
