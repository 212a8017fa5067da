// The Executor class: an executor whose tasks are Python callables.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <dftracer/executor/trace.hpp>
#include <memory>
#include <thread>

#include "bindings.hpp"
#include "gil.hpp"

namespace dftracer::py {

namespace {

std::atomic<unsigned> generation{0};

/// Milliseconds from `from` to `to`, never negative (executor timestamps and
/// clock::now() may differ by the executor clock's calibration error).
double ms_between(clock::time_point from, clock::time_point to) {
    return std::max(0.0, std::chrono::duration<double, std::milli>(to - from).count());
}
bool happened(clock::time_point t) { return t.time_since_epoch().count() != 0; }

pool_kind parse_pool(const std::string& pool) {
    if (pool == "compute") return pool_kind::compute;
    if (pool == "io") return pool_kind::io;
    throw nb::value_error(("pool must be 'compute' or 'io', got '" + pool + "'").c_str());
}

nb::dict task_dict(const task_info& t, clock::time_point now) {
    nb::dict d;
    d["id"] = t.id;
    d["name"] = t.name;
    d["state"] = to_string(t.state);
    d["pool"] = to_string(t.pool);
    d["worker"] = t.worker;
    const auto end_of_queue = happened(t.started_at) ? t.started_at : (happened(t.finished_at) ? t.finished_at : now);
    d["queued_duration_ms"] = ms_between(t.queued_at, end_of_queue);
    double execution = 0.0;
    if (happened(t.started_at)) execution = ms_between(t.started_at, happened(t.finished_at) ? t.finished_at : now);
    d["execution_duration_ms"] = execution;
    d["progress_pct"] = is_terminal(t.state) ? 100.0 : 0.0;
    d["error"] = t.error;
    return d;
}

}  // namespace

unsigned fork_generation() noexcept { return generation.load(std::memory_order_relaxed); }

class Executor {
public:
    Executor(int threads, int io_threads, int history_size) {
        executor_config config;
        config.threads = threads;
        config.io_threads = io_threads;
        config.history_size = history_size;
        config.on_worker_idle = &release_if_held;
        config.on_worker_exit = &on_worker_exit;
        config.thread_name_prefix = "dftracer";
        generation_ = fork_generation();
        ex_ = std::make_unique<executor>(std::move(config));
    }

    ~Executor() {
        if (forked()) {
            // The workers exist only in the parent; joining them here would
            // hang. The memory is deliberately leaked in the child.
            (void)ex_.release();
            return;
        }
        if (!ex_) return;
        if (executor::current() == ex_.get()) {
            // The last reference died inside one of this executor's own tasks
            // (a closure that held the runtime): a worker cannot join itself.
            // Stop intake now and let a helper thread drain and join.
            ex_->shutdown(true);
            std::thread([ex = std::move(ex_)]() mutable { ex.reset(); }).detach();
            return;
        }
        if (!PyGILState_Check()) {
            ex_.reset();
            return;
        }
        wait_release released;  // workers may need the GIL to drain
        ex_.reset();
    }

    Task submit_deferred(nb::handle starter, nb::handle args, std::string name, const std::string& pool,
                         double timeout) {
        return submit_impl(starter, args, nb::none(), std::move(name), pool, timeout, true);
    }

    Task submit(nb::handle fn, nb::handle args, nb::handle kwargs, std::string name, const std::string& pool,
                double timeout) {
        return submit_impl(fn, args, kwargs, std::move(name), pool, timeout, false);
    }

    Task submit_impl(nb::handle fn, nb::handle args, nb::handle kwargs, std::string name, const std::string& pool,
                     double timeout, bool deferred) {
        check_usable();
        if (!PyCallable_Check(fn.ptr())) throw nb::type_error("fn is not callable");
        if (!PyTuple_Check(args.ptr())) throw nb::type_error("args must be a tuple");
        if (!kwargs.is_none() && !PyDict_Check(kwargs.ptr())) throw nb::type_error("kwargs must be a dict or None");
        if (std::isnan(timeout) || timeout < 0.0) throw nb::value_error("timeout must be >= 0");
        if (std::isinf(timeout) || timeout > 1e9) timeout = 0.0;  // effectively none
        submit_options options;
        options.name = std::move(name);
        options.pool = parse_pool(pool);
        options.timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(timeout));
        auto* rec = new python_record(py_ref::borrow(fn.ptr()), py_ref::borrow(args.ptr()),
                                      kwargs.is_none() ? py_ref() : py_ref::borrow(kwargs.ptr()), &hooks_);
        if (deferred) rec->make_deferred();
        task_record_ref ref(rec);
        try {
            submit_record(*ex_, *rec, std::move(options));
        } catch (const executor_shut_down&) {
            throw nb::builtin_exception(nb::exception_type::runtime_error, "Runtime is shut down");
        }
        return Task{py_handle(std::move(ref))};
    }

    bool wait_all(std::optional<double> timeout) {
        check_usable();
        return wait_all_interruptibly(*ex_, timeout);
    }

    void shutdown(bool drain, bool wait) {
        if (forked() || !ex_) return;
        if (!wait) {
            ex_->shutdown(drain, false);  // never blocks
            return;
        }
        wait_release released;
        ex_->shutdown(drain);
    }

    bool is_shut_down() const { return !ex_ || ex_->is_shut_down(); }
    int threads() const { return ex_->threads(); }
    int io_threads() const { return ex_->io_threads(); }
    bool forked() const { return generation_ != fork_generation(); }

    nb::dict counts() const {
        check_usable();
        auto c = ex_->counts();
        nb::dict d;
        d["total"] = c.total;
        d["completed"] = c.completed;
        d["running"] = c.running;
        d["queued"] = c.queued;
        d["failed"] = c.failed;
        d["cancelled"] = c.cancelled;
        return d;
    }

