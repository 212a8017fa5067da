// executor: two pools of worker threads (compute and io) running callables and
// coroutines, with work-helping waits and lock-free introspection.
//
// Thread-safety: every member function may be called concurrently from any
// thread, including from tasks running on this executor.
// Lifetime: the destructor drains queued work (like shutdown(true)) and joins
// the workers; it must not run on one of this executor's own workers.
// Handles and task records outlive the executor safely: a handle of a task
// that never ran reports `cancelled`.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/introspection.hpp"
#include "dftracer/executor/task.hpp"
#include "dftracer/executor/task_handle.hpp"
#include "dftracer/executor/types.hpp"

namespace dftracer {

namespace detail {
/// Assigns id and times, registers and queues a fresh record. The caller
/// keeps its reference (the one every new record starts with) and holds it
/// across the call; the executor adds its own. Throws executor_shut_down
/// after shutdown began. Defined in the scheduler.
void submit_record(scheduler& sched, record* rec, submit_options&& options);

template <class T>
task_handle<T> spawn_on(scheduler& sched, task<T> body, submit_options options) {
    if (!body.valid()) throw std::invalid_argument("spawn: empty task");
    auto* rec = new coroutine_record<T>(std::move(body));
    record_ref ref(rec);
    submit_record(sched, rec, std::move(options));
    return task_handle<T>(std::move(ref));
}
}  // namespace detail

class executor {
public:
    /// Starts the workers. Throws std::invalid_argument for negative sizes.
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
    auto submit(F&& fn, submit_options options = {}) -> task_handle<std::invoke_result_t<std::decay_t<F>&>> {
        using result = std::invoke_result_t<std::decay_t<F>&>;
        auto* rec = new detail::callable_record<result, std::decay_t<F>>(std::forward<F>(fn));
        detail::record_ref ref(rec);
        detail::submit_record(*impl_, rec, std::move(options));
        return task_handle<result>(std::move(ref));
    }

    /// Starts a coroutine on options.pool and returns its handle.
    template <class T>
    task_handle<T> spawn(task<T> body, submit_options options = {}) {
        return detail::spawn_on(*impl_, std::move(body), std::move(options));
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
    /// queued task it runs meanwhile nests on the caller's stack.
    void wait_all();
    /// As wait_all(), giving up after `timeout`; true if everything finished.
    bool wait_all_for(std::chrono::nanoseconds timeout);

    /// Stops accepting work. drain=true runs everything already queued;
    /// drain=false cancels queued tasks (their handles report cancelled).
    /// Running tasks always finish. With wait=true it blocks until the workers
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
    bool fail_task(std::uint64_t id, std::exception_ptr error);

    /// The executor whose worker is the calling thread, or null.
    static executor* current() noexcept;

    detail::scheduler& scheduler() noexcept { return *impl_; }

private:
    std::unique_ptr<detail::scheduler> impl_;
};

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

/// Runs every task concurrently on the executor running the awaiting
/// coroutine (each is spawned on the current pool) and returns their results
/// in order. The first failure is rethrown after all have finished.
template <class T>
task<std::vector<T>> when_all(std::vector<task<T>> tasks);

namespace detail {
scheduler& scheduler_of(record* root);
pool_kind current_pool_or(pool_kind fallback) noexcept;

template <class T>
task<std::vector<T>> when_all_impl(std::vector<task<T>> tasks, record* root) {
    auto& sched = scheduler_of(root);
    std::vector<task_handle<T>> handles;
    handles.reserve(tasks.size());
    for (auto& t : tasks) {
        handles.push_back(spawn_on(sched, std::move(t), {root->name, current_pool_or(root->pool), {}}));
    }
    std::vector<T> results;
    std::exception_ptr first_error;
    results.reserve(handles.size());
    for (auto& h : handles) {
        try {
            results.push_back(co_await h);
        } catch (...) {
            if (!first_error) first_error = std::current_exception();
        }
    }
    if (first_error) std::rethrow_exception(first_error);
    co_return results;
}

/// Awaitable returning the awaiting coroutine's root record.
struct current_root {
    record* root = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        root = h.promise().root();
        return false;
    }
    record* await_resume() const {
        if (root == nullptr) throw std::logic_error("when_all needs a task spawned on an executor");
        return root;
    }
};
}  // namespace detail

template <class T>
task<std::vector<T>> when_all(std::vector<task<T>> tasks) {
    detail::record* root = co_await detail::current_root{};
    co_return co_await detail::when_all_impl(std::move(tasks), root);
}

/// void tasks: waits for all, rethrows the first failure.
inline task<void> when_all(std::vector<task<void>> tasks) {
    detail::record* root = co_await detail::current_root{};
    auto& sched = detail::scheduler_of(root);
    std::vector<task_handle<void>> handles;
    handles.reserve(tasks.size());
    for (auto& t : tasks) {
        handles.push_back(detail::spawn_on(sched, std::move(t), {root->name, detail::current_pool_or(root->pool), {}}));
    }
    std::exception_ptr first_error;
    for (auto& h : handles) {
        try {
            co_await h;
        } catch (...) {
            if (!first_error) first_error = std::current_exception();
        }
    }
    if (first_error) std::rethrow_exception(first_error);
}

namespace detail {
template <class T>
struct spawn_awaiter {
    task<T> body;
    pool_kind pool;
    record* root = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        root = h.promise().root();
        return false;
    }
    task_handle<T> await_resume() { return spawn_on(scheduler_of(root), std::move(body), {{}, pool, {}}); }
};
}  // namespace detail

/// Spawns a coroutine on the executor running the awaiting coroutine:
/// `auto h = co_await spawn(child(), pool_kind::compute);` returns at once
/// with a handle; the child runs concurrently.
template <class T>
detail::spawn_awaiter<T> spawn(task<T> body, pool_kind pool = pool_kind::compute) {
    return {std::move(body), pool};
}

}  // namespace dftracer
