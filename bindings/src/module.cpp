// dftracer.utils._core: the native layer under dftracer.utils. Thin: types,
// conversions and GIL handling; policy lives in the Python package.
#include "bindings.hpp"

NB_MODULE(_core, m) {
    m.doc() = "Native core of dftracer.utils (executor, tasks, watchdog).";
    // Runtimes referenced from module globals (the default runtime) are
    // still alive when the interpreter tears modules down; that is expected.
    nb::set_leak_warnings(false);
    nb::exception<dftracer::task_timeout>(m, "TaskTimeoutError", PyExc_TimeoutError);
    dftracer::py::bind_task(m);
    dftracer::py::bind_executor(m);
    dftracer::py::bind_watchdog(m);
}
