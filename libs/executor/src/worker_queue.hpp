// worker_queue: the jobs queued on one worker.
//
// Four places, one queue:
//  - the own-job slot: the newest job the owner pushed itself, outside any
//    lock (a task that spawns its next step and returns costs no lock);
//  - `local`: the owner's older pushes (LIFO for the owner, locality in
//    recursive work);
//  - `inbox`: jobs pushed by other threads (FIFO), behind a lock of its
//    own, so that pushers and the owner meet once per batch, not per job;
//  - `taken`: the inbox's jobs the owner took over in one batch (all of
//    them, when it ran out of its own), still FIFO and still stealable.
// `local` and `taken` share the owner's lock; the inbox lock is taken
// after it when both are needed (lock order: own, then inbox).
//
// Who may do what:
//  - The owner (the worker thread) alone calls push_own(),
//    push_own_batch(), pop_own(), pop_own_child() and take_if_newest().
//    Only the owner makes the slot non-zero.
//  - Any thread calls push_inbox(), push_inbox_batch(), steal(),
//    for_each_queued() and the read-only queries.
//
// What a thief may see (the steal rule): a job of the locked queues first,
// the oldest of each in turn: inbox front, then taken front, then local
// front (the inbox first, to leave the owner's lock alone while pushers
// keep the inbox busy; jobs taken over are older than those still in the
// inbox, and the owner runs them in order meanwhile). The slot's job only once
// the thief has seen that same job sitting there, with nothing pushed into
// the slot meanwhile, for `slot_steal_after_ns`, or at once while the owner
// sleeps: an owner running a chain takes its next step back within
// nanoseconds, and stealing it would move the chain between cores on every
// step. The sighting is kept in the queue itself (one per queue, written by
// thieves only), so a thief's memory does not grow with the pool's size.
//
// Every job is taken by exactly one caller: the slot is emptied by exchange
// (owner) or compare-exchange (thieves), the locked queues under their
// locks; the takeover moves the inbox with both locks held, so no job is
// ever outside every queue while a reader (for_each_queued) looks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

#include "dftracer/executor/detail/spin_lock.hpp"
#include "ring_queue.hpp"
#include "system.hpp"

namespace dftracer::detail {

/// A queued job: a tagged pointer (see job_kind in scheduler.hpp). Zero is
/// no job.
using job = std::uintptr_t;

class worker_queue {
public:
    /// Longer than a short task takes to spawn its successor and return,
    /// short enough that a long task's spawned work is not left waiting.
    static constexpr std::int64_t slot_steal_after_ns = 2000;

