#include "gil.hpp"

#include <nanobind/nanobind.h>

#include <chrono>

namespace dftracer::py {

namespace {

using steady = std::chrono::steady_clock;
constexpr auto slice = std::chrono::milliseconds(5);

struct worker_gil {
    PyThreadState* tstate = nullptr;  // persistent; owned by this thread
    bool held = false;                // held across tasks by this worker
    steady::time_point held_since{};
};

worker_gil& state() noexcept {
    thread_local worker_gil g;
    return g;
}

void release(worker_gil& g) noexcept {
    g.held = false;
    PyEval_SaveThread();
}

}  // namespace

bool interpreter_usable() noexcept {
    if (!Py_IsInitialized() || !nanobind::is_alive()) return false;
#if PY_VERSION_HEX >= 0x030D0000
    return !Py_IsFinalizing();
#else
    return !_Py_IsFinalizing();
#endif
}

bool acquire_for_task() noexcept {
    worker_gil& g = state();
    if (g.held) return true;
    if (!interpreter_usable()) return false;
    if (g.tstate == nullptr) {
        PyGILState_Ensure();  // creates this thread's state; never released
        g.tstate = PyThreadState_Get();
    } else {
        PyEval_RestoreThread(g.tstate);
    }
    g.held = true;
    g.held_since = steady::now();
    return true;
}

void after_task() noexcept {
    worker_gil& g = state();
    if (g.held && steady::now() - g.held_since >= slice) release(g);
}

void release_if_held() noexcept {
    worker_gil& g = state();
    if (g.held) release(g);
}

void on_worker_exit() noexcept {
    worker_gil& g = state();
    if (g.tstate == nullptr) return;
    if (!interpreter_usable()) {
        // Too late to take the GIL; the interpreter frees thread states.
        g = worker_gil{};
        return;
    }
    if (!g.held) PyEval_RestoreThread(g.tstate);
    PyThreadState_Clear(g.tstate);
    PyThreadState_DeleteCurrent();
    g = worker_gil{};
}

wait_release::wait_release() noexcept {
    worker_gil& g = state();
    g.held = false;
    saved_ = PyEval_SaveThread();
}

wait_release::~wait_release() {
    worker_gil& g = state();
    if (g.held) return;  // a nested task on this worker took it back already
    PyEval_RestoreThread(saved_);
    // On a worker the waiting task owns the GIL again; after_task() and the
    // idle hook must know to release it.
    if (g.tstate != nullptr && saved_ == g.tstate) {
        g.held = true;
        g.held_since = steady::now();
    }
}

}  // namespace dftracer::py
