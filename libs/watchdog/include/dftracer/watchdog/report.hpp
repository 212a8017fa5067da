// What the watchdog reports: one plain value per finding, and the text form
// handed to log sinks.
//
// Everything here is a value: copyable, owns its strings, safe to keep and to
// pass between threads. A report never keeps its executor alive; `source` is
// an identity to compare against, valid to dereference only while the caller
// knows that executor still exists.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dftracer/executor/types.hpp"

namespace dftracer {

class executor;

/// The four findings.
///  - slow:     a task has been running on a worker longer than the slow
///              threshold (reported again each time its running time doubles);
///  - timeout:  a task's own submit_options::timeout passed; its handle was
///              failed with task_timeout and it was asked to stop;
///  - stall:    a pool has queued work, every worker of it is busy and no task
///              started or finished there for the stall threshold;
///  - deadlock: every worker of a pool is blocked waiting for a task, and the
///              wait-for chains show that none of those waits can end.
enum class report_kind : std::uint8_t { slow = 0, timeout = 1, stall = 2, deadlock = 3 };

/// "slow", "timeout", "stall", "deadlock" (static storage, never null).
const char* to_string(report_kind kind) noexcept;

/// One finding. For slow and timeout reports the task, worker and thread are
/// the task's own; for stall the pool's longest-running task; for deadlock the
/// first task of the wait-for cycle (or the pool's first worker's task when no
/// cycle is known).
struct watchdog_report {
    report_kind kind = report_kind::slow;
    /// The executor observed (identity only; see the file comment).
    const executor* source = nullptr;
    pool_kind pool = pool_kind::compute;
    std::uint64_t task_id = 0;  ///< 0 when no task applies
    std::string task_name;
    int worker = -1;  ///< global worker id, -1 when none
    /// pthread_self() of that worker (Python's threading.get_ident()), so a
    /// caller can attach that thread's stack; 0 when unknown.
    std::uint64_t native_thread = 0;
    /// slow: how long the task has been running on its worker; timeout: time
    /// since the task started; stall/deadlock: how long the pool has been
    /// observed in that state.
    std::chrono::nanoseconds elapsed{0};
    /// One line of text, complete on its own (no trailing newline).
    std::string message;
    /// deadlock: the wait-for cycle, as the task each worker on it is running
    /// (innermost), in order: each waits for the next (or for a task that the
    /// next one's worker holds beneath it, having run the next one while
    /// helping), and the last for the first. Empty when no cycle is known (for
    /// example a wait on a suspended coroutine, whose edges are not sampled).
    std::vector<std::uint64_t> cycle;
    /// deadlock: serial() of the executor each task of `cycle` belongs to (a
    /// cycle may run through other executors: a task waiting on another
    /// runtime's task, which waits back).
    std::vector<std::uint64_t> cycle_executors;
    /// Every worker the report is about (slow/timeout: one; stall: the whole
    /// pool; deadlock: the pool plus workers on its wait-for chains), with
    /// their native thread ids at the same index.
    std::vector<int> workers;
    std::vector<std::uint64_t> native_threads;
};

/// Severity given to log sinks: deadlocks and internal errors (such as a
/// callback that threw) are `error`, everything else `warning`.
enum class log_level : std::uint8_t { warning = 0, error = 1 };

/// "warning" or "error" (static storage, never null).
const char* to_string(log_level level) noexcept;

/// A log sink receives one line per report (`report` points at it for the
/// duration of the call) and one line per internal error (`report` null).
/// Called on the watchdog thread or on the caller of check_now(); it must be
/// thread-safe if it can be reached from several threads. Exceptions it
/// throws are caught and written to stderr.
using log_sink_fn = std::function<void(log_level level, const std::string& line, const watchdog_report* report)>;

/// A callback receives every report, by reference, for the duration of the
/// call (copy it to keep it).
using report_callback = std::function<void(const watchdog_report& report)>;

/// The line a report is logged as: "<kind>: <message>".
std::string format_report(const watchdog_report& report);

/// Severity of a report kind (deadlock: error; others: warning).
log_level level_of(report_kind kind) noexcept;

/// The default sink: writes "dftracer watchdog <level>: <line>\n" to stderr
/// with one write call, so concurrent lines do not interleave.
void stderr_log_sink(log_level level, const std::string& line, const watchdog_report* report) noexcept;

}  // namespace dftracer
