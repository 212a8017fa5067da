// The shared state of one task: identity, state machine, timestamps, waiters,
// and (in typed subclasses) the callable and its result. Handles, queues and
// the scheduler share it through an intrusive reference count.
//
// Not part of the public API; the contracts here are for the executor itself.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "dftracer/executor/detail/block_pool.hpp"
#include "dftracer/executor/detail/group_state.hpp"
#include "dftracer/executor/detail/spin_lock.hpp"
#include "dftracer/executor/detail/waiter.hpp"
#include "dftracer/executor/types.hpp"

namespace dftracer::detail {

class scheduler;
class record;

/// Work to run once when a record reaches a terminal state, after its waiters
/// were woken and outside every executor lock (so it may block, e.g. on a
/// language's global lock). Owned by the record until run; run() must delete
/// the node (or hand it on).
struct completion_callback {
    completion_callback* next = nullptr;
    virtual void run(record& finished) noexcept = 0;
    virtual void discard() noexcept = 0;  ///< record destroyed without finishing

protected:
    ~completion_callback() = default;
};

/// Internal "finishing" state: the winner of begin_finish() is publishing the
/// outcome. Reported as running.
inline constexpr std::uint8_t finishing_state = 5;

/// Finishes a record from outside its run (cancel, fail, a binding's
/// deferred resolve); defined in the scheduler.
void publish_finish(record& rec, task_state terminal) noexcept;

/// An outcome a record stored and left for its caller to publish: the
/// caller of a store_* or run() that returns `completed` or `failed` won
/// begin_finish() and must publish it (the scheduler, for run(); publish()
/// for the others).
enum class pending_finish : std::uint8_t { none, completed, failed };
inline task_state terminal_of(pending_finish pending) noexcept {
    return pending == pending_finish::completed ? task_state::completed : task_state::failed;
}

std::string describe_exception(const std::exception_ptr& error);

class record {
public:
    record() = default;
    record(const record&) = delete;
    record& operator=(const record&) = delete;
    virtual ~record() {
        if (group != nullptr) group->release();
        for (completion_callback* cb = callbacks_; cb != nullptr;) {
            completion_callback* next = cb->next;
            cb->discard();
            cb = next;
        }
    }

