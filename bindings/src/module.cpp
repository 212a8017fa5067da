// dftracer.utils._core: the native layer under dftracer.utils. Thin: types,
// conversions and GIL handling; policy lives in the Python package.
#include "bindings.hpp"

namespace {

/// A new exception class named `dftracer.utils.<name>` (the module users
/// import it from), with `bases` and `doc`; owned by the module.
nb::object new_exception(nb::module_& m, const char* name, const char* doc, nb::handle bases) {
    const std::string qualified = std::string("dftracer.utils.") + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (type == nullptr) throw nb::python_error();
    nb::object owned = nb::steal(type);
    m.attr(name) = owned;
    return owned;
}

}  // namespace

NB_MODULE(_core, m) {
    m.doc() = "Native core of dftracer.utils (executor, tasks, watchdog).";
    // Runtimes referenced from module globals (the default runtime) are
    // still alive when the interpreter tears modules down; that is expected.
    nb::set_leak_warnings(false);
    nb::object base = new_exception(m, "DFTracerError",
                                    "Base class of the errors dftracer.utils raises itself (argument errors stay "
                                    "TypeError and ValueError).",
                                    PyExc_Exception);
    nb::object timeout = new_exception(
        m, "TaskTimeoutError",
        "A task's own timeout (TaskOptions.timeout) passed: its handle failed with this error and the task was "
        "asked to stop. Also a TimeoutError and a DFTracerError.",
        nb::make_tuple(base, nb::handle(PyExc_TimeoutError)));
    nb::register_exception_translator(
        [](const std::exception_ptr& p, void* type) {
            try {
                std::rethrow_exception(p);
            } catch (const dftracer::task_timeout& e) {
                PyErr_SetString(static_cast<PyObject*>(type), e.what());
            }
        },
        timeout.ptr());
    dftracer::py::bind_task(m);
    dftracer::py::bind_executor(m);
    dftracer::py::bind_watchdog(m);
}
