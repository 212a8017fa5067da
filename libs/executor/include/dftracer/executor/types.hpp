// Value types shared by the executor's public API: pools, task states,
// configuration, submit options, and the error types a task can end with.
//
// Everything here is a plain value: copyable, no hidden sharing, safe to pass
// between threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace dftracer {

/// Which pool runs a task. `compute` is sized for CPU work, `io` for tasks
/// that block in system calls (reads, decompression fed by reads, network).
enum class pool_kind : std::uint8_t { compute = 0, io = 1 };

/// Lifecycle of a task. `queued` -> `running` -> `completed` | `failed`;
/// `queued` -> `cancelled`. A running coroutine stays `running` while it is
/// suspended. Terminal states never change.
enum class task_state : std::uint8_t {
    queued = 0,
    running = 1,
    completed = 2,
    failed = 3,
    cancelled = 4,
};

/// What a task's body is: a C++ callable, a C++ coroutine, or Python code run
/// by the bindings. Shown as the trace category.
enum class task_kind : std::uint8_t { callable = 0, coroutine = 1, python = 2 };

/// "queued", "running", ... (static storage, never null).
const char* to_string(task_state state) noexcept;
/// "compute" or "io" (static storage, never null).
const char* to_string(pool_kind pool) noexcept;

/// True for completed, failed and cancelled.
constexpr bool is_terminal(task_state state) noexcept { return state >= task_state::completed; }

/// The clock every timestamp of the executor is taken from.
using clock = std::chrono::steady_clock;

struct task_info;

/// How an executor is built. Sizes of 0 mean "auto":
///  - compute threads: the number of CPUs this process may run on
///    (sched_getaffinity where available, else hardware_concurrency), at least 1;
///  - io threads: half the compute size, clamped to [2, 8]. I/O tasks spend
///    their time blocked, so they need few threads, but more than one so a
///    single slow file system call does not serialise all I/O.
/// Negative sizes make the executor constructor throw std::invalid_argument.
struct executor_config {
    int threads = 0;
    int io_threads = 0;
    /// Finished task records kept for introspection, per executor (the ring of
    /// recent tasks). Counts stay exact whatever this is. Must be >= 0.
    int history_size = 1024;
    /// Called once per failed task, on the thread that ran it, after the task's
    /// handle has failed and before wait_all() can observe the task as finished.
    /// Exceptions thrown by the hook are caught and ignored (the task's error is
    /// already recorded). Must be thread-safe.
    std::function<void(const task_info&, std::exception_ptr)> on_error;
    /// Called on a worker thread whenever it runs out of immediately available
    /// work: before it spins, sleeps, or parks inside a helping wait. Lets a
    /// language binding release a lock it kept across tasks (the Python GIL).
    /// Must be cheap and must not throw.
    std::function<void()> on_worker_idle;
    /// Called on each worker thread just before it exits. Must not throw.
    std::function<void()> on_worker_exit;
    /// Prefix for worker thread names ("<prefix>-c0", "<prefix>-io1").
    std::string thread_name_prefix = "dft";
};

/// Per-task options given at submit.
struct submit_options {
    std::string name;
    pool_kind pool = pool_kind::compute;
    /// Wall-clock budget from the moment the task starts running; zero means
    /// none. Enforced by a watchdog watching the executor: when it passes, the
    /// task's handle fails with task_timeout and cancellation is requested.
    std::chrono::nanoseconds timeout{0};
};

/// Thrown by get() on a handle whose task was cancelled before it ran, or
/// from a coroutine's suspension point after cancellation was requested.
class task_cancelled : public std::runtime_error {
public:
    task_cancelled() : std::runtime_error("task was cancelled") {}
    using std::runtime_error::runtime_error;
};

/// The error a task's handle fails with when its timeout passes.
class task_timeout : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Thrown by submit() and spawn() once shutdown() has begun.
class executor_shut_down : public std::runtime_error {
public:
    executor_shut_down() : std::runtime_error("executor is shut down") {}
};

}  // namespace dftracer
