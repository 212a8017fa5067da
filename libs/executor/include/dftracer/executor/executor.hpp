// executor: two pools of worker threads (compute and io) running callables and
// coroutines, with work-helping waits and lock-free introspection.
//
// Thread-safety: every member function may be called concurrently from any
// thread, including from tasks running on this executor.
// Lifetime: the destructor drains queued work (like shutdown(true)) and joins
// the workers; it must not run on one of this executor's own workers.
// Handles and task records outlive the executor safely: a handle of a task
// that never ran reports `cancelled`.
// fork(): a child process has none of the executor's threads. An executor
// made before the fork must not be used in the child (waits there never
// end); shutting it down or destroying it is safe (its memory is left).
// Make a new executor in the child instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/submit.hpp"
#include "dftracer/executor/introspection.hpp"
#include "dftracer/executor/task.hpp"
#include "dftracer/executor/task_handle.hpp"
#include "dftracer/executor/types.hpp"
#include "dftracer/executor/when_all.hpp"

namespace dftracer {

class executor {
public:
    /// Starts the workers. Throws std::invalid_argument for negative sizes
    /// and for more than 4096 threads in a pool (checked before anything is
    /// allocated; every worker costs the same memory whatever the size).
    explicit executor(executor_config config = {});
    ~executor();
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;

    /// Queues fn() on options.pool. Non-blocking. Throws executor_shut_down
    /// after shutdown() began. fn is moved (or copied) into the task and
    /// destroyed on the worker right after it runs, before waiters wake.
    /// Called from a task on the same pool, the new task is kept for the
    /// calling worker to run next; if that worker stays busy, an idle one
    /// takes it after about 2 us (or, when the pool's idle workers sleep,
    /// within about 100 us).
    /// May throw std::bad_alloc; a task whose queue could not grow is then
    /// counted as failed, so counts and wait_all() stay right.
    template <class F>
    auto submit(F&& fn, submit_options options) -> task_handle<std::invoke_result_t<std::decay_t<F>&>> {
        using result = std::invoke_result_t<std::decay_t<F>&>;
        auto* rec = new detail::callable_record<result, std::decay_t<F>>(std::forward<F>(fn));
        detail::record_ref ref(rec);
        detail::submit_record(*impl_, rec, std::move(options));
        return task_handle<result>(std::move(ref));
    }
    /// submit() with default options. (An overload, not a default argument:
    /// a defaulted options object would be a temporary of the caller's, kept
    /// across `co_await ex.submit(...)`, which GCC 12 mishandles in
    /// coroutine frames.)
    template <class F>
    auto submit(F&& fn) -> task_handle<std::invoke_result_t<std::decay_t<F>&>> {
        return submit(std::forward<F>(fn), submit_options{});
    }

    /// Fire-and-forget submit(): queues fn() without making a handle. The
    /// task is counted, visible in progress and waited for by wait_all() like
    /// any other; its result is dropped and a failure reaches only
    /// config.on_error and the counts. Throws as submit() does.
    template <class F>
    void post(F&& fn) {
        post(std::forward<F>(fn), submit_options{});
    }
    /// post() with options.
    template <class F>
    void post(F&& fn, submit_options options) {
        using result = std::invoke_result_t<std::decay_t<F>&>;
        auto* rec = new detail::callable_record<result, std::decay_t<F>>(std::forward<F>(fn));
        detail::submit_record(*impl_, rec, std::move(options), true);  // takes the record's reference
    }

    /// Submits every callable of `fns` (a range; each is moved, or copied
    /// from an lvalue range) with the same options, and returns their
    /// handles in order. Cheaper than one submit() each: the batch is
    /// spread over the pool's queues with one lock per queue touched and at
    /// most one wake-up per worker. Throws std::bad_alloc before anything
    /// is queued if the records cannot be made, executor_shut_down after
    /// shutdown() began (tasks already queued are then cancelled).
    template <class Range>
    auto submit_batch(Range&& fns, submit_options options = {}) {
        using fn_type = std::decay_t<decltype(*std::begin(fns))>;
        using result = std::invoke_result_t<fn_type&>;
        std::vector<task_handle<result>> handles;
        std::vector<detail::record*> records;
        for (auto&& fn : fns) {
            auto* rec = new detail::callable_record<result, fn_type>(std::forward<decltype(fn)>(fn));
            handles.emplace_back(detail::record_ref(rec));
            records.push_back(rec);
        }
        detail::submit_records(*impl_, records.data(), records.size(), options);
        return handles;
    }

    /// Starts a coroutine on options.pool and returns its handle.
    template <class T>
    task_handle<T> spawn(task<T> body, submit_options options) {
        return detail::spawn_on(*impl_, std::move(body), std::move(options));
    }
    /// spawn() with default options (an overload, as for submit()).
    template <class T>
    task_handle<T> spawn(task<T> body) {
        return spawn(std::move(body), submit_options{});
    }

