// The task registry: where introspection finds started tasks and recently
// finished ones. One shard per worker (plus one for tasks finished without
// starting); a worker records the tasks it runs without a lock per task.
//
// A started record is held by the shard of the worker that first ran it
// (rec.live_shard) in one of three places, or two at once after retire():
//  - the running stack, during its first run (enter(); owner only, no
//    lock): nested runs (a helping wait inside a task) stack up;
//  - the finished batch, once its run ended with the task finished
//    (leave(), retire(); owner only, no lock), holding the references the
//    run handed over, until flush() moves the batch to the history under
//    the lock (when the batch is full, after a task that ran for long, and
//    when the worker idles) and drops them;
//  - the locked list, when its first run ended with the task unfinished (a
//    suspended coroutine, a deferred body): under the lock, until it
//    finishes: by its own worker's later run (retire(): in the batch and
//    still in the list until the next flush unlinks it) or elsewhere
//    (finish_elsewhere(), unlinked at once).
// A record finished by another thread while it is on the stack stays
// there: its worker batches it when the run ends (rec.in_live_list says
// which case applies, and is read and written under the lock only).
//
// Readers (for_each_live(), history) hold the lock. Every record they reach
// stays alive until they unlock: a record leaves the batch and the list
// only under the lock, and nothing popped off the stack is freed without
// the lock either (a finished one goes to the batch, an unfinished one to
// the list under the lock). A walk down the stack may meet records popped
// meanwhile; their links are unchanged, because runs nest (a record is
// popped only after every record above it) and a batched record's links
// are not touched. Moves keep a record visible throughout: leave() puts it
// in the batch (or the list) before it leaves the stack, and readers read
// the stack before the batch.
// Private to the library.
#pragma once

#include <array>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/spin_lock.hpp"
#include "dftracer/executor/types.hpp"

namespace dftracer::detail {

/// A task as the history keeps it: times stay in clock ticks until someone
/// reads them (info_of()).
struct history_entry {
    std::uint64_t id = 0;
    std::string name;
    std::string error;
    std::int64_t queued_ticks = 0;
    std::int64_t started_ticks = 0;
    std::int64_t finished_ticks = 0;
    int worker = -1;
    task_state state = task_state::completed;
    pool_kind pool = pool_kind::compute;
    task_kind kind = task_kind::callable;

    /// rec's fields, with `state` (strings are copied only when either side
    /// has text, reusing this entry's capacity: most tasks have no name and
    /// no error). `state_now` must come from rec.state() (an acquire) or
    /// from its finisher: the error is read only once it is terminal, since
    /// a finishing task's run writes it meanwhile.
    void assign(const record& rec, task_state state_now) {
        id = rec.id;
        state = state_now;
        pool = rec.pool;
        kind = rec.kind();
        worker = rec.worker.load(std::memory_order_relaxed);
        queued_ticks = rec.queued_ticks.load(std::memory_order_relaxed);
        started_ticks = rec.started_ticks.load(std::memory_order_relaxed);
        finished_ticks = rec.finished_ticks.load(std::memory_order_relaxed);
        if (!rec.name.empty() || !name.empty()) name = rec.name;
        if (!is_terminal(state_now)) {
            error.clear();
        } else if (rec.has_error_message() || !error.empty()) {
            error = rec.error_message();
        }
    }
};

/// Finished-task records of one registry shard, oldest overwritten first.
class history_ring {
public:
    void resize(std::size_t capacity) { slots_.resize(capacity); }
    void push(const record& rec, task_state terminal) {
        if (slots_.empty()) return;
        slots_[next_].assign(rec, terminal);
        if (++next_ == slots_.size()) next_ = 0;
        if (count_ < slots_.size()) ++count_;
    }
    /// fn(const history_entry&) for each entry, in no particular order.
    template <class Fn>
    void for_each(Fn&& fn) const {
        for (std::size_t i = 0; i < count_; ++i) fn(slots_[i]);
    }

private:
    std::vector<history_entry> slots_;
    std::size_t next_ = 0;
    std::size_t count_ = 0;
};

/// One shard of the registry (see the top of this file). Thread safety: the
/// owner calls enter(), leave(), retire() and flush(); any thread calls
/// finish_elsewhere() and record_unstarted() (they lock), and readers call
/// for_each_live() and read `history` with `lock` held.
class registry_shard {
public:
    /// Finished records a worker keeps before flush() records them.
    static constexpr std::size_t batch_capacity = 32;

    spin_lock lock;
    /// Written under `lock` only.
    history_ring history;

    registry_shard() = default;
    registry_shard(const registry_shard&) = delete;
    registry_shard& operator=(const registry_shard&) = delete;
    /// The owner flushed before it exited: nothing is held here.
    ~registry_shard() {
        assert(top_.load(std::memory_order_relaxed) == nullptr && batch_count_.load(std::memory_order_relaxed) == 0);
    }

    // ---- the owner (the worker thread)

