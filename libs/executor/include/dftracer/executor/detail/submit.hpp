// The executor's entry points that its public templates call. Not part of
// the public API: users submit through executor, task_group and the
// extension point (extension.hpp).
#pragma once

#include <coroutine>
#include <stdexcept>
#include <utility>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/strand.hpp"
#include "dftracer/executor/task.hpp"
#include "dftracer/executor/task_handle.hpp"
#include "dftracer/executor/types.hpp"

namespace dftracer {
class executor;
}

namespace dftracer::detail {

class scheduler;

/// The engine behind an executor.
scheduler& engine_of(executor& ex) noexcept;
/// The engine running the coroutine whose root record is `root`. Throws
/// std::logic_error for a coroutine not spawned on an executor.
scheduler& scheduler_of(record* root);
/// The pool the calling worker belongs to, or `fallback` off the pools.
pool_kind current_pool_or(pool_kind fallback) noexcept;

/// Assigns id and times, registers and queues a fresh record. The caller
/// keeps its reference (the one every new record starts with) and holds it
/// across the call, unless `adopt_caller_ref` (then the executor takes it,
/// whether the call returns or throws: fire-and-forget). Throws
/// executor_shut_down after shutdown began.
void submit_record(scheduler& sched, record* rec, submit_options&& options, bool adopt_caller_ref = false);
/// submit_record() for n fresh records sharing `options`.
void submit_records(scheduler& sched, record* const* recs, std::size_t n, const submit_options& options);

template <class T>
task_handle<T> spawn_on(scheduler& sched, task<T> body, submit_options options) {
    if (!body.valid()) throw std::invalid_argument("spawn: empty task");
    auto* rec = new coroutine_record<T>(std::move(body));
    record_ref ref(rec);
    submit_record(sched, rec, std::move(options));
    return task_handle<T>(std::move(ref));
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
        if (root == nullptr) throw std::logic_error("needs a coroutine spawned on an executor");
        return root;
    }
};

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

}  // namespace dftracer::detail
