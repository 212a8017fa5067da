// task<T>: a lazy C++20 coroutine that runs on an executor.
//
// A task does nothing until it is either spawned (executor::spawn, which
// returns a task_handle) or co_awaited from another task (which runs it inline
// on the awaiting coroutine's worker). Awaiting a task_handle, a task, or one
// of the scheduling awaitables below suspends the coroutine; no thread blocks.
//
// Ownership: a task owns its coroutine frame and is move-only. It must be
// spawned or awaited at most once. Coroutines that are not reached through
// executor::spawn have no executor and cannot use resume_on()/yield().
//
// Stack use: awaiting a task that completes synchronously returns to the
// awaiting frame before the next await, so long sequences of co_awaits (a
// loop awaiting a million tasks) use constant stack at any optimisation level.
// Recursion depth (a task awaiting a task awaiting ...) costs one frame chain
// per level, like ordinary recursion.
#pragma once

#include <atomic>
#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/strand.hpp"
#include "dftracer/executor/task_handle.hpp"
#include "dftracer/executor/types.hpp"

namespace dftracer {

template <class T = void>
class task;

namespace detail {

/// Moves the coroutine (continuation h, at `place`) onto `pool`; when
/// `always_hop` is false and the caller already runs on `pool`, returns false
/// (no suspension needed). Defined in the scheduler.
bool reschedule(coroutine_place place, std::coroutine_handle<> h, pool_kind pool, bool always_hop);
/// Requeues the coroutine at the back of the pool it is running on.
bool yield_now(coroutine_place place, std::coroutine_handle<> h);

class promise_base {
public:
    // Coroutine frames come from the block pool.
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* frame, std::size_t size) noexcept { pool_deallocate(frame, size); }

    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        void await_suspend(std::coroutine_handle<Promise> h) noexcept {
            promise_base& self = h.promise();
            if (self.on_root_done_ != nullptr) {
                self.on_root_done_(self.root_);
                return;
            }
            if (self.strand_ == &self.own_strand_) {
                // The first frame of a strand: its fork may free this frame
                // as soon as it is told.
                self.own_strand_.owner->child_done();
                return;
            }
            // The awaiting coroutine either already suspended (resume it) or
            // is still inside await_suspend (it sees our flag and continues).
            if (self.completed_or_suspended_.exchange(true, std::memory_order_acq_rel)) {
                self.continuation_.resume();
            }
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { error_ = std::current_exception(); }

    record* root() const noexcept { return root_; }
    /// Where this coroutine continues after a suspension.
    coroutine_place place() const noexcept { return {root_, strand_}; }

    // Wiring, used by task's awaiter, by forks and by the root record.
    void set_parent(coroutine_place place, std::coroutine_handle<> continuation) noexcept {
        root_ = place.root;
        strand_ = place.on;
        continuation_ = continuation;
    }
    /// Makes this coroutine (frame `self`, not started) the first frame of
    /// a strand of its own, kept in this promise: a child of fork `owner`
    /// in task `root`.
    strand& start_strand(std::coroutine_handle<> self, record* root, fork_join& owner) noexcept {
        own_strand_ = strand{self, root, &owner};
        root_ = root;
        strand_ = &own_strand_;
        return own_strand_;
    }
    void set_root(record* root, void (*on_done)(record*)) noexcept {
        root_ = root;
        on_root_done_ = on_done;
    }
    /// After resuming the child from the parent's await_suspend: true if the
    /// parent must suspend (the child will resume it), false if the child
    /// already completed.
    bool parent_should_suspend() noexcept { return !completed_or_suspended_.exchange(true, std::memory_order_acq_rel); }
    void rethrow_if_failed() const {
        if (error_) std::rethrow_exception(error_);
    }
    const std::exception_ptr& error() const noexcept { return error_; }

private:
    record* root_ = nullptr;
    strand* strand_ = nullptr;  ///< the strand this coroutine runs on (null: the main chain)
    std::coroutine_handle<> continuation_{};
    void (*on_root_done_)(record*) = nullptr;
    strand own_strand_{};  ///< used when this coroutine starts a strand
    std::atomic<bool> completed_or_suspended_{false};
    std::exception_ptr error_;
};

template <class T>
class promise final : public promise_base {
public:
    task<T> get_return_object() noexcept;
    template <class U>
    void return_value(U&& v) {
        value_.emplace(std::forward<U>(v));
    }
    T take() {
        rethrow_if_failed();
        return std::move(*value_);
    }

private:
    std::optional<T> value_;
};

template <>
class promise<void> final : public promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() { rethrow_if_failed(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::promise<T>;
    using value_type = T;

    task() = default;
    task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    bool valid() const noexcept { return static_cast<bool>(h_); }

    /// Runs the task inline on the awaiting coroutine's thread; the result (or
    /// exception) comes back from co_await.
    auto operator co_await() && noexcept { return awaiter{h_}; }

    /// For executor::spawn.
    std::coroutine_handle<promise_type> handle() const noexcept { return h_; }

private:
    friend class detail::promise<T>;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}

