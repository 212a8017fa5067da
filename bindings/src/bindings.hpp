// Declarations shared by the binding translation units.
#pragma once

#include <nanobind/nanobind.h>

#include <optional>

#include "python_task.hpp"

namespace nb = nanobind;

namespace dftracer::py {

/// Incremented in a forked child; objects created before the fork compare.
unsigned fork_generation() noexcept;

/// The Python-visible task handle. `generation` is the fork generation it
/// was created in: a handle inherited by a fork() child refers to a task
/// whose workers exist only in the parent, so its waits must refuse.
struct Task {
    py_handle handle;
    unsigned generation = fork_generation();
};

void bind_task(nb::module_& m);
void bind_executor(nb::module_& m);
void bind_watchdog(nb::module_& m);

/// Waits for a record with the GIL released, in slices, checking for
/// signals (Ctrl-C) between slices. `timeout` in seconds; None waits forever.
/// Returns true once terminal. Raises the pending Python error on a signal.
bool wait_interruptibly(task_record& rec, std::optional<double> timeout);

/// Same loop for executor::wait_all_for.
bool wait_all_interruptibly(executor& ex, std::optional<double> timeout);

/// The Python exception object for a failed or cancelled task (new ref).
nb::object exception_object(const task_record& rec);

/// The native executor behind a Python Executor object (raises if unusable).
executor& native_executor(nb::handle executor_object);

}  // namespace dftracer::py