    /// Runs a coroutine to completion and returns its result (blocking).
    template <class T>
    T run(task<T> body, submit_options options = {}) {
        return spawn(std::move(body), std::move(options)).get();
    }

    /// Blocks until no task is queued or running, including tasks submitted by
    /// tasks while waiting. Called from a task of this executor it helps run
    /// queued work and does not wait for the tasks on its own worker's stack
    /// that are blocked in wait_all() themselves. It does wait for every other
    /// task, so a task must not call wait_all() while another task waits for
    /// it (for example a child whose parent is blocked in get() on it, when
    /// the child was stolen by another worker): that waits forever. Each
    /// queued task it runs meanwhile nests on the caller's stack. A task whose
    /// timeout passed (or that fail_task() failed) counts as finished although
    /// its body may still run: wait_all() does not wait for that body
    /// (shutdown() and the destructor do, as they join the workers).
    void wait_all();
    /// As wait_all(), giving up after `timeout`; true if everything finished.
    bool wait_all_for(std::chrono::nanoseconds timeout);

    /// Stops accepting work. drain=true runs everything already queued;
    /// drain=false cancels queued tasks (their handles report cancelled).
    /// Running tasks always finish, and so do suspended coroutines (a failed
    /// or timed-out one included: the workers stay until the tasks they
    /// await, of any executor, have finished and resumed them). With
    /// wait=true it blocks until the workers
    /// exit, except when called from a worker of this executor (then it
    /// returns at once and a later call or the destructor joins). Safe to call
    /// more than once.
    void shutdown(bool drain = true, bool wait = true);
    bool is_shut_down() const noexcept;

    int threads() const noexcept;
    int io_threads() const noexcept;

    /// Exact counts (consistent: they add up to total). Lock-free.
    task_counts counts() const noexcept;
    /// Counts, workers and tasks. Takes short per-worker locks; never stops
    /// the world.
    executor_snapshot snapshot(const snapshot_options& options = {}) const;
    /// Lock-free per-worker samples, for watchdogs and samplers.
    std::vector<worker_sample> sample_workers() const;
    /// Tasks recorded for timelines: every started task still live, and the
    /// finished ones kept in the history ring (config.history_size, which
    /// bounds the memory; 0 turns recording of finished tasks off).
    std::vector<task_info> recorded_tasks() const;
    /// Writes recorded_tasks() as a timeline; see write_trace() for formats.
    void export_trace(const std::filesystem::path& path) const;
    /// Started, unfinished tasks that have a timeout. Costs nothing (no lock)
    /// while no such task is live.
    std::vector<task_deadline> deadlines() const;
    /// The live or recently finished task with this id, if still recorded.
    std::optional<task_info> find_task(std::uint64_t id) const;
    /// Asks a queued or running task to stop (cooperative). False if no
    /// queued or running task has this id (a finished one included).
    bool request_stop(std::uint64_t id);
    /// Fails a running or queued task with `error` now, releasing its waiters,
    /// and requests it to stop. The body keeps running until it returns; its
    /// result is dropped. False if the task is unknown or already finished.
    /// Throws std::invalid_argument for a null `error`.
    bool fail_task(std::uint64_t id, std::exception_ptr error);

    /// The executor whose worker is the calling thread, or null.
    static executor* current() noexcept;
    /// Process-unique number naming this executor, never reused (a worker
    /// sample's waiting_for_executor holds it). Lock-free.
    std::uint64_t serial() const noexcept;

private:
    friend detail::scheduler& detail::engine_of(executor& ex) noexcept;

    std::unique_ptr<detail::scheduler> impl_;
};

/// Calls `visit` with the live executor whose serial() is `serial` and
/// returns true; returns false when no live executor has it. For samplers
/// that follow a wait into another executor (the watchdog's deadlock check).
/// Blocking: runs under a process-wide lock that executors take when they
/// are made and destroyed, which keeps the visited one alive meanwhile; so
/// `visit` must be short, and must not make or destroy an executor or call
/// visit_executor (either would deadlock). Thread-safe.
bool visit_executor(std::uint64_t serial, const std::function<void(const executor&)>& visit);

/// Queries about the task running on the calling thread.
namespace this_task {
/// Id of the innermost task running on this thread; 0 outside tasks.
std::uint64_t id() noexcept;
/// True if the running task was asked to stop (cancel after start, timeout,
/// request_stop). Cheap enough to poll in loops.
bool stop_requested() noexcept;
/// Global worker index of the calling thread, or -1 off-pool.
int worker_id() noexcept;
}  // namespace this_task

/// Spawns a coroutine on the executor running the awaiting coroutine:
/// `auto h = co_await spawn(child(), pool_kind::compute);` returns at once
/// with a handle; the child runs concurrently.
template <class T>
detail::spawn_awaiter<T> spawn(task<T> body, pool_kind pool = pool_kind::compute) {
    return {std::move(body), pool};
}

}  // namespace dftracer
