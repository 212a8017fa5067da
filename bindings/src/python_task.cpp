#include "python_task.hpp"

#include <nanobind/nanobind.h>

#include "gil.hpp"

namespace dftracer::py {

task_outcome python_record::run() noexcept {
    if (!acquire_for_task()) {
        // Finalizing: the callable can no longer run. Its references are
        // leaked by py_ref rather than touched without an interpreter.
        return store_error(std::make_exception_ptr(std::runtime_error("Python interpreter is shutting down")));
    }
    PyObject* result = call_body();
    py_ref error;
    std::string message;
    if (result == nullptr) {
        error = fetch_exception();
        message = describe(error.get());
    }
    // The callable and its arguments die here, with the GIL held and before
    // any waiter can observe the outcome.
    fn_.reset();
    args_.reset();
    kwargs_.reset();
    if (result != nullptr && deferred_) {
        Py_DECREF(result);  // resolve() finishes the task later
        return task_outcome::none;
    }
    if (result != nullptr) return store_value(py_ref::steal(result));
    return store_error(std::make_exception_ptr(python_task_error(std::move(error), std::move(message))));
}

void python_record::after_run() noexcept {
    // The outcome was published with the GIL held (waiters and the error
    // dispatch see it at once); only now may the worker let it go.
    after_task();
}

PyObject* python_record::call_body() noexcept {
    if (!deferred_) return PyObject_Call(fn_.get(), args_.get(), kwargs_.get());
    body_started_.store(true, std::memory_order_release);
    PyObject* task = new_task_object(*this);
    if (task == nullptr) return nullptr;
    const Py_ssize_t n = PyTuple_GET_SIZE(args_.get());
    PyObject* args = PyTuple_New(n + 1);
    if (args == nullptr) {
        Py_DECREF(task);
        return nullptr;
    }
    for (Py_ssize_t i = 0; i < n; ++i) PyTuple_SET_ITEM(args, i, Py_NewRef(PyTuple_GET_ITEM(args_.get(), i)));
    PyTuple_SET_ITEM(args, n, task);
    PyObject* result = PyObject_Call(fn_.get(), args, kwargs_.get());
    Py_DECREF(args);
    return result;
}

bool python_record::resolve(py_ref value, py_ref error) noexcept {
    if (!deferred_ || !body_started_.load(std::memory_order_acquire)) return false;
    if (error) {
        std::string message = describe(error.get());
        finish_error(std::make_exception_ptr(python_task_error(std::move(error), std::move(message))));
    } else {
        finish_value(std::move(value));
    }
    return true;
}

void python_record::on_terminal(task_state terminal) noexcept {
    if (terminal != task_state::failed || hooks_ == nullptr) return;
    auto call = [&] {
        try {
            py_ref dispatch = hooks_->error_dispatch_ref();
            if (dispatch) dispatch_failure(dispatch.get(), *this);
        } catch (nanobind::python_error& e) {
            e.restore();
            PyErr_WriteUnraisable(nullptr);
        } catch (...) {
            // Nothing may escape a noexcept hook; the task's own error stays
            // recorded on its handle.
        }
    };
    if (PyGILState_Check()) {
        call();
    } else if (interpreter_usable()) {
        if (nanobind::detail::cleanup_guard guard{}) call();
    }
}

}  // namespace dftracer::py
