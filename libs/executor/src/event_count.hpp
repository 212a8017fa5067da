// event_count: how the workers of one pool sleep and are woken. It owns
// every piece of sleeping state: who sleeps, who spins, who watches the
// own-job slots, and each worker's parker. No other file touches them.
//
// The protocol (a Dekker handshake, in the manner of an event count):
//  waiter i:   prepare_wait(i); re-check for work; then cancel_wait(i) if
//              some came, else commit_wait(i, deadline).
//  notifier:   publish the work (queue push), then notify_*(). Each notify
//              fences first, so either the waiter's re-check sees the work
//              or the notifier sees the waiter announced and wakes one.
// A wake-up that races with cancel_wait() leaves a token in the waiter's
// parker: its next commit_wait() returns at once (a spurious wake-up; the
// caller re-checks).
//
// Spinning and watching are the two ways an idle worker stays awake: while
// one spins, notify_one() wakes nobody (the spinner will find the work);
// while one watches the slots (see scheduler::idle_wait()), a push into a
// slot wakes nobody either (notify_for_slot()). A spinner or watcher
// stops spinning/watching *before* its last look for work, which is what
// makes skipping the wake-up safe.
//
// Thread-safety: waiter-side calls for index i come from the thread that
// owns i; notifier-side calls from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "dftracer/executor/detail/parker.hpp"
#include "dftracer/executor/types.hpp"

namespace dftracer::detail {

class event_count {
public:
    event_count() = default;
    /// Sizes the waiter table; once, before any waiter or notifier runs.
    void resize(std::size_t waiters) {
        slots_ = std::make_unique<slot[]>(waiters);
        size_ = waiters;
    }

    // ------------------------------------------------------ waiter side

    /// Announces waiter i as a sleeper. The caller must re-check its
    /// condition, then call cancel_wait() or commit_wait().
    void prepare_wait(std::size_t i) noexcept {
        slots_[i].sleeping.store(true, std::memory_order_relaxed);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    /// Leaves the sleeper state without parking.
    void cancel_wait(std::size_t i) noexcept {
        if (slots_[i].sleeping.exchange(false, std::memory_order_acq_rel)) {
            sleepers_.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    /// Parks until a notify reaches waiter i or `deadline` (null: none)
    /// passes, then leaves the sleeper state. True if woken.
    bool commit_wait(std::size_t i, const clock::time_point* deadline) noexcept {
        const bool woken = deadline != nullptr ? slots_[i].park.park_until(*deadline) : (slots_[i].park.park(), true);
        cancel_wait(i);
        return woken;
    }
    /// Parks waiter i without announcing it as a sleeper: only wake(i)
    /// reaches it (for a waiter that would not run new work if woken, so it
    /// must not absorb wake-ups meant for idle workers).
    void park_unannounced(std::size_t i, const clock::time_point* deadline) noexcept {
        if (deadline != nullptr) {
            slots_[i].park.park_until(*deadline);
        } else {
            slots_[i].park.park();
        }
    }
    bool is_sleeping(std::size_t i) const noexcept { return slots_[i].sleeping.load(std::memory_order_relaxed); }

    /// Becomes the pool's one spinner if nobody spins. True if it did; the
    /// spinner absorbs notify_one() until end_spin(). One is enough: the
    /// spinner that finds work passes a wake-up on if more is queued, and
    /// more spinners would only take the CPU from threads that submit.
    bool try_begin_spin() noexcept {
        std::uint32_t none = 0;
        return spinning_.compare_exchange_strong(none, 1, std::memory_order_seq_cst);
    }
    void end_spin() noexcept { spinning_.store(0, std::memory_order_seq_cst); }

    /// Becomes the pool's one slot watcher if nobody is. True if it did.
    bool try_watch() noexcept {
        std::uint32_t none = 0;
        return watching_.compare_exchange_strong(none, 1, std::memory_order_seq_cst);
    }
    /// The watcher stops watching; it must look for work once more after.
    void stop_watching() noexcept {
        watching_.store(0, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }

    // ---------------------------------------------------- notifier side

    /// After publishing work: wakes one sleeper unless a worker spins.
    void notify_one() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_acquire) != 0 && spinning_.load(std::memory_order_acquire) == 0) {
            wake_one();
        }
    }
    /// After a push into an own-job slot: as notify_one(), but nobody is
    /// woken while a worker watches the slots either.
    void notify_for_slot() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_acquire) != 0 && spinning_.load(std::memory_order_acquire) == 0 &&
            watching_.load(std::memory_order_acquire) == 0) {
            wake_one();
        }
    }
    /// Wakes every waiter, announced or not.
    void notify_all() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        for (std::size_t i = 0; i < size_; ++i) {
            cancel_wait(i);
            slots_[i].park.unpark();
        }
    }
    /// Wakes waiter i in particular (something it waits for happened).
    void wake(std::size_t i) noexcept { slots_[i].park.unpark(); }

private:
    void wake_one() noexcept {
        // Round robin, so wake-ups spread over the pool's workers.
        const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
        for (std::size_t k = 0; k < size_; ++k) {
            slot& s = slots_[(start + k) % size_];
            if (s.sleeping.exchange(false, std::memory_order_acq_rel)) {
                sleepers_.fetch_sub(1, std::memory_order_relaxed);
                s.park.unpark();
                return;
            }
        }
    }

    struct alignas(64) slot {
        std::atomic<bool> sleeping{false};
        parker park;
    };
    std::unique_ptr<slot[]> slots_;
    std::size_t size_ = 0;
    alignas(64) std::atomic<std::uint32_t> sleepers_{0};
    std::atomic<std::uint32_t> spinning_{0};
    std::atomic<std::uint32_t> watching_{0};
    std::atomic<std::size_t> next_{0};
};

/// Whom a wait wakes when its target is reached: a worker (through its
/// pool's event count) or a thread outside the pools (its parker).
struct wake_ref {
    event_count* sleep = nullptr;
    std::size_t index = 0;
    parker* park = nullptr;
    void wake() const noexcept {
        if (park != nullptr) {
            park->unpark();
        } else {
            sleep->wake(index);
        }
    }
    bool operator==(const wake_ref&) const = default;
};

}  // namespace dftracer::detail
