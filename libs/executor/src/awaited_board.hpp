// awaited_board: queued tasks that blocked workers wait for but cannot run
// themselves, posted for the deeply nested waiters of the tasks' own pools.
//
// Why: a worker waiting inside a task runs queued work meanwhile, but once it
// is nested max_unrelated_help_depth tasks deep it runs only its own
// children (run_loop.cpp), so that deep nesting cannot exhaust its stack. A
// task that a worker of *another* pool or executor blocks on is nobody's
// child there: when every worker of the task's pool is such a deep waiter,
// nobody runs it, and a chain of waits that alternates between two
// one-thread executors hung once it was 15 levels deep. A task someone is
// blocked on is not unrelated work (running it is what ends that wait), so a
// blocked worker lists the queued task it cannot claim here while it waits,
// and a deep waiter of the task's pool takes the listed tasks of its pool.
// A listed task need not be on the helper's own chain of waits, so these
// runs are bounded too: up to 64 nested tasks (run_loop.cpp).
//
// Protocol (one lock, so no wake-up is lost): note() lists a queued task
// and wakes the helpers of its pool; a helper join()s, then looks (take(),
// has_listed()), then parks, and leave()s after. A helper that joined
// before the note() is woken (its parker keeps the wake-up if it has not
// parked yet); one that joins after it finds the entry.
//
// Ownership: the board holds a reference to each listed record, flagged in
// the record (on_awaited_board). The scheduler calls finished() when a
// record reaches a terminal state, which unlists it if flagged. A note()
// racing that finish can leave a finished record listed: every board call
// also drops the finished entries it meets, so such an entry lasts until
// the next one.
//
// Thread-safety: every member may be called from any thread. The board is
// process-wide (tasks and helpers of every executor): a helper takes only
// records whose owner and pool are its own, compared as pointers (a
// record's owner is never dereferenced here: it may be gone).
#pragma once

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/types.hpp"
#include "event_count.hpp"

namespace dftracer::detail {

class scheduler;

class awaited_board {
public:
    /// A deep waiter: whom to wake, and which pool's tasks it may run.
    struct helper {
        wake_ref who;
        const scheduler* owner = nullptr;
        pool_kind pool = pool_kind::compute;
        bool operator==(const helper&) const = default;
    };

    /// The process's board (never destroyed: workers may use it while the
    /// process exits). A child forked while a thread held the board's lock
    /// gets a fresh board (the parent's is left behind, locked).
    static awaited_board& instance() { return *current(); }

    /// Lists rec if it is queued and not listed yet, and wakes the helpers
    /// of its pool. Does nothing when out of memory (the wait then goes on as
    /// if no task were listed).
    void note(record& rec) noexcept {
        if (rec.state() != task_state::queued) return;  // the common case: no lock
        std::vector<record*> dropped;
        {
            std::lock_guard<std::mutex> guard(lock_);
            drop_finished(dropped);
            if (!rec.on_awaited_board.load(std::memory_order_relaxed)) {
                // Flag first, state second: a finisher that misses the flag
                // leaves an entry that the next call drops.
                rec.on_awaited_board.store(true, std::memory_order_seq_cst);
                if (rec.state() != task_state::queued || !push(rec)) {
                    rec.on_awaited_board.store(false, std::memory_order_relaxed);
                } else {
                    for (const helper& h : helpers_) {
                        if (h.owner == rec.owner && h.pool == rec.pool) h.who.wake();
                    }
                }
            }
        }
        for (record* r : dropped) r->release();
    }
    /// rec reached a terminal state: unlists it if listed. Costs one load
    /// when it is not (the scheduler calls it for every task).
    static void finished(record& rec) noexcept {
        if (rec.on_awaited_board.load(std::memory_order_relaxed)) instance().unlist(rec);
    }

    /// Makes h a helper, woken by note()s of its pool's tasks. False if it
    /// could not join (out of memory): then it must not leave().
    bool join(const helper& h) noexcept {
        std::lock_guard<std::mutex> guard(lock_);
        try {
            helpers_.push_back(h);
        } catch (...) {
            return false;
        }
        return true;
    }
    void leave(const helper& h) noexcept {
        std::lock_guard<std::mutex> guard(lock_);
        auto it = std::find(helpers_.begin(), helpers_.end(), h);
        if (it != helpers_.end()) helpers_.erase(it);
    }

    /// A listed, still queued task of (owner, pool), with a reference added
    /// for the caller; null if none.
    record* take(const scheduler* owner, pool_kind pool) noexcept {
        std::vector<record*> dropped;
        record* found = nullptr;
        {
            std::lock_guard<std::mutex> guard(lock_);
            drop_finished(dropped);
            found = find_queued(owner, pool);
            if (found != nullptr) found->add_ref();
        }
        for (record* r : dropped) r->release();
        return found;
    }
    /// Whether take() would find a task now.
    bool has_listed(const scheduler* owner, pool_kind pool) noexcept {
        std::lock_guard<std::mutex> guard(lock_);
        return find_queued(owner, pool) != nullptr;
    }

    /// Records listed now (tests).
    std::size_t size() noexcept {
        std::lock_guard<std::mutex> guard(lock_);
        return listed_.size();
    }

private:
    static awaited_board*& current() {
        static awaited_board* board = [] {
            ::pthread_atfork([] { current()->lock_.lock(); }, [] { current()->lock_.unlock(); },
                             [] { current() = new awaited_board; });
            return new awaited_board;
        }();
        return board;
    }

    void unlist(record& rec) noexcept {
        bool found = false;
        {
            std::lock_guard<std::mutex> guard(lock_);
            auto it = std::find(listed_.begin(), listed_.end(), &rec);
            if (it != listed_.end()) {
                listed_.erase(it);
                rec.on_awaited_board.store(false, std::memory_order_relaxed);
                found = true;
            }
        }
        if (found) rec.release();  // never the last: the finisher holds one
    }
    /// With lock_ held.
    bool push(record& rec) noexcept {
        try {
            listed_.push_back(&rec);
        } catch (...) {
            return false;
        }
        rec.add_ref();
        return true;
    }
    /// With lock_ held: unlists the finished records, whose references the
    /// caller drops after unlocking (dropping one may destroy it).
    void drop_finished(std::vector<record*>& dropped) noexcept {
        for (std::size_t i = 0; i < listed_.size();) {
            record* rec = listed_[i];
            if (!rec->done()) {
                ++i;
                continue;
            }
            try {
                dropped.push_back(rec);
            } catch (...) {
                return;  // out of memory: the next call drops it
            }
            rec->on_awaited_board.store(false, std::memory_order_relaxed);
            listed_[i] = listed_.back();
            listed_.pop_back();
        }
    }
    /// With lock_ held.
    record* find_queued(const scheduler* owner, pool_kind pool) const noexcept {
        for (record* rec : listed_) {
            if (rec->owner == owner && rec->pool == pool && rec->state() == task_state::queued) return rec;
        }
        return nullptr;
    }

    std::mutex lock_;
    std::vector<record*> listed_;
    std::vector<helper> helpers_;
};

}  // namespace dftracer::detail
