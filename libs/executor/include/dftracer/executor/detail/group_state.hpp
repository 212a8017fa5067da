// The shared state of a task_group: how many of its tasks are unfinished,
// whether it was cancelled, its first failure and who waits for it. The
// group object and every task submitted into it share it through an
// intrusive count, so a task finishing after the group object is gone
// touches live memory.
//
// Not part of the public API; task_group.hpp states the contracts users see.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>

#include "dftracer/executor/detail/spin_lock.hpp"
#include "dftracer/executor/detail/waiter.hpp"

namespace dftracer::detail {

class group_state {
public:
    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    /// A task joins the group (before it is queued).
    void task_added() noexcept { pending_.fetch_add(1, std::memory_order_relaxed); }
    /// A task of the group reached a terminal state; `error` is its failure
    /// (null unless failed). The first failure cancels the group. Wakes the
    /// waiters when it was the last unfinished task.
    void task_finished(const std::exception_ptr* error) noexcept {
        if (error != nullptr && *error) {
            {
                std::lock_guard<spin_lock> guard(lock_);
                if (!first_error_) first_error_ = *error;
            }
            cancel();
        }
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard<spin_lock> guard(lock_);
            waiters_.notify_all();
        }
    }
    /// Unfinished tasks (submitted into the group, not yet terminal).
    std::int64_t pending() const noexcept { return pending_.load(std::memory_order_acquire); }
    bool idle() const noexcept { return pending() == 0; }

    /// Queued tasks of a cancelled group are cancelled instead of run; its
    /// running tasks see stop_requested().
    void cancel() noexcept { cancelled_.store(true, std::memory_order_release); }
    bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
    /// Makes the group usable again after a wait (first error and cancel
    /// flag cleared). Only with no task pending.
    void reset() noexcept {
        std::lock_guard<spin_lock> guard(lock_);
        first_error_ = nullptr;
        cancelled_.store(false, std::memory_order_release);
    }
    std::exception_ptr first_error() noexcept {
        std::lock_guard<spin_lock> guard(lock_);
        return first_error_;
    }

    /// Links w unless the group is idle (then false).
    bool add_waiter(waiter& w) noexcept {
        std::lock_guard<spin_lock> guard(lock_);
        if (idle()) return false;
        waiters_.link(w);
        return true;
    }
    /// After this returns, w is unlinked and its notify() not running.
    void remove_waiter(waiter& w) noexcept {
        std::lock_guard<spin_lock> guard(lock_);
        waiters_.unlink(w);
    }

private:
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<std::int64_t> pending_{0};
    std::atomic<bool> cancelled_{false};
    spin_lock lock_;
    waiter_list waiters_;
    std::exception_ptr first_error_;
};

}  // namespace dftracer::detail
