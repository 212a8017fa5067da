// The extension point: task bodies defined outside the library, such as a
// language binding's (the Python module runs Python callables this way).
//
// A body is a subclass of value_task_record<T> (T: the result type) that
// overrides run(). The executor owns the flow around it:
//
//   auto* rec = new my_record(...);          // starts with one reference
//   task_record_ref ref(rec);                // ... which `ref` adopts
//   submit_record(ex, *rec, options);        // queued; ex adds its own
//   task_handle<T> h(std::move(ref));        // the usual handle
//
// Contract of run() (called once for a callable body, once per resumption
// for a resumable one, on a worker, never concurrently with itself):
//  - it must not throw;
//  - it stores its outcome with store_value(v) / store_error(e) and returns
//    what they return: the executor then publishes the outcome (state,
//    waiters, callbacks, counts), then calls after_run();
//  - or it returns task_outcome::none: the task goes on (a deferred body
//    finished later by finish_value()/finish_error() from any thread, which
//    publish at once), or someone else finished it first.
// on_terminal(state) runs once, on the publishing thread, after the state
// is terminal and before waiters wake.
//
// Thread-safety and ownership are those of the record: an intrusive
// reference count shared by handles, queues and the executor.
#pragma once

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/executor.hpp"
#include "dftracer/executor/task_handle.hpp"

namespace dftracer {

/// The shared state of one task (identity, state, times, waiters).
using task_record = detail::record;
/// An owning reference to a task_record.
using task_record_ref = detail::record_ref;
/// A task_record with a result of type T: subclass it and override run().
template <class T>
using value_task_record = detail::value_record<T>;
/// What run() hands back (see the file comment).
using task_outcome = detail::pending_finish;
/// Work run once when a record reaches a terminal state, after its waiters
/// woke and outside every executor lock (it may block). Owned by the record
/// until run() or discard() is called.
using task_completion_callback = detail::completion_callback;

/// Queues a fresh record built by the caller, who keeps its own reference.
/// Throws executor_shut_down after shutdown() began, std::invalid_argument
/// for a negative timeout, std::bad_alloc (the task is then failed).
void submit_record(executor& ex, task_record& rec, submit_options options);

/// Blocks until rec is terminal or `deadline` (null: none) passes; true
/// when terminal. On a worker of any executor it runs that worker's queued
/// work meanwhile (so a task waiting on another executor's task keeps its
/// own pool going).
bool wait_for_record(task_record& rec, const clock::time_point* deadline);
/// Tells the executor that a task awaits rec without blocking a thread (a
/// coroutine on a binding's event loop). While rec stays queued, workers of
/// its pool nested deep in waits of their own may run it, as they do for a
/// task that a blocked worker of another pool waits for: chains of waits
/// through coroutines then end too. Non-blocking (one short process-wide
/// lock while rec is queued); thread-safe.
void note_awaited(task_record& rec) noexcept;

}  // namespace dftracer
