// task_handle<T>: the caller's view of a submitted task.
//
// Thread-safety: every member may be called from any thread, concurrently.
// Ownership: a handle shares ownership of the task's record; copies are cheap
// (one atomic increment). The result lives as long as some handle does.
// Blocking: get(), wait() and wait_for() block. Called on a worker of the
// task's pool they run other queued work while waiting, so nested waits
// cannot starve the pool.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/strand.hpp"
#include "dftracer/executor/types.hpp"

namespace dftracer {

namespace detail {
/// Blocks until rec is terminal or the deadline passes; helps on pool threads.
/// Returns true when terminal. Defined in the scheduler.
bool wait_record(record& rec, const clock::time_point* deadline);
/// Suspends the awaiting coroutine (at `place`) until rec finishes; false
/// if rec is already terminal (do not suspend). Defined in the scheduler.
bool await_record(record& rec, coroutine_place place, std::coroutine_handle<> continuation);
/// Throws the stored outcome of a terminal, non-completed record.
[[noreturn]] void rethrow_outcome(const record& rec);
/// Throws task_cancelled if the root record was asked to stop.
void check_stop(record* root);
}  // namespace detail

template <class T>
class task_handle {
public:
    /// An empty handle; every member except valid() throws std::logic_error.
    task_handle() = default;

    bool valid() const noexcept { return static_cast<bool>(rec_); }
    std::uint64_t id() const { return checked().id; }
    const std::string& name() const { return checked().name; }
    pool_kind pool() const { return checked().pool; }
    task_state state() const { return checked().state(); }
    /// True once the task is completed, failed or cancelled. Never blocks.
    bool done() const { return checked().done(); }

    /// Blocks until the task is terminal. Does not throw the task's error.
    /// Outside the executor's workers, the caller first watches the task for
    /// about 25 us (a short task then needs no sleep and wake-up), then sleeps.
    /// Throws std::logic_error when called by the task itself (wait() and
    /// get() could never return; wait_for() just times out).
    void wait() const { detail::wait_record(checked(), nullptr); }
    /// Blocks at most `timeout`; true if the task is terminal. On a worker
    /// of the task's executor the wait helps: it may run the awaited task (or
    /// another queued one) to completion before it checks the deadline again,
    /// so the timeout bounds the wait, not the work done meanwhile.
    template <class Rep, class Period>
    bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
        auto deadline = clock::now() + std::chrono::ceil<clock::duration>(timeout);
        return detail::wait_record(checked(), &deadline);
    }

    /// Blocks, then returns a copy of the result, rethrows the task's own
    /// exception, or throws task_cancelled.
    T get() const {
        wait();
        return result();
    }

    /// Cancels the task if it has not started. True if this call cancelled it.
    bool cancel() const;
    /// Asks a running task to stop (see this_task::stop_requested()); never
    /// interrupts it.
    void request_stop() const { checked().request_stop(); }

    /// The task's exception once failed or cancelled, else null. Never blocks.
    std::exception_ptr exception() const {
        auto& rec = checked();
        if (!rec.done() || rec.state() == task_state::completed) return nullptr;
        if (rec.error()) return rec.error();
        return std::make_exception_ptr(task_cancelled());
    }

    /// Coroutine support: `co_await handle` suspends the coroutine (no thread
    /// blocks) and resumes it on the task's pool with the result.
    auto operator co_await() const noexcept { return awaiter{this}; }

    /// For the executor and bindings.
    explicit task_handle(detail::record_ref rec) noexcept : rec_(std::move(rec)) {}
    detail::record* raw() const noexcept { return rec_.get(); }

private:
    struct awaiter {
        const task_handle* self;
        detail::record* suspended_root = nullptr;
        bool await_ready() const { return self->done(); }
        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> h) {
            // Written before suspending: once await_record() returns true the
            // coroutine may already run (or be gone) on another thread.
            suspended_root = h.promise().root();
            if (detail::await_record(self->checked(), h.promise().place(), h)) return true;
            suspended_root = nullptr;
            return false;
        }
        T await_resume() const {
            detail::check_stop(suspended_root);  // cancellation point
            return self->result();
        }
    };

    detail::record& checked() const {
        if (!rec_) throw std::logic_error("task_handle is empty");
        return *rec_.get();
    }
    T result() const {
        auto& rec = checked();
        if (rec.state() != task_state::completed) detail::rethrow_outcome(rec);
        if constexpr (!std::is_void_v<T>) {
            return static_cast<detail::value_record<T>&>(rec).value();
        }
    }

    detail::record_ref rec_;
};

namespace detail {
bool cancel_record(record& rec) noexcept;
}

template <class T>
bool task_handle<T>::cancel() const {
    return detail::cancel_record(checked());
}

}  // namespace dftracer
