// task_group: structured waiting for a set of tasks.
//
//   task_group g(ex);
//   g.run([] { parse(a); });
//   g.spawn(index(b));          // a coroutine
//   g.wait();                   // only this group's tasks; rethrows the first failure
//
// wait() helps: on a worker it runs queued work while it waits, so groups
// nest (a task may wait for a group of its own children, even on one
// thread). The first failure cancels the group: its queued tasks are
// cancelled instead of run, and its running tasks see
// this_task::stop_requested(). cancel() does the same on demand.
//
// Thread-safety: run(), spawn(), cancel() and the queries may be called
// from any thread, concurrently, including from the group's own tasks.
// wait() may be called by several threads at once.
// Lifetime: the destructor waits for the group's tasks (it never throws:
// an unobserved failure stays in its task's handle). Tasks that finish
// after the group object is gone are safe: they share its state.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "dftracer/executor/detail/group_state.hpp"
#include "dftracer/executor/executor.hpp"

namespace dftracer {

namespace detail {
/// Blocks until the group has no unfinished task or the deadline passes;
/// helps on a worker. True when idle.
bool wait_group(executor& ex, group_state& group, const clock::time_point* deadline);
}  // namespace detail

class task_group {
public:
    explicit task_group(executor& ex) : ex_(ex), state_(new detail::group_state) {}
    ~task_group() {
        try {
            detail::wait_group(ex_, *state_, nullptr);
        } catch (const std::logic_error&) {
            // Destroyed by one of its own tasks: the group cannot finish
            // first. Its tasks keep the shared state alive.
        }
        state_->release();
    }
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    /// Submits fn() into the group (see executor::submit()). Throws
    /// executor_shut_down after shutdown began.
    template <class F>
    auto run(F&& fn, submit_options options) -> task_handle<std::invoke_result_t<std::decay_t<F>&>> {
        using result = std::invoke_result_t<std::decay_t<F>&>;
        auto* rec = new detail::callable_record<result, std::decay_t<F>>(std::forward<F>(fn));
        detail::record_ref ref(rec);
        submit(rec, std::move(options));
        return task_handle<result>(std::move(ref));
    }
    /// run() with default options (an overload, as for executor::submit()).
    template <class F>
    auto run(F&& fn) -> task_handle<std::invoke_result_t<std::decay_t<F>&>> {
        return run(std::forward<F>(fn), submit_options{});
    }

    /// Starts a coroutine in the group.
    template <class T>
    task_handle<T> spawn(task<T> body, submit_options options) {
        if (!body.valid()) throw std::invalid_argument("spawn: empty task");
        auto* rec = new detail::coroutine_record<T>(std::move(body));
        detail::record_ref ref(rec);
        submit(rec, std::move(options));
        return task_handle<T>(std::move(ref));
    }
    /// spawn() with default options.
    template <class T>
    task_handle<T> spawn(task<T> body) {
        return spawn(std::move(body), submit_options{});
    }

    /// Blocks until every task of the group finished (including tasks
    /// submitted into it meanwhile), then rethrows the group's first
    /// failure, if any. Afterwards the group is empty, not cancelled, and
    /// may be used again. Throws std::logic_error when called by a task of
    /// the group (the group could never finish first; wait_for() just times
    /// out).
    void wait() {
        detail::wait_group(ex_, *state_, nullptr);
        finish_wait();
    }
    /// As wait(), giving up after `timeout` (then false, nothing thrown).
    template <class Rep, class Period>
    bool wait_for(std::chrono::duration<Rep, Period> timeout) {
        auto deadline = clock::now() + std::chrono::ceil<clock::duration>(timeout);
        if (!detail::wait_group(ex_, *state_, &deadline)) return false;
        finish_wait();
        return true;
    }

    /// Cancels the group's queued tasks and asks its running ones to stop.
    /// Tasks submitted later are cancelled too, until the next wait().
    void cancel() noexcept { state_->cancel(); }
    bool is_cancelled() const noexcept { return state_->cancelled(); }
    /// Tasks of the group not finished yet.
    std::size_t pending() const noexcept { return static_cast<std::size_t>(state_->pending()); }

private:
    void submit(detail::record* rec, submit_options&& options) {
        state_->add_ref();
        rec->group = state_;
        state_->task_added();
        try {
            detail::submit_record(detail::engine_of(ex_), rec, std::move(options));
        } catch (...) {
            // Published already if it was queued and then cancelled or
            // failed; otherwise the group must stop counting it.
            if (!rec->done()) state_->task_finished(nullptr);
            throw;
        }
    }
    void finish_wait() {
        std::exception_ptr error = state_->first_error();
        state_->reset();
        if (error) std::rethrow_exception(error);
    }

    executor& ex_;
    detail::group_state* state_;
};

}  // namespace dftracer
