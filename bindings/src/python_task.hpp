// A task whose body is a Python callable, run on a native worker.
#pragma once

#include <atomic>
#include <dftracer/executor/executor.hpp>
#include <dftracer/executor/extension.hpp>
#include <mutex>

#include "py_ref.hpp"

namespace dftracer::py {

/// State an executor binding shares with its tasks. Outlives every task
/// publication (the executor is shut down before it is destroyed).
struct python_hooks {
    /// Sets the Python callable (task, exception) run for each failed task
    /// (null to clear). Thread-safe without relying on the GIL.
    void set_error_dispatch(py_ref fn) {
        std::lock_guard<std::mutex> guard(mutex);
        error_dispatch = std::move(fn);
    }
    /// A new reference to the current dispatch callable (may be null).
    py_ref error_dispatch_ref() {
        std::lock_guard<std::mutex> guard(mutex);
        return error_dispatch;
    }

private:
    std::mutex mutex;
    py_ref error_dispatch;
};

using py_handle = task_handle<py_ref>;

class python_record final : public value_task_record<py_ref> {
public:
    /// All references are stolen; call with the GIL held.
    python_record(py_ref fn, py_ref args, py_ref kwargs, python_hooks* hooks) noexcept
        : fn_(std::move(fn)), args_(std::move(args)), kwargs_(std::move(kwargs)), hooks_(hooks) {
        kind_ = task_kind::python;
    }

    /// A deferred task calls fn(*args, task) and finishes only when resolve()
    /// is called (or fn raises): for work that completes elsewhere, such as a
    /// coroutine on an event loop. No worker is held meanwhile.
    void make_deferred() noexcept { deferred_ = true; }
    /// Finishes a deferred task with a value or, if error is set, that
    /// exception. GIL held. Ignored once the task has finished. False (and
    /// nothing done) unless this is a deferred task whose body has started:
    /// only then is it registered as running.
    bool resolve(py_ref value, py_ref error) noexcept;

    /// Calls the body with the GIL and hands its outcome back (the executor
    /// publishes it, then calls after_run(), which decides whether the
    /// worker keeps the GIL for its next task).
    task_outcome run() noexcept override;
    void after_run() noexcept override;
    void on_terminal(task_state terminal) noexcept override;

private:
    PyObject* call_body() noexcept;

    py_ref fn_, args_, kwargs_;
    python_hooks* hooks_;
    bool deferred_ = false;
    std::atomic<bool> body_started_{false};  // deferred body called (resolve() allowed)
};

/// A new Task object (Python) sharing rec. GIL held.
PyObject* new_task_object(task_record& rec);

/// Calls dispatch(task, exception) for a failed task. Defined with the Task
/// binding. GIL held.
void dispatch_failure(PyObject* dispatch, task_record& failed);

}  // namespace dftracer::py
