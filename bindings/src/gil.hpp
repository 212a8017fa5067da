// How native workers hold the GIL.
//
// A worker creates one Python thread state the first time it runs Python and
// keeps it for its whole life. Once it holds the GIL it keeps it across
// consecutive Python tasks (CPython's own switch interval still hands the GIL
// to waiting threads), and gives it up when it runs out of work, before it
// parks in a wait, or after a time slice. Every blocking wait in the bindings
// goes through wait_release, which understands that a nested task may have
// left the GIL held on this worker.
#pragma once

#include <Python.h>

namespace dftracer::py {

/// Takes the GIL for a task on the calling worker thread. False if the
/// interpreter is finalizing (the task must not touch Python then).
bool acquire_for_task() noexcept;
/// Called after a Python task: keeps the GIL unless the slice is used up.
void after_task() noexcept;
/// Executor idle hook: releases a GIL kept across tasks.
void release_if_held() noexcept;
/// Executor worker-exit hook: drops the worker's thread state.
void on_worker_exit() noexcept;
/// True while the interpreter can run Python code on native threads.
bool interpreter_usable() noexcept;

/// Releases the GIL for a blocking wait and takes it back afterwards, unless
/// a nested task already took it back on this worker. Must be created with
/// the GIL held.
class wait_release {
public:
    wait_release() noexcept;
    ~wait_release();
    wait_release(const wait_release&) = delete;
    wait_release& operator=(const wait_release&) = delete;

private:
    PyThreadState* saved_;
};

}  // namespace dftracer::py