    struct awaiter {
        std::coroutine_handle<promise_type> child;
        bool await_ready() const noexcept { return !child || child.done(); }
        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> parent) {
            child.promise().set_parent(parent.promise().place(), parent);
            child.resume();
            return child.promise().parent_should_suspend();
        }
        T await_resume() {
            if (!child) throw std::logic_error("awaiting an empty task");
            return child.promise().take();
        }
    };

    void destroy() noexcept {
        if (h_) h_.destroy();
        h_ = {};
    }

    std::coroutine_handle<promise_type> h_{};
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline task<void> promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}

/// Where a task's root frame finishing on this thread leaves its outcome:
/// the local of the coroutine_record::run() executing it here (see run()).
inline thread_local pending_finish* running_root_outcome = nullptr;

/// The record of a spawned coroutine: its root task and result.
template <class T>
class coroutine_record final : public value_record<T> {
public:
    explicit coroutine_record(task<T> body) : body_(std::move(body)) {
        this->kind_ = task_kind::coroutine;
        body_.handle().promise().set_root(this, &on_done);
        this->resume_point = body_.handle();
    }
    /// Resumes the body; leaves its outcome to the caller if it ended.
    pending_finish run() noexcept override {
        // The task's main chain runs only inside run() of this record, but
        // not always inside the run() that resumed it last: a child awaited
        // inline may hop pools and finish on another worker's run() before
        // its parent, still inside this run(), learns it need not suspend;
        // the parent then carries on here. So the root frame leaves its
        // outcome in the slot of the run() executing it on *this* thread.
        // Once the frame suspends, another worker may resume it at once:
        // after resume() this call reads only its own locals.
        pending_finish pending = pending_finish::none;
        pending_finish* const outer = std::exchange(running_root_outcome, &pending);
        this->resume_point.resume();
        running_root_outcome = outer;
        return pending;
    }

private:
    /// Stores the ended body's value or error (see store_value()).
    pending_finish store_outcome() noexcept {
        auto& p = body_.handle().promise();
        if (p.error()) return this->store_error(p.error());
        try {
            if constexpr (std::is_void_v<T>) {
                return this->store_value();
            } else {
                return this->store_value(p.take());
            }
        } catch (...) {
            return this->store_error(std::current_exception());
        }
    }

    static void on_done(record* self) noexcept {
        auto& rec = static_cast<coroutine_record&>(*self);
        *running_root_outcome = rec.store_outcome();
        // The frame is suspended at its final point and nothing touches it
        // after this returns: free it now rather than with the record, so a
        // finished coroutine holds no memory while handles to it live on.
        // (Whoever runs the record holds a reference until run() returns.)
        rec.body_ = task<T>{};
    }

    task<T> body_;
};
}  // namespace detail

namespace detail {
struct resume_on_awaiter {
    pool_kind pool;
    record* root = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        root = h.promise().root();
        return reschedule(h.promise().place(), h, pool, false);
    }
    void await_resume() const { check_stop(root); }
};

struct yield_awaiter {
    record* root = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        root = h.promise().root();
        return yield_now(h.promise().place(), h);
    }
    void await_resume() const { check_stop(root); }
};
}  // namespace detail

/// Awaitable: continue this coroutine on a worker of `pool` (no-op when it
/// already runs there). Throws task_cancelled on resumption if the task was
/// asked to stop.
inline detail::resume_on_awaiter resume_on(pool_kind pool) noexcept { return {pool}; }

/// Awaitable: requeue this coroutine behind the work already queued on its
/// pool, letting other tasks run. Throws task_cancelled on resumption if the
/// task was asked to stop.
inline detail::yield_awaiter yield() noexcept { return {}; }

}  // namespace dftracer
