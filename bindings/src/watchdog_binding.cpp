// The watchdog of a Python runtime: reports reach Python as dicts, through
// one dispatcher callable the facade installs (it logs them and runs the
// user's callbacks).
#include <nanobind/stl/string.h>

#include <dftracer/watchdog/watchdog.hpp>
#include <thread>

#include "bindings.hpp"
#include "gil.hpp"

namespace dftracer::py {

namespace {

/// True on a thread inside a watchdog's delivery (its own thread, or a
/// check_now() caller): closing the watchdog there must not join it.
thread_local bool delivering_on_this_thread = false;

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

std::chrono::milliseconds millis(double s, const char* label) {
    if (!(s >= 0.0)) throw nb::value_error((std::string(label) + " must be >= 0 seconds").c_str());
    auto ms = std::chrono::milliseconds(static_cast<long long>(s * 1000.0 + 0.5));
    // The native watchdog counts whole milliseconds; a tiny positive value
    // must not round to 0, which would turn the check off.
    if (s > 0.0 && ms.count() == 0) ms = std::chrono::milliseconds(1);
    return ms;
}

nb::dict report_dict(const watchdog_report& r) {
    nb::dict d;
    d["kind"] = to_string(r.kind);
    d["pool"] = to_string(r.pool);
    d["task_id"] = r.task_id;
    d["task_name"] = r.task_name;
    d["worker"] = r.worker;
    d["native_thread"] = r.native_thread;
    d["elapsed"] = seconds(r.elapsed);
    d["message"] = r.message;
    nb::list cycle, workers, threads;
    for (auto id : r.cycle) cycle.append(id);
    for (auto w : r.workers) workers.append(w);
    for (auto t : r.native_threads) threads.append(t);
    d["cycle"] = cycle;
    d["workers"] = workers;
    d["native_threads"] = threads;
    return d;
}

/// Owns a native watchdog watching one executor, and the Python dispatcher.
class Watchdog {
public:
    Watchdog(nb::handle executor_object, double interval, double slow, double stall, double deadlock,
             nb::handle dispatch)
        : dispatch_(py_ref::borrow(dispatch.ptr())) {
        if (!PyCallable_Check(dispatch.ptr())) throw nb::type_error("dispatch must be callable");
        watched_ = &native_executor(executor_object);
        keep_executor_ = py_ref::borrow(executor_object.ptr());
        watchdog_config config;
        config.interval = millis(interval, "interval");
        config.slow_threshold = millis(slow, "slow");
        config.stall_threshold = millis(stall, "stall");
        config.deadlock_threshold = millis(deadlock, "deadlock");
        config.thread_name = "dftracer-watch";
        config.log_sink = [this](log_level level, const std::string& line, const watchdog_report* report) {
            deliver(level, line, report);
        };
        wd_ = std::make_unique<watchdog>(std::move(config));
        wd_->watch(*watched_);
    }

    ~Watchdog() { close(); }

    /// Stops the thread and forgets the executor. Blocks (GIL released),
    /// except on the watchdog's own thread (from a report callback), where it
    /// asks the thread to stop and leaves the join to a helper thread.
    void close() {
        if (!wd_) return;
        if (generation_ != fork_generation()) {
            (void)wd_.release();  // its thread exists only in the parent
            return;
        }
        if (delivering_on_this_thread) {
            wd_->stop();
            std::thread([wd = std::move(wd_)]() mutable { wd.reset(); }).detach();
            return;
        }
        auto wd = std::move(wd_);
        if (PyGILState_Check()) {
            wait_release released;
            wd.reset();
        } else {
            wd.reset();
        }
    }

    nb::list check_now() {
        if (!wd_) throw nb::builtin_exception(nb::exception_type::runtime_error, "watchdog is closed");
        std::vector<watchdog_report> reports;
        {
            wait_release released;
            reports = wd_->check_now();
        }
        nb::list out;
        for (const auto& r : reports) out.append(report_dict(r));
        return out;
    }

    bool running() const { return wd_ && wd_->running(); }

private:
    void deliver(log_level level, const std::string& line, const watchdog_report* report) noexcept {
        struct delivering {
            delivering() { delivering_on_this_thread = true; }
            ~delivering() { delivering_on_this_thread = false; }
        } scope;
        auto call = [&] {
            nb::object payload = report != nullptr ? nb::object(report_dict(*report)) : nb::object(nb::none());
            PyObject* result = PyObject_CallFunction(dispatch_.get(), "sOO", to_string(level),
                                                     nb::str(line.c_str()).ptr(), payload.ptr());
            if (result == nullptr) PyErr_WriteUnraisable(dispatch_.get());
            Py_XDECREF(result);
        };
        try {
            if (PyGILState_Check()) {
                call();
            } else if (interpreter_usable()) {
                if (nb::detail::cleanup_guard guard{}) call();
            }
        } catch (...) {
            // Never let a report take the watchdog thread down.
        }
    }

    py_ref dispatch_;
    unsigned generation_ = fork_generation();
    py_ref keep_executor_;  // the executor outlives its watchdog
    executor* watched_ = nullptr;
    std::unique_ptr<watchdog> wd_;
};

}  // namespace

void bind_watchdog(nb::module_& m) {
    nb::class_<Watchdog>(m, "Watchdog", "Native watchdog of one executor (use Runtime.configure_watchdog).")
        .def(nb::init<nb::handle, double, double, double, double, nb::handle>(), nb::arg("executor"),
             nb::arg("interval"), nb::arg("slow"), nb::arg("stall"), nb::arg("deadlock"), nb::arg("dispatch"))
        .def("close", &Watchdog::close, "Stop watching and join the watchdog thread.")
        .def("check_now", &Watchdog::check_now, "Run one sampling pass now; returns the reports.")
        .def_prop_ro("running", &Watchdog::running);
}

}  // namespace dftracer::py