    nb::dict progress(bool include_tasks, std::size_t max_queued) const {
        check_usable();
        executor_snapshot snap;
        {
            nb::gil_scoped_release released;
            snap = ex_->snapshot({include_tasks, max_queued});
        }
        const auto now = clock::now();
        nb::dict d;
        d["total"] = snap.counts.total;
        d["completed"] = snap.counts.completed;
        d["running"] = snap.counts.running;
        d["queued"] = snap.counts.queued;
        d["failed"] = snap.counts.failed;
        d["cancelled"] = snap.counts.cancelled;
        nb::list workers;
        for (const auto& w : snap.workers) {
            nb::dict wd;
            wd["id"] = w.id;
            wd["idle"] = w.idle;
            wd["task"] = w.task_name;
            wd["queue_depth"] = w.queue_depth;
            wd["pool"] = to_string(w.pool);
            wd["task_id"] = w.task_id;
            wd["running_ms"] = w.idle ? 0.0 : ms_between(w.running_since, now);
            wd["waiting_for"] = w.waiting_for;
            wd["tasks_run"] = w.tasks_run;
            wd["thread_id"] = w.native_thread;
            wd["os_thread"] = w.os_thread;
            workers.append(wd);
        }
        d["workers"] = workers;
        nb::list tasks, errors;
        for (const auto& t : snap.tasks) {
            tasks.append(task_dict(t, now));
            if (t.state == task_state::failed) {
                nb::dict e;
                e["id"] = t.id;
                e["name"] = t.name;
                e["error"] = t.error;
                errors.append(e);
            }
        }
        d["tasks"] = tasks;
        d["errors"] = errors;
        return d;
    }

    std::string render_trace(const std::string& format) const {
        check_usable();
        trace_format f;
        if (format == "chrome") {
            f = trace_format::chrome_json;
        } else if (format == "pfw") {
            f = trace_format::pfw;
        } else {
            throw nb::value_error("format must be 'chrome' or 'pfw'");
        }
        nb::gil_scoped_release released;
        return dftracer::render_trace(ex_->recorded_tasks(), ex_->sample_workers(), f);
    }

    void set_error_dispatch(nb::handle fn) {
        if (!fn.is_none() && !PyCallable_Check(fn.ptr()))
            throw nb::type_error("error dispatch must be callable or None");
        hooks_.set_error_dispatch(fn.is_none() ? py_ref() : py_ref::borrow(fn.ptr()));
    }

    executor& native() {
        check_usable();
        return *ex_;
    }

private:
    void check_usable() const {
        if (forked()) {
            throw nb::builtin_exception(nb::exception_type::runtime_error,
                                        "this Runtime was created in the parent process before fork(); "
                                        "create a new Runtime in the child (get_default_runtime() does)");
        }
        if (!ex_) throw nb::builtin_exception(nb::exception_type::runtime_error, "Runtime is shut down");
    }

    python_hooks hooks_;  // outlives ex_: declared first, destroyed last
    std::unique_ptr<executor> ex_;
    unsigned generation_ = 0;
};

executor& native_executor(nb::handle executor_object) { return nb::cast<Executor&>(executor_object).native(); }

void bind_executor(nb::module_& m) {
    pthread_atfork(nullptr, nullptr, [] { generation.fetch_add(1, std::memory_order_relaxed); });

    nb::class_<Executor>(m, "Executor", "Native executor running Python callables (use Runtime instead).")
        .def(nb::init<int, int, int>(), nb::arg("threads"), nb::arg("io_threads"), nb::arg("history_size"))
        .def("submit", &Executor::submit, nb::arg("fn"), nb::arg("args"), nb::arg("kwargs").none(), nb::arg("name"),
             nb::arg("pool"), nb::arg("timeout"))
        .def("submit_deferred", &Executor::submit_deferred, nb::arg("starter"), nb::arg("args"), nb::arg("name"),
             nb::arg("pool"), nb::arg("timeout"))
        .def("wait_all", &Executor::wait_all, nb::arg("timeout") = nb::none())
        .def("shutdown", &Executor::shutdown, nb::arg("drain") = true, nb::arg("wait") = true)
        .def_prop_ro("is_shut_down", &Executor::is_shut_down)
        .def_prop_ro("forked", &Executor::forked)
        .def_prop_ro("threads", &Executor::threads)
        .def_prop_ro("io_threads", &Executor::io_threads)
        .def("counts", &Executor::counts)
        .def("progress", &Executor::progress, nb::arg("include_tasks") = true, nb::arg("max_queued") = 1000)
        .def("render_trace", &Executor::render_trace, nb::arg("format"),
             "Recorded tasks as a Chrome trace ('chrome') or DFTracer JSON lines ('pfw').")
        .def("set_error_dispatch", &Executor::set_error_dispatch, nb::arg("fn").none());

    m.def(
        "stop_requested", [] { return this_task::stop_requested(); },
        "True if the task running on this thread was asked to stop (timeout, request_stop).");
    m.def("current_task_id", [] { return this_task::id(); }, "Id of the task running on this thread, or 0.");
    m.def("current_worker_id", [] { return this_task::worker_id(); }, "Worker index of this thread, or -1.");
    m.def(
        "gzip_members",
        [](const std::string& text) {
            std::string packed;
            {
                nb::gil_scoped_release released;
                packed = dftracer::gzip_members(text);
            }
            return nb::bytes(packed.data(), packed.size());
        },
        nb::arg("text"),
        "`text` (JSON lines) gzip-compressed as one member per ~1 MiB, each cut after a newline, as DFTracer "
        "writes .pfw.gz.");
}

}  // namespace dftracer::py