    /// rec's first run starts on this worker (innermost of its runs). The
    /// caller holds a reference until leave().
    void enter(record& rec, int shard_id) noexcept {
        rec.live_shard = shard_id;
        rec.live_prev = nullptr;
        rec.live_next = top_.load(std::memory_order_relaxed);  // the run it nests in
        top_.store(&rec, std::memory_order_release);
    }
    /// rec's first run (the innermost) ended. `refs` of the caller's
    /// references on rec go with it: a finished rec keeps them in the
    /// batch; an unfinished one moves to the list (its finisher's reference
    /// covers it there) and they are dropped. True when the batch is full:
    /// call flush().
    [[nodiscard]] bool leave(record& rec, std::uint32_t refs) noexcept {
        assert(top_.load(std::memory_order_relaxed) == &rec);
        assert(refs != 0);  // a batched record must be held
        if (rec.done()) return batch_then_pop(rec, refs);
        {
            std::lock_guard<spin_lock> guard(lock);
            // Finished meanwhile by another thread (which found it here and
            // so left it to us): batched after all.
            if (rec.done()) return batch_then_pop(rec, refs);
            record* outer = rec.live_next;
            link_locked(rec);
            top_.store(outer, std::memory_order_release);
        }
        rec.release(refs);
        return false;
    }
    /// rec, in this shard's list, finished in a later run on this worker
    /// (a resumed coroutine): `refs` references go to the batch, and flush()
    /// unlinks it. True when the batch is full: call flush().
    [[nodiscard]] bool retire(record& rec, std::uint32_t refs) noexcept {
        assert(refs != 0);
        return append(rec, refs);
    }
    /// Records the batch in the history (unlinking retired list records)
    /// under the lock, then drops the references it held (destructors may
    /// run, outside the lock).
    void flush() noexcept {
        const std::size_t n = batch_count_.load(std::memory_order_relaxed);
        if (n == 0) return;
        // Released from a copy: a release may run destructors that run and
        // batch tasks here (a task_group's destructor waits, and helps).
        std::array<batch_entry, batch_capacity> done;  // uninitialised
        {
            std::lock_guard<spin_lock> guard(lock);
            for (std::size_t i = 0; i < n; ++i) {
                record& rec = *batch_[i].rec;
                if (rec.in_live_list) unlink_locked(rec);
                history.push(rec, rec.state());
                done[i] = batch_[i];
            }
            batch_count_.store(0, std::memory_order_relaxed);  // readers no longer look
        }
        for (std::size_t i = 0; i < n; ++i) done[i].rec->release(done[i].refs);
    }

    // ---- any thread

    /// rec, started on this shard's worker, was finished outside that
    /// worker's own handling of it. In the list: unlinked and recorded now
    /// (true). On the stack or in the batch: left to the worker (false).
    /// The caller's finish reference may be dropped after this returns.
    bool finish_elsewhere(record& rec, task_state terminal) noexcept {
        std::lock_guard<spin_lock> guard(lock);
        if (!rec.in_live_list) return false;
        unlink_locked(rec);
        history.push(rec, terminal);
        return true;
    }
    /// A task finished without ever starting (the orphan shard's use).
    void record_unstarted(const record& rec, task_state terminal) noexcept {
        std::lock_guard<spin_lock> guard(lock);
        history.push(rec, terminal);
    }

    // ---- readers, with `lock` held

    /// fn(record&) for every record this shard holds: running, finished but
    /// not yet in the history, and suspended. A record may be seen twice.
    template <class Fn>
    void for_each_live(Fn&& fn) const {
        // The stack before the batch: leave() batches before it pops.
        for (record* rec = top_.load(std::memory_order_acquire); rec != nullptr; rec = rec->live_next) fn(*rec);
        const std::size_t n = batch_count_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < n; ++i) fn(*batch_[i].rec);
        for (record* rec = list_head_; rec != nullptr; rec = rec->live_next) fn(*rec);
    }

private:
    struct batch_entry {
        record* rec;
        std::uint32_t refs;
    };

    bool append(record& rec, std::uint32_t refs) noexcept {
        const std::size_t n = batch_count_.load(std::memory_order_relaxed);
        batch_[n] = {&rec, refs};
        batch_count_.store(n + 1, std::memory_order_release);  // the entry, then the count readers go by
        return n + 1 == batch_capacity;
    }
    bool batch_then_pop(record& rec, std::uint32_t refs) noexcept {
        const bool full = append(rec, refs);
        top_.store(rec.live_next, std::memory_order_release);
        return full;
    }
    void link_locked(record& rec) noexcept {
        rec.live_prev = nullptr;
        rec.live_next = list_head_;
        if (list_head_ != nullptr) list_head_->live_prev = &rec;
        list_head_ = &rec;
        rec.in_live_list = true;
    }
    void unlink_locked(record& rec) noexcept {
        if (rec.live_prev != nullptr) {
            rec.live_prev->live_next = rec.live_next;
        } else {
            list_head_ = rec.live_next;
        }
        if (rec.live_next != nullptr) rec.live_next->live_prev = rec.live_prev;
        rec.live_prev = rec.live_next = nullptr;
        rec.in_live_list = false;
    }

    /// Owner writes, readers read under the lock (see for_each_live()).
    std::atomic<record*> top_{nullptr};
    std::array<batch_entry, batch_capacity> batch_{};
    std::atomic<std::size_t> batch_count_{0};  // written by the owner only
    record* list_head_ = nullptr;              // under the lock
};

}  // namespace dftracer::detail