    // Records come from the block pool (sized delete sees the dynamic type).
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* block, std::size_t size) noexcept { pool_deallocate(block, size); }

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    /// add_ref() for a record no other thread can see yet (no bus lock).
    void add_refs_unpublished(std::uint32_t n) noexcept {
        refs_.store(refs_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    /// Drops n references. Holding all of them, the caller frees the record
    /// without a bus-locked decrement: the acquire load orders the other
    /// holders' releases before the delete. This rests on a rule every
    /// add_ref() keeps: it is made by a holder of a reference, or through a
    /// pointer borrowed under a lock that the lending holder takes before it
    /// drops its reference (registry lock: live lists; queue lock: queued
    /// entries, which is why for_each_queued() moves the next_job slot into
    /// the locked queue rather than peeking at it). Then no reference can
    /// appear once the count reads n.
    void release(std::uint32_t n = 1) noexcept {
        if (refs_.load(std::memory_order_acquire) == n || refs_.fetch_sub(n, std::memory_order_acq_rel) == n) {
            delete this;
        }
    }

    /// Runs the task body, or resumes its coroutine at its suspension point.
    /// Never throws. Hands the outcome back (`completed` or `failed`, stored
    /// with store_value()/store_error()) for the scheduler to publish, or
    /// `none` while the task goes on (a suspended coroutine, a deferred
    /// body) or when someone else finished it meanwhile.
    virtual pending_finish run() noexcept = 0;
    /// Called on the worker right after the scheduler published the outcome
    /// run() handed back (or right after run() returned `none`), before the
    /// worker looks for its next job. For subclasses (bindings: e.g. when to
    /// let a language's global lock go).
    virtual void after_run() noexcept {}
    /// True for records whose body is a coroutine (resumable more than once).
    bool is_coroutine() const noexcept { return kind_ == task_kind::coroutine; }
    task_kind kind() const noexcept { return kind_; }
    /// Called once when the record reaches a terminal state: after its state
    /// is terminal, before waiters wake and completion callbacks run, on the
    /// thread that finished it. For subclasses (bindings).
    virtual void on_terminal(task_state) noexcept {}

    task_state state() const noexcept {
        auto raw = static_cast<std::uint8_t>(state_.load(std::memory_order_acquire) & ~listeners_bit);
        return raw == finishing_state ? task_state::running : static_cast<task_state>(raw);
    }
    bool done() const noexcept { return is_terminal(state()); }

    /// queued -> running. Exactly one caller wins.
    bool try_claim() noexcept {
        auto current = state_.load(std::memory_order_relaxed);
        for (;;) {
            if ((current & ~listeners_bit) != static_cast<std::uint8_t>(task_state::queued)) return false;
            const auto running =
                static_cast<std::uint8_t>((current & listeners_bit) | static_cast<std::uint8_t>(task_state::running));
            if (state_.compare_exchange_weak(current, running, std::memory_order_acq_rel)) return true;
        }
    }
    /// queued|running -> finishing. The winner must store the outcome and call
    /// publish_finish(); losers must drop their outcome.
    bool begin_finish(bool allow_queued = false) noexcept { return begin_finish_from(allow_queued, true); }
    /// queued -> finishing (cancellation before start).
    bool begin_cancel() noexcept { return begin_finish_from(true, false); }
    /// finishing -> terminal (scheduler use, inside publish_finish).
    void set_terminal(task_state terminal) noexcept {
        // Only the finisher writes the state now: listeners cannot be added.
        const auto listeners = static_cast<std::uint8_t>(state_.load(std::memory_order_relaxed) & listeners_bit);
        state_.store(static_cast<std::uint8_t>(listeners | static_cast<std::uint8_t>(terminal)),
                     std::memory_order_release);
    }
    bool was_started() const noexcept { return was_started_; }

    /// Stores a failure (winner of begin_finish only) and publishes it.
    void finish_with(std::exception_ptr error, task_state terminal = task_state::failed) noexcept {
        set_error(std::move(error));
        publish_finish(*this, terminal);
    }
    /// Stores a failure if this caller wins the finish race.
    pending_finish store_error(std::exception_ptr error) noexcept {
        if (!begin_finish()) return pending_finish::none;
        set_error(std::move(error));
        return pending_finish::failed;
    }
    /// Publishes what a store_* call left (nothing for `none`).
    void publish(pending_finish pending) noexcept {
        if (pending != pending_finish::none) publish_finish(*this, terminal_of(pending));
    }

    /// Links w unless the record is already terminal (then returns false).
    /// While the record is finishing, waits (briefly) for the outcome.
    bool add_waiter(waiter& w) noexcept {
        std::lock_guard<spin_lock> guard(waiters_lock_);
        if (!open_for_listeners()) return false;
        waiters_.link(w);
        return true;
    }
    /// Unlinks w if it is still linked. After this returns, notify() is not
    /// running and will not run for w.
    void remove_waiter(waiter& w) noexcept {
        std::lock_guard<spin_lock> guard(waiters_lock_);
        waiters_.unlink(w);
    }
    /// Queues cb to run when the record finishes. False if it already has
    /// (the caller keeps cb and should run it itself).
    bool add_callback(completion_callback& cb) noexcept {
        std::lock_guard<spin_lock> guard(waiters_lock_);
        if (!open_for_listeners()) return false;
        cb.next = callbacks_;
        callbacks_ = &cb;
        return true;
    }

    /// Notifies every waiter, then runs the completion callbacks in
    /// registration order outside the lock (scheduler use, after
    /// set_terminal(): the terminal state is what closes the lists).
    /// True if any callback ran.
    bool notify_waiters() noexcept {
        // Nobody ever listened: no lock to take (listeners set the bit before
        // linking and cannot once the record is finishing).
        if ((state_.load(std::memory_order_acquire) & listeners_bit) == 0) return false;
        completion_callback* callbacks = nullptr;
        {
            std::lock_guard<spin_lock> guard(waiters_lock_);
            waiters_.notify_all();
            callbacks = std::exchange(callbacks_, nullptr);
        }
        if (callbacks == nullptr) return false;
        completion_callback* ordered = nullptr;  // reverse into FIFO order
        while (callbacks != nullptr) {
            completion_callback* next = callbacks->next;
            callbacks->next = ordered;
            ordered = callbacks;
            callbacks = next;
        }
        while (ordered != nullptr) {
            completion_callback* next = ordered->next;
            ordered->run(*this);
            ordered = next;
        }
        return true;
    }

    /// Cooperative cancellation of a running task (asked of it, or of its
    /// group).
    bool stop_requested() const noexcept {
        return stop_.load(std::memory_order_relaxed) || (group != nullptr && group->cancelled());
    }
    void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }

    /// The failure's exception (null unless failed with one) and its what().
    const std::exception_ptr& error() const noexcept { return error_; }
    const std::string& error_message() const noexcept { return message_ ? *message_ : no_message(); }
    bool has_error_message() const noexcept { return message_ != nullptr && !message_->empty(); }

    // Identity and bookkeeping, written by the scheduler. Fields without an
    // atomic type are written before the record is published to a queue,
    // or as the registry's links say (task_registry.hpp). The layout keeps a
    // record of a small callable within three cache lines: records cross
    // cores in bulk.
    std::uint64_t id = 0;
    std::string name;
    std::int64_t timeout_ns = 0;
    scheduler* owner = nullptr;
    // Times in clock ticks (the executor's cheapest clock; 0: not yet).
    std::atomic<std::int64_t> queued_ticks{0};
    std::atomic<std::int64_t> started_ticks{0};
    std::atomic<std::int64_t> finished_ticks{0};
    // Registry links (task_registry.hpp: the running stack's, written by
    // the worker; the list's, under the shard's lock).
    record* live_prev = nullptr;
    record* live_next = nullptr;
    /// Where a coroutine record continues when next run (scheduler use).
    std::coroutine_handle<> resume_point{};
    std::atomic<int> worker{-1};
    /// The registry shard of the worker that first ran it: set by that
    /// worker before anyone can finish the record elsewhere (who then
    /// reads it, ordered by how they reached the record).
    int live_shard = -1;
    /// In its shard's locked list (read and written under the shard's lock).
    bool in_live_list = false;
    /// Listed on the awaited board (src/awaited_board.hpp), which holds a
    /// reference meanwhile; written under the board's lock.
    std::atomic<bool> on_awaited_board{false};
    /// The task_group this task belongs to (one reference held), or null.
    /// Set before the record is queued.
    group_state* group = nullptr;
    pool_kind pool = pool_kind::compute;

protected:
    /// What the body is; subclasses set it in their constructor.
    task_kind kind_ = task_kind::callable;

    /// The failure and its message (winner of begin_finish only).
    void set_error(std::exception_ptr error) noexcept {
        error_ = std::move(error);
        if (error_) {
            // Out of memory here loses the message, never the error.
            try {
                message_ = std::make_unique<std::string>(describe_exception(error_));
            } catch (...) {
            }
        }
    }

private:
    /// Set in state_ once a waiter or callback was linked: the finisher
    /// takes the waiter lock only then.
    static constexpr std::uint8_t listeners_bit = 0x80;

    bool begin_finish_from(bool from_queued, bool from_running) noexcept {
        auto current = state_.load(std::memory_order_acquire);
        for (;;) {
            const auto plain = static_cast<std::uint8_t>(current & ~listeners_bit);
            bool ok = (from_running && plain == static_cast<std::uint8_t>(task_state::running)) ||
                      (from_queued && plain == static_cast<std::uint8_t>(task_state::queued));
            if (!ok) return false;
            const auto finishing = static_cast<std::uint8_t>((current & listeners_bit) | finishing_state);
            if (state_.compare_exchange_weak(current, finishing, std::memory_order_acq_rel)) {
                was_started_ = plain == static_cast<std::uint8_t>(task_state::running);
                return true;
            }
        }
    }

    /// With waiters_lock_ held: sets the listeners bit unless the record is
    /// terminal (false). A finishing record is a few instructions away from
    /// terminal: wait for it, with the lock released.
    bool open_for_listeners() noexcept {
        auto current = state_.load(std::memory_order_acquire);
        for (backoff wait;;) {
            const auto plain = static_cast<std::uint8_t>(current & ~listeners_bit);
            if (plain == finishing_state) {
                waiters_lock_.unlock();
                wait.pause();
                waiters_lock_.lock();
                current = state_.load(std::memory_order_acquire);
                continue;
            }
            if (is_terminal(static_cast<task_state>(plain))) return false;
            if ((current & listeners_bit) != 0) return true;
            if (state_.compare_exchange_weak(current, static_cast<std::uint8_t>(current | listeners_bit),
                                             std::memory_order_acq_rel)) {
                return true;
            }
        }
    }

    static const std::string& no_message() noexcept {
        static const std::string none;
        return none;
    }

    std::atomic<std::uint8_t> state_{static_cast<std::uint8_t>(task_state::queued)};
    std::atomic<bool> stop_{false};
    bool was_started_ = false;
    spin_lock waiters_lock_;
    std::atomic<std::uint32_t> refs_{1};
    waiter_list waiters_;
    completion_callback* callbacks_ = nullptr;
    std::exception_ptr error_;
    std::unique_ptr<std::string> message_;  // only failed tasks pay for the string
};

/// Owning pointer to a record (intrusive count).
class record_ref {
public:
    record_ref() = default;
    /// Adopts one reference.
    explicit record_ref(record* rec) noexcept : rec_(rec) {}
    record_ref(const record_ref& other) noexcept : rec_(other.rec_) {
        if (rec_) rec_->add_ref();
    }
    record_ref(record_ref&& other) noexcept : rec_(std::exchange(other.rec_, nullptr)) {}
    record_ref& operator=(record_ref other) noexcept {
        std::swap(rec_, other.rec_);
        return *this;
    }
    ~record_ref() {
        if (rec_) rec_->release();
    }