    /// Owner: makes j the newest job. Returns true if j went into the empty
    /// slot (no lock taken, nothing for a locked-queue reader to see). May
    /// throw std::bad_alloc (then j is not queued and the slot unchanged).
    bool push_own(job j) {
        slot_pushes_.store(slot_pushes_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (slot_.load(std::memory_order_relaxed) == 0) {
            slot_.store(j, std::memory_order_release);
            return true;
        }
        std::lock_guard<spin_lock> guard(lock_);
        local_.reserve_one();
        if (job older = slot_.exchange(j, std::memory_order_acq_rel)) {
            local_.push_back(older);
            update_own_depth();
        }
        return false;
    }

    /// Owner: makes the n jobs that `jobs(push)` passes to push(job) the
    /// newest, under one lock; the owner pops them in the order given,
    /// thieves steal from the last. The slot's job, if any, moves to
    /// `local` before them. Throws std::bad_alloc with nothing queued.
    template <class Jobs>
    void push_own_batch(std::size_t n, Jobs&& jobs) {
        std::lock_guard<spin_lock> guard(lock_);
        local_.reserve(n + 1);
        if (job older = slot_.exchange(0, std::memory_order_acq_rel)) local_.push_back(older);
        local_.push_back_reversed(n, jobs);
        update_own_depth();
    }

    /// Any thread: appends j to the inbox. May throw std::bad_alloc.
    void push_inbox(job j) {
        std::lock_guard<spin_lock> guard(inbox_lock_);
        inbox_.push_back(j);
        update_inbox_depth();
    }

    /// Any thread: appends the n jobs that `jobs(push)` passes to push(job)
    /// to the inbox under one lock. Throws std::bad_alloc with nothing
    /// queued.
    template <class Jobs>
    void push_inbox_batch(std::size_t n, Jobs&& jobs) {
        std::lock_guard<spin_lock> guard(inbox_lock_);
        inbox_.reserve(n);
        jobs([this](job j) { inbox_.push_back(j); });
        update_inbox_depth();
    }

    /// Owner: the newest own job (slot, then local), else the oldest job
    /// from the inbox (taken over in a batch). False if the queue is empty.
    bool pop_own(job& out) noexcept {
        if (slot_.load(std::memory_order_relaxed) != 0) {
            out = slot_.exchange(0, std::memory_order_acquire);
            if (out != 0) return true;  // else a thief took it
        }
        if (!has_locked_jobs()) return false;
        std::lock_guard<spin_lock> guard(lock_);
        if (!local_.empty()) {
            out = local_.pop_back();
        } else {
            if (taken_.empty() && inbox_depth_.load(std::memory_order_relaxed) != 0) take_inbox_locked();
            if (taken_.empty()) return false;
            out = taken_.pop_front();
        }
        update_own_depth();
        return true;
    }

    /// Owner: the newest job the owner pushed itself (slot, then local),
    /// never the inbox: what a deeply nested wait may run.
    bool pop_own_child(job& out) noexcept {
        out = slot_.exchange(0, std::memory_order_acquire);
        if (out != 0) return true;
        std::lock_guard<spin_lock> guard(lock_);
        if (local_.empty()) return false;
        out = local_.pop_back();
        update_own_depth();
        return true;
    }

    /// Owner: removes `entry` if it is the newest job (slot or local back).
    bool take_if_newest(job entry) noexcept {
        job newest = slot_.load(std::memory_order_relaxed);
        if (newest == entry) return slot_.compare_exchange_strong(newest, 0, std::memory_order_acquire);
        if (own_depth_.load(std::memory_order_relaxed) == 0) return false;
        std::lock_guard<spin_lock> guard(lock_);
        if (local_.empty() || local_.back() != entry) return false;
        local_.pop_back();
        update_own_depth();
        return true;
    }

    /// Any thread but the owner: takes the oldest job under the steal rule
    /// (see the file comment). `look_at_slot` false leaves the slot alone;
    /// `owner_sleeping` lifts the slot's delay.
    bool steal(job& out, bool look_at_slot, bool owner_sleeping) noexcept {
        if (inbox_depth_.load(std::memory_order_relaxed) != 0) {
            std::lock_guard<spin_lock> guard(inbox_lock_);
            if (!inbox_.empty()) {
                out = inbox_.pop_front();
                update_inbox_depth();
                return true;
            }
        }
        if (own_depth_.load(std::memory_order_relaxed) != 0) {
            std::lock_guard<spin_lock> guard(lock_);
            if (!taken_.empty() || !local_.empty()) {
                out = !taken_.empty() ? taken_.pop_front() : local_.pop_front();
                update_own_depth();
                return true;
            }
        }
        if (!look_at_slot) return false;
        job newest = slot_.load(std::memory_order_relaxed);
        if (newest == 0) return false;
        if (!owner_sleeping && !sighted_long_enough(newest)) return false;
        if (!slot_.compare_exchange_strong(newest, 0, std::memory_order_acquire)) return false;
        out = newest;
        return true;
    }

    /// Any thread: fn(job) for every queued job, under the queue lock (fn
    /// must be short and must not touch this queue). The slot's job is moved
    /// to the back of `local` first, so it is listed too and a reader
    /// holding the lock can rely on every listed job staying queued. May
    /// throw std::bad_alloc (before the job leaves the slot).
    template <class Fn>
    void for_each_queued(Fn&& fn) {
        std::lock_guard<spin_lock> guard(lock_);
        std::lock_guard<spin_lock> inbox_guard(inbox_lock_);
        local_.reserve_one();
        if (job j = slot_.exchange(0, std::memory_order_acquire)) {
            local_.push_back(j);
            update_own_depth();
        }
        local_.for_each(fn);
        taken_.for_each(fn);
        inbox_.for_each(fn);
    }

    /// Jobs queued, the slot's included (a racy snapshot).
    std::size_t size() const noexcept {
        return own_depth_.load(std::memory_order_relaxed) + inbox_depth_.load(std::memory_order_relaxed) +
               (slot_.load(std::memory_order_relaxed) != 0 ? 1 : 0);
    }
    /// Jobs in the locked queues (a racy snapshot).
    bool has_locked_jobs() const noexcept {
        return own_depth_.load(std::memory_order_relaxed) != 0 || inbox_depth_.load(std::memory_order_relaxed) != 0;
    }
    bool slot_holds_job() const noexcept { return slot_.load(std::memory_order_relaxed) != 0; }
    /// How many jobs the owner has put into the slot so far.
    std::uint32_t slot_pushes() const noexcept { return slot_pushes_.load(std::memory_order_relaxed); }

private:
    /// With lock_ held.
    void update_own_depth() noexcept { own_depth_.store(local_.size() + taken_.size(), std::memory_order_relaxed); }
    /// With inbox_lock_ held.
    void update_inbox_depth() noexcept { inbox_depth_.store(inbox_.size(), std::memory_order_relaxed); }
    /// With lock_ held and taken_ empty: takes every inbox job over at once.
    void take_inbox_locked() noexcept {
        std::lock_guard<spin_lock> guard(inbox_lock_);
        std::swap(taken_, inbox_);  // taken_ is empty: the inbox keeps a ring
        update_inbox_depth();
    }

    /// Whether `newest` has sat in the slot, with nothing pushed since, for
    /// slot_steal_after_ns. The same job means the same address and push
    /// count: a chain's records reuse a few addresses.
    bool sighted_long_enough(job newest) noexcept {
        const std::int64_t now = fast_now_ns();
        const std::uint32_t pushes = slot_pushes_.load(std::memory_order_relaxed);
        if (sighted_job_.load(std::memory_order_relaxed) != newest ||
            sighted_pushes_.load(std::memory_order_relaxed) != pushes) {
            sighted_job_.store(newest, std::memory_order_relaxed);
            sighted_pushes_.store(pushes, std::memory_order_relaxed);
            sighted_at_ns_.store(now, std::memory_order_relaxed);
            return false;
        }
        return now - sighted_at_ns_.load(std::memory_order_relaxed) >= slot_steal_after_ns;
    }

    spin_lock lock_;  ///< guards local_ and taken_
    ring_queue<job> local_;
    ring_queue<job> taken_;
    /// Jobs in local_ and taken_. Polled by spinning thieves: on its own
    /// cache line, so polling does not slow the owner's queue operations.
    alignas(64) std::atomic<std::size_t> own_depth_{0};
    /// The inbox and its lock, on lines of their own: pushers write them.
    alignas(64) spin_lock inbox_lock_;
    ring_queue<job> inbox_;
    alignas(64) std::atomic<std::size_t> inbox_depth_{0};
    /// The slot: a task that spawns the next step writes it every step, so
    /// it has a line of its own too.
    alignas(64) std::atomic<job> slot_{0};
    std::atomic<std::uint32_t> slot_pushes_{0};
    /// The last sighting of the slot's job by a thief (thieves only write
    /// these; the owner never reads them).
    alignas(64) std::atomic<job> sighted_job_{0};
    std::atomic<std::uint32_t> sighted_pushes_{0};
    std::atomic<std::int64_t> sighted_at_ns_{0};
};

}  // namespace dftracer::detail
