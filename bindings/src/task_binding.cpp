// The Task class: a thin view of one task handle.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "bindings.hpp"
#include "gil.hpp"

namespace dftracer::py {

namespace {

nb::object cancelled_error_type() { return nb::module_::import_("concurrent.futures").attr("CancelledError"); }

/// Runs a Python callable with the finished task; owned by the record.
class python_done_callback final : public task_completion_callback {
public:
    python_done_callback(py_ref fn, py_ref task) : fn_(std::move(fn)), task_(std::move(task)) {}

    void run(task_record&) noexcept override {
        auto call = [&] {
            PyObject* result = PyObject_CallOneArg(fn_.get(), task_.get());
            if (result == nullptr) {
                // Never lost: reported through sys.unraisablehook, never fatal.
                PyErr_WriteUnraisable(fn_.get());
            }
            Py_XDECREF(result);
            fn_.reset();
            task_.reset();
        };
        if (PyGILState_Check()) {
            call();
        } else if (interpreter_usable()) {
            if (nb::detail::cleanup_guard guard{}) call();
        }
        delete this;
    }
    void discard() noexcept override { delete this; }

private:
    py_ref fn_, task_;
};

const char* state_name(task_state s) { return to_string(s); }

/// Raises RuntimeError for an unfinished task inherited across fork(): its
/// workers exist only in the parent, so a wait would block forever and a
/// cancel or callback would touch a queue nobody serves. A task that had
/// finished before the fork still reads its outcome.
void check_not_inherited(const Task& t) {
    if (t.generation == fork_generation() || t.handle.done()) return;
    throw nb::builtin_exception(nb::exception_type::runtime_error,
                                "this task was submitted in the parent process before fork() and had not finished; "
                                "it cannot be waited for, cancelled or watched in the child");
}

}  // namespace

nb::object exception_object(const task_record& rec) {
    const auto state = rec.state();
    if (!is_terminal(state) || state == task_state::completed) return nb::none();
    if (!rec.error()) return cancelled_error_type()(nb::str("task was cancelled"));
    try {
        std::rethrow_exception(rec.error());
    } catch (const python_task_error& e) {
        return nb::borrow(e.exception());
    } catch (const task_timeout& e) {
        return nb::module_::import_("dftracer.utils._core").attr("TaskTimeoutError")(nb::str(e.what()));
    } catch (const task_cancelled& e) {
        return cancelled_error_type()(nb::str(e.what()));
    } catch (const std::exception& e) {
        return nb::handle(PyExc_RuntimeError)(nb::str(e.what()));
    } catch (...) {
        return nb::handle(PyExc_RuntimeError)(nb::str("unknown error"));
    }
}

PyObject* new_task_object(task_record& rec) {
    rec.add_ref();
    try {
        return nb::cast(Task{py_handle(task_record_ref(&rec))}).release().ptr();
    } catch (nb::python_error& e) {
        e.restore();
        return nullptr;
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "could not create a Task object");
        return nullptr;
    }
}

void dispatch_failure(PyObject* dispatch, task_record& failed) {
    failed.add_ref();
    nb::object task = nb::cast(Task{py_handle(task_record_ref(&failed))});
    nb::object error = exception_object(failed);
    PyObject* result = PyObject_CallFunctionObjArgs(dispatch, task.ptr(), error.ptr(), nullptr);
    if (result == nullptr) PyErr_WriteUnraisable(dispatch);
    Py_XDECREF(result);
}

void bind_task(nb::module_& m) {
    nb::class_<Task>(m, "Task", "A submitted task (use dftracer.utils.TaskHandle instead).")
        .def_prop_ro("id", [](const Task& t) { return t.handle.id(); })
        .def_prop_ro("name", [](const Task& t) { return t.handle.name(); })
        .def_prop_ro("pool", [](const Task& t) { return std::string(to_string(t.handle.pool())); })
        .def_prop_ro("state", [](const Task& t) { return std::string(state_name(t.handle.state())); })
        .def("done", [](const Task& t) { return t.handle.done(); })
        .def(
            "wait",
            [](const Task& t, std::optional<double> timeout) {
                check_not_inherited(t);
                return wait_interruptibly(*t.handle.raw(), timeout);
            },
            nb::arg("timeout") = nb::none(),
            "Block until the task finishes or `timeout` seconds pass; True if it finished.")
        .def(
            "result",
            [](const Task& t, std::optional<double> timeout) -> nb::object {
                check_not_inherited(t);
                auto& rec = *t.handle.raw();
                if (!wait_interruptibly(rec, timeout)) {
                    PyErr_SetString(PyExc_TimeoutError, "task did not finish within the timeout");
                    throw nb::python_error();
                }
                if (rec.state() == task_state::completed) {
                    return nb::borrow(static_cast<value_task_record<py_ref>&>(rec).value().get());
                }
                nb::object error = exception_object(rec);
                restore_exception(error.ptr());
                throw nb::python_error();
            },
            nb::arg("timeout") = nb::none())
        .def(
            "exception", [](const Task& t) { return exception_object(*t.handle.raw()); },
            "The task's exception object once it failed or was cancelled, else None. Never blocks.")
        .def("cancel",
             [](const Task& t) {
                 check_not_inherited(t);
                 return t.handle.cancel();
             })
        .def("request_stop",
             [](const Task& t) {
                 check_not_inherited(t);
                 t.handle.request_stop();
             })
        .def_prop_ro(
            "stop_requested", [](const Task& t) { return t.handle.raw()->stop_requested(); },
            "True once the task was asked to stop (request_stop, or its timeout passed).")
        .def(
            "add_done_callback",
            [](const Task& t, nb::object fn, nb::object task_object) {
                check_not_inherited(t);
                auto* cb = new python_done_callback(py_ref::borrow(fn.ptr()), py_ref::borrow(task_object.ptr()));
                if (!t.handle.raw()->add_callback(*cb)) {
                    cb->run(*t.handle.raw());  // already finished: run now, here
                }
            },
            nb::arg("fn"), nb::arg("task_object"), "Call fn(task_object) once the task finishes (now, if it has).")
        .def(
            "note_awaited", [](const Task& t) { note_awaited(*t.handle.raw()); },
            "Say that a coroutine task awaits this one (see note_awaited() in the C++ extension point).")
        .def(
            "resolve_deferred",
            [](const Task& t, nb::handle value, nb::handle error) {
                auto* rec = dynamic_cast<python_record*>(t.handle.raw());
                if (rec == nullptr || !rec->resolve(py_ref::borrow(value.ptr()),
                                                    error.is_none() ? py_ref() : py_ref::borrow(error.ptr())))
                    throw nb::type_error("not a deferred Python task that has started");
            },
            nb::arg("value").none(), nb::arg("error").none(),
            "Finish a deferred task (internal: used for coroutines run on the event loop).")
        .def("__eq__",
             [](const Task& a, nb::handle b) {
                 return nb::isinstance<Task>(b) && a.handle.raw() == nb::cast<const Task&>(b).handle.raw();
             })
        .def("__hash__", [](const Task& t) { return static_cast<Py_hash_t>(t.handle.id()); });
}

}  // namespace dftracer::py