    record* get() const noexcept { return rec_; }
    record* operator->() const noexcept { return rec_; }
    explicit operator bool() const noexcept { return rec_ != nullptr; }
    record* detach() noexcept { return std::exchange(rec_, nullptr); }

private:
    record* rec_ = nullptr;
};

/// A record with a typed result.
template <class T>
class value_record : public record {
public:
    /// Stores v if this caller wins the finish race (a failure if moving v
    /// in throws).
    template <class U>
    pending_finish store_value(U&& v) noexcept {
        if (!begin_finish()) return pending_finish::none;
        try {
            value_.emplace(std::forward<U>(v));
            return pending_finish::completed;
        } catch (...) {
            set_error(std::current_exception());
            return pending_finish::failed;
        }
    }
    /// store_value() and publish.
    template <class U>
    void finish_value(U&& v) noexcept {
        publish(store_value(std::forward<U>(v)));
    }
    void finish_error(std::exception_ptr error) noexcept { publish(store_error(std::move(error))); }
    /// Valid only once state() == completed.
    const T& value() const { return *value_; }
    T& value() { return *value_; }

private:
    std::optional<T> value_;
};

template <>
class value_record<void> : public record {
public:
    pending_finish store_value() noexcept { return begin_finish() ? pending_finish::completed : pending_finish::none; }
};

template <class F>
inline constexpr bool is_std_function = false;
template <class R, class... Args>
inline constexpr bool is_std_function<std::function<R(Args...)>> = true;

/// Throws std::invalid_argument for a callable that is empty by its type's
/// own measure (a null function pointer, an empty std::function): it is
/// refused at the call, not found out when a worker runs it.
template <class F>
void check_callable(const F& fn) {
    if constexpr (std::is_pointer_v<F> || std::is_member_pointer_v<F> || is_std_function<F>) {
        if (!fn) throw std::invalid_argument("task body is empty (a null function or an empty std::function)");
    }
}

/// A record whose body is a callable run once.
template <class T, class F>
class callable_record final : public value_record<T> {
public:
    explicit callable_record(F&& fn) : fn_((check_callable(fn), std::move(fn))) {}
    explicit callable_record(const F& fn) : fn_((check_callable(fn), fn)) {}

    /// Leaves the outcome to the caller (the scheduler publishes it).
    pending_finish run() noexcept override {
        try {
            if constexpr (std::is_void_v<T>) {
                (*fn_)();
                fn_.reset();  // captures die before waiters see the result
                return this->store_value();
            } else {
                T result = (*fn_)();
                fn_.reset();
                return this->store_value(std::move(result));
            }
        } catch (...) {
            auto error = std::current_exception();
            fn_.reset();
            return this->store_error(std::move(error));
        }
    }

private:
    std::optional<F> fn_;
};

}  // namespace dftracer::detail
