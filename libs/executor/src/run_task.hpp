// Running one task, from claiming it to publishing its outcome: the steps
// on every task's path, defined here so both the run loop (run_loop.cpp)
// and the scheduler (scheduler.cpp) inline them. Private to the library.
#pragma once

#include <cassert>

#include "awaited_board.hpp"
#include "scheduler.hpp"
#include "thread_context.hpp"

// Steps of the per-task path, each called from a few places: inlined into
// their callers (the compiler would keep them as calls).
#define DFTRACER_INLINE_STEP [[gnu::always_inline]] inline

namespace dftracer::detail {

DFTRACER_INLINE_STEP void scheduler::link_live(worker& w, record& rec) noexcept {
    rec.worker.store(w.id, std::memory_order_relaxed);
    rec.started_ticks.store(w.clock.start(), std::memory_order_relaxed);
    if (rec.timeout_ns > 0) timed_live_.fetch_add(1, std::memory_order_relaxed);
    w.registry.enter(rec, w.id);
}

/// What a worker shows while it runs something (its task and since when)
/// and the thread's current task: set for one run, put back after it.
/// The outermost run has nothing to put back: the worker shows idle (task 0).
class running_slots {
public:
    DFTRACER_INLINE_STEP running_slots(worker& w, bool outermost) noexcept
        : w_(w), ctx_(thread_context::get()), outermost_(outermost) {
        assert(!outermost ||
               (ctx_.depth == 0 && ctx_.current == nullptr && w.task_id.load(std::memory_order_relaxed) == 0 &&
                w.since_ticks.load(std::memory_order_relaxed) == 0));
        if (!outermost) {
            outer_task_ = w.task_id.load(std::memory_order_relaxed);
            outer_since_ = w.since_ticks.load(std::memory_order_relaxed);
            outer_record_ = ctx_.current;
        }
    }
    /// Shows `rec` (running since `since`) as this worker's task.
    DFTRACER_INLINE_STEP void enter(record* rec, std::int64_t since) noexcept {
        w_.since_ticks.store(since, std::memory_order_relaxed);
        w_.task_id.store(rec->id, std::memory_order_release);
        ctx_.current = rec;
        ++ctx_.depth;
    }
    /// Puts the outer task back.
    DFTRACER_INLINE_STEP void leave() noexcept {
        --ctx_.depth;
        // Back inside an outer task: its code runs before anything else
        // starts here, so a finish time is no start time for the next task.
        if (!outermost_ && ctx_.depth != 0) w_.clock.invalidate();
        ctx_.current = outer_record_;
        w_.task_id.store(outer_task_, std::memory_order_release);
        w_.since_ticks.store(outer_since_, std::memory_order_relaxed);
    }

private:
    worker& w_;
    thread_context& ctx_;
    const bool outermost_;
    std::uint64_t outer_task_ = 0;
    std::int64_t outer_since_ = 0;
    record* outer_record_ = nullptr;
};

DFTRACER_INLINE_STEP scheduler::run_left scheduler::run_claimed(worker& w, record* rec, bool first_run,
                                                                bool outermost) {
    if (first_run) {
        link_live(w, *rec);
        w.seat.counters.bump(task_counters::started);
    }
    running_slots slots(w, outermost);
    slots.enter(rec, first_run ? rec->started_ticks.load(std::memory_order_relaxed) : w.clock.start());
    const pending_finish pending = rec->run();
    run_left left = run_left::nothing;
    if (pending != pending_finish::none) {
        left = publish_outcome(*rec, terminal_of(pending), &w, true) ? run_left::linked_reference : run_left::reference;
    }
    rec->after_run();
    slots.leave();
    w.tasks_run.store(w.tasks_run.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return left;
}

DFTRACER_INLINE_STEP void scheduler::run_strand(worker& w, strand& s, bool outermost) {
    running_slots slots(w, outermost);
    slots.enter(s.root, w.clock.start());
    // Once resumed, the strand may finish its child and so its fork, whose
    // awaiting coroutine then frees the strand and may finish the task.
    s.resume_point.resume();
    slots.leave();
}

DFTRACER_INLINE_STEP void scheduler::run_job(worker& w, job j, bool outermost) {
    if (kind_of(j) == job_kind::strand) {
        run_strand(w, *job_strand(j), outermost);
        return;
    }
    // The queue's reference is passed on, with what the run left.
    record* rec = job_record(j);
    if (kind_of(j) == job_kind::resume) {
        drop_after_run(w, rec, run_claimed(w, rec, false, outermost), 1, false);
        return;
    }
    if (rec->group != nullptr && rec->group->cancelled() && cancel(*rec)) {
        // A cancelled group's queued task: cancelled instead of run.
    } else if (rec->try_claim()) {
        drop_after_run(w, rec, run_claimed(w, rec, true, outermost), 1, true);
        return;
    } else if (w.queue.size() == 0) {
        check_idle_waiters();  // a stale entry may have hidden the last finish
    }
    rec->release();  // the queue's reference
}

DFTRACER_INLINE_STEP void scheduler::drop_after_run(worker& w, record* rec, run_left left, std::uint32_t held,
                                                    bool first_run) noexcept {
    // A finished run left the finish reference too.
    const std::uint32_t refs = held + (left == run_left::nothing ? 0 : 1);
    if (!first_run && left != run_left::linked_reference) {
        rec->release(refs);  // not this shard's to keep
        return;
    }
    // After a task that ran for long the batch is recorded at once: the
    // lock costs nothing beside such a task, and the finished tasks (their
    // results) are not kept alive through whatever runs next. Read before
    // the shard takes rec: an unfinished one leaves this thread's hands.
    const bool ran_long =
        rec->finished_ticks.load(std::memory_order_relaxed) - rec->started_ticks.load(std::memory_order_relaxed) >=
        long_task_ticks_;
    const bool batch_full = first_run ? w.registry.leave(*rec, refs) : w.registry.retire(*rec, refs);
    if (batch_full || ran_long) w.registry.flush();
}

DFTRACER_INLINE_STEP bool scheduler::publish_outcome(record& rec, task_state terminal, worker* self,
                                                     bool own_task) noexcept {
    const bool started = rec.was_started();
    rec.finished_ticks.store(own_task ? self->clock.finish() : now_ticks(), std::memory_order_relaxed);
    rec.set_terminal(terminal);
    awaited_board::finished(rec);
    // Before waking waiters: whoever sees the task finished also sees what
    // the binding recorded about it (e.g. Python's get_failed()).
    rec.on_terminal(terminal);
    const bool ran_callbacks = rec.notify_waiters();
    if (rec.group != nullptr) rec.group->task_finished(terminal == task_state::failed ? &rec.error() : nullptr);
    // The finish time can start the next task on this worker only if no
    // other code runs in between: so only for its own task, and only when no
    // completion callback or error hook runs after the time was read.
    if (terminal == task_state::completed && own_task && !ran_callbacks) self->clock.keep();
    if (terminal == task_state::failed && config_.on_error) report_failure(rec);
    if (started && rec.timeout_ns > 0) timed_live_.fetch_sub(1, std::memory_order_relaxed);
    // A task finished by a run on the worker that first ran it stays where
    // that worker's registry shard holds it (its running stack, or its list
    // for a resumed coroutine): the worker batches it after the run
    // (task_registry.hpp), so no lock is taken per task. Readers treat it
    // as finished.
    const bool stays_linked = own_task && started && self != nullptr && rec.live_shard == self->id;
    // Recorded first, counted last: whoever sees the counts done (wait_all)
    // also finds the task recorded.
    if (!stays_linked) unlink_live(rec, started, terminal);
    counters_of(self).bump(finish_counter(terminal, started));
    // A worker with jobs still in its own queue cannot have finished the last
    // task (those jobs count as outstanding, or, if they are stale entries of
    // cancelled tasks, this worker checks again when it skips them or runs
    // dry), so it skips the check, which reads every worker's counters.
    if (self == nullptr || self->queue.size() == 0) check_idle_waiters();
    if (exit_ready()) wake_all();
    return stays_linked;
}

}  // namespace dftracer::detail
