// The executor's engine: pools, per-worker queues with stealing, the task
// registry and the counters. Private to the library.
//
// Queues: each worker owns a LIFO `local` deque (tasks it spawned itself, for
// locality in recursive work) and a FIFO `inbox` (tasks pushed from other
// threads, round-robin). Idle workers steal from the front of others' queues.
// A job is a record pointer whose low bit marks "resume a suspended coroutine"
// rather than "start this task".
//
// Sleeping: an idle worker announces itself in its pool's sleeper count, then
// re-checks the queues, then parks. Pushers fence and wake exactly one sleeper
// when the count is non-zero, so a busy pool pays one relaxed load per push.
// A push into a worker's own one-job slot wakes nobody while an idle worker
// watches the slots (see sleep_until_work()).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dftracer/executor/detail/parker.hpp"
#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/spin_lock.hpp"
#include "dftracer/executor/introspection.hpp"
#include "dftracer/executor/types.hpp"
#include "ring_queue.hpp"
#include "system.hpp"
#include "thread_context.hpp"

namespace dftracer {
class executor;
}

namespace dftracer::detail {

using job = std::uintptr_t;
inline constexpr job resume_bit = 1;
inline record* job_record(job j) noexcept { return reinterpret_cast<record*>(j & ~resume_bit); }
inline bool job_is_resume(job j) noexcept { return (j & resume_bit) != 0; }

/// A time_point for a now_ticks() value; 0 ("not yet") stays the epoch.
inline clock::time_point from_ticks(std::int64_t ticks) noexcept {
    return ticks == 0 ? clock::time_point{} : clock::time_point(std::chrono::nanoseconds(ticks_to_ns(ticks)));
}
/// A record's current fields as a task_info value.
task_info info_of(const record& rec);

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
    /// no error).
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
        if (rec.has_error_message() || !error.empty()) error = rec.error_message();
    }
};
task_info info_of(const history_entry& entry);

/// Finished-task records of one registry shard, oldest overwritten first.
class history_ring {
public:
    void resize(std::size_t capacity) { slots_.resize(capacity); }
    void push(const record& rec, task_state terminal);
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

/// Live tasks (started, not finished) plus recent finished ones, for one
/// worker (or, for the extra shard, tasks finished without a worker).
struct registry_shard {
    spin_lock lock;
    record* live_head = nullptr;
    history_ring history;
};

/// Task counters of one thread: a worker's own (single writer: plain
/// load+store increments, no bus lock) or the shared block every other
/// thread uses (atomic increments). Totals are sums over all blocks.
struct alignas(64) task_counters {
    enum index : int {
        submitted,
        started,
        completed,
        failed_started,
        cancelled_started,
        failed_unstarted,
        cancelled_unstarted,
        count
    };
    std::atomic<std::uint64_t> values[count] = {};
    bool single_writer = false;

    void bump(index i) noexcept {
        if (single_writer) {
            values[i].store(values[i].load(std::memory_order_relaxed) + 1, std::memory_order_release);
        } else {
            values[i].fetch_add(1, std::memory_order_release);
        }
    }
    std::uint64_t read(index i) const noexcept { return values[i].load(std::memory_order_acquire); }
};

/// The counter a finished task adds to.
inline task_counters::index finish_counter(task_state terminal, bool was_started) noexcept {
    switch (terminal) {
        case task_state::completed:
            return task_counters::completed;
        case task_state::failed:
            return was_started ? task_counters::failed_started : task_counters::failed_unstarted;
        default:
            return was_started ? task_counters::cancelled_started : task_counters::cancelled_unstarted;
    }
}

class pool;

struct alignas(64) worker {
    int id = 0;
    int index = 0;  // within its pool
    pool* home = nullptr;

    spin_lock queue_lock;
    ring_queue<job> local;
    ring_queue<job> inbox;
    /// Jobs in `local` and `inbox`. Read by spinning thieves: on its own
    /// cache line, so polling it does not slow the owner's queue operations.
    alignas(64) std::atomic<std::size_t> depth{0};
    /// Parked (as an idle or helping sleeper). Beside the queue depth, which
    /// thieves read anyway; both change rarely while the owner is busy.
    std::atomic<bool> sleeping{false};
    /// The newest job this worker pushed onto its own queue, outside the
    /// lock: the owner fills it with a plain store (only the owner makes it
    /// non-zero) and takes it back with one exchange, so a task that spawns
    /// the next step and returns costs no queue lock. Others empty it with a
    /// compare-exchange (thieves) or move it into `local` under the lock
    /// (for_each_queued()). It counts as the newest entry of `local`.
    /// On a line of its own: a task that spawns the next step writes it
    /// every step, so thieves read it less often than `depth` (try_steal()).
    alignas(64) std::atomic<job> next_job{0};
    /// Jobs the owner has put into `next_job`: a thief tells a job that
    /// stays there from a new one at a reused address by it.
    std::atomic<std::uint32_t> next_job_pushes{0};

    alignas(64) parker park;

    // Lock-free introspection slots (written by this worker only).
    std::atomic<std::uint64_t> task_id{0};
    std::atomic<std::int64_t> since_ticks{0};
    std::atomic<std::uint64_t> waiting_for{0};
    std::atomic<std::uint64_t> tasks_run{0};
    /// Next task id this worker hands out, and the end of its reserved block.
    std::uint64_t next_id = 0;
    std::uint64_t id_limit = 0;
    /// Time the last task on this worker finished, reused as the start time
    /// of a task picked up right after it (saves a clock read per task);
    /// `boundary_fresh` says nothing has run on this worker since.
    std::int64_t last_finish_ticks = 0;
    bool boundary_fresh = false;

    /// What this worker, as a thief, last saw in each pool peer's
    /// `next_job` (by peer index), the peer's next_job_pushes then, and
    /// since when. Owner thread only.
    struct sighting {
        job seen = 0;
        std::uint32_t pushes = 0;
        std::int64_t first_seen_ns = 0;
    };
    std::vector<sighting> sightings;
    /// As the pool's slot watcher: the sum of the peers' next_job_pushes at
    /// the last look. Owner thread only.
    std::uint64_t watched_pushes = 0;

    registry_shard registry;
    /// A task that finished on this worker, still in its live list (as
    /// finished) with `retired_refs` references held for it: the next
    /// link_live() here moves it to the history in the same critical section
    /// (one registry lock per task instead of two), or flush_retired() when
    /// the worker runs out of work. Owner thread only.
    record* retired = nullptr;
    std::uint32_t retired_refs = 0;
    task_counters counters;
    std::thread thread;
    std::atomic<std::uint64_t> native_thread{0};

    void update_depth() noexcept { depth.store(local.size() + inbox.size(), std::memory_order_relaxed); }
    /// Jobs queued on this worker, the `next_job` slot included.
    std::size_t queued() const noexcept {
        return depth.load(std::memory_order_relaxed) + (next_job.load(std::memory_order_relaxed) != 0 ? 1 : 0);
    }
    /// With queue_lock held: fn(record&) for every queued task (resume
    /// entries of suspended coroutines left out), the `next_job` slot's
    /// first moved to the back of `local` so it is listed too. May throw
    /// std::bad_alloc (before the job leaves the slot).
    template <class Fn>
    void for_each_queued(Fn&& fn) {
        local.reserve_one();
        if (job j = next_job.exchange(0, std::memory_order_acquire)) {
            local.push_back(j);
            update_depth();
        }
        for (const auto* q : {&local, &inbox}) {
            q->for_each([&](job queued) {
                if (!job_is_resume(queued)) fn(*job_record(queued));
            });
        }
    }
};

class pool {
public:
    pool_kind kind = pool_kind::compute;
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<std::uint32_t> sleepers{0};
    /// Idle workers still spinning for work. While one spins, a push needs
    /// no wake-up: the spinner will find the job (and wakes the next sleeper
    /// if it finds more than it can take).
    std::atomic<std::uint32_t> spinning{0};
    /// 1 while an idle worker watches the pool's `next_job` slots (see
    /// scheduler::sleep_until_work()): a push into a slot then needs no
    /// wake-up either.
    std::atomic<std::uint32_t> watching{0};
    std::atomic<std::uint32_t> round_robin{0};

    /// Any job queued on a worker of this pool; with `include_slots` false,
    /// only the locked queues count (see worker::next_job).
    bool has_queued_work(bool include_slots = true) const noexcept;
};

class scheduler {
public:
    scheduler(executor& owner, const executor_config& config);
    ~scheduler();

    // Task flow.
    void submit(record* rec, submit_options&& options);
    void push(pool_kind kind, job j, bool to_back);
    /// push() for a thread that may belong to another executor and holds
    /// nothing that keeps this one alive (a task finishing there resumes a
    /// coroutine of this one): the job can run, and this executor be
    /// destroyed, before push() returns, so the destructor waits for such
    /// calls to leave.
    void push_from_elsewhere(pool_kind kind, job j);
    /// push() for a caller that knows its worker (nullptr: not one of ours).
    void push(pool_kind kind, job j, bool to_back, worker* self);
    /// push()'s two steps: queue the job (may throw std::bad_alloc), then
    /// wake a sleeper if no worker spins (allocates nothing). enqueue()
    /// sets `into_slot` when the job went into the caller's `next_job` slot.
    pool& enqueue(pool_kind kind, job j, bool to_back, worker* self, bool& into_slot);
    void announce(pool& p, bool into_slot);
    void publish_finish(record& rec, task_state terminal) noexcept;
    bool cancel(record& rec) noexcept;

    // Waiting.
    bool wait(record& rec, const clock::time_point* deadline);
    bool await(record& rec, record* root, std::coroutine_handle<> continuation);
    bool wait_all(const clock::time_point* deadline);
    bool reschedule(record* root, std::coroutine_handle<> h, pool_kind kind, bool always_hop);
    bool yield_now(record* root, std::coroutine_handle<> h);

    void shutdown(bool drain, bool wait = true);
    bool is_shut_down() const noexcept { return !accepting_.load(std::memory_order_acquire); }

    // Introspection.
    task_counts counts() const noexcept;
    executor_snapshot snapshot(const snapshot_options& options) const;
    std::vector<worker_sample> sample_workers() const;
    std::optional<task_info> find_task(std::uint64_t id) const;
    std::vector<task_deadline> deadlines() const;
    /// Applies fn(record&, bool started) to the live (started: true) or
    /// queued (false) record with this id, holding a reference. False if none.
    template <class Fn>
    bool with_record(std::uint64_t id, Fn&& fn);

    int threads() const noexcept { return static_cast<int>(pools_[0].workers.size()); }
    int io_threads() const noexcept { return static_cast<int>(pools_[1].workers.size()); }
    executor& owner() noexcept { return owner_; }
    pool& pool_of(pool_kind kind) noexcept { return pools_[static_cast<int>(kind)]; }

    /// The calling thread's worker if it belongs to this scheduler.
    worker* current_worker() const noexcept {
        const auto& ctx = thread_context::get();
        return ctx.sched == this ? ctx.self : nullptr;
    }

private:
    friend class worker_loop;

    void worker_main(worker& w);
    /// An idle worker's short spin (then a few yields) for work; 0 if none came.
    job spin_for_work(worker& w);
    /// Own queue first, then steal (see try_steal()).
    job find_work(worker& w, bool look_at_slots = true);
    bool try_pop_own(worker& w, job& out);
    /// Takes the oldest job of another worker of w's pool. A victim's
    /// `next_job` is taken only once w has seen that same job sitting there,
    /// with nothing pushed into the slot meanwhile, for
    /// slot_steal_after_ns (or its owner sleeps): an owner that spawns a
    /// step and returns takes it back within nanoseconds, and stealing it
    /// would move a dependent chain between cores on every step. Slots are
    /// looked at only with `look_at_slots`.
    bool try_steal(worker& w, job& out, bool look_at_slots);
    /// `outermost`: called from worker_main(), with nothing else on this
    /// thread's stack (no outer task to save and restore).
    void run_job(worker& w, job j, bool outermost = false);
    /// What a run left to its caller besides the caller's own reference.
    enum class run_left : std::uint8_t {
        nothing,
        reference,         ///< rec finished: drop its finish reference too
        linked_reference,  ///< rec finished and is still linked: retire() it
    };
    /// Runs rec and publishes the outcome its body hands back (or finds the
    /// one it published itself, see publish_finish()).
    [[nodiscard]] run_left run_claimed(worker& w, record* rec, bool first_run, bool outermost = false);
    /// After a run: drops the caller's `held` references on rec plus what
    /// the run left, retiring rec if it stays linked.
    void drop_after_run(worker& w, record* rec, run_left left, std::uint32_t held) noexcept;
    /// publish_finish()'s steps, for a record finishing on `self` (nullptr:
    /// not a worker of ours), `own_task` if it is the task this thread runs.
    /// Returns whether rec stays in self's live list (see worker::retired).
    /// The finish reference is left to the caller.
    bool publish_outcome(record& rec, task_state terminal, worker* self, bool own_task) noexcept;
    /// Hands the caller's `refs` references on a finished rec, still in w's
    /// live list, to w.retired (moving out the one there before).
    void retire(worker& w, record* rec, std::uint32_t refs) noexcept;
    /// Moves w.retired (if any) to the history and drops its references.
    void flush_retired(worker& w) noexcept;
    /// Moves a retired rec (taken out of w.retired) to the history, then
    /// drops `refs` references (outside the lock: destructors may run).
    void drop_retired(worker& w, record& rec, std::uint32_t refs) noexcept;
    /// With w.registry.lock held: a finished rec from w's live list to its
    /// history.
    void to_history_locked(worker& w, record& rec) noexcept;
    /// Parks w until work arrives. A job in a peer's `next_job` slot is
    /// normally taken back by its owner within nanoseconds, but an owner
    /// running a long task leaves it there, so while slots are in use one
    /// idle worker of the pool watches them: it naps for slot_watch_nap at a
    /// time instead of parking, and looks again (try_steal() takes a job
    /// that stayed). Meanwhile pushes into slots wake nobody
    /// (wake_for_slot()), so a chain of tasks on one worker neither wakes
    /// the others at every step nor keeps one spinning beside it.
    /// `watching` says whether w is that worker; returns whether it still
    /// is.
    bool sleep_until_work(worker& w, bool watching);
    /// Whether peers of w use their slots: one holds a job, or one pushed
    /// into its slot since w last looked (updates w.watched_pushes).
    bool slots_in_use(worker& w) noexcept;
    void wake_one(pool& p);
    void wake_if_nobody_spins(pool& p);
    /// A wake-up for a job pushed into a slot: none while a worker spins or
    /// watches the slots.
    void wake_for_slot(pool& p);
    /// After an idle worker found work: wakes another for what is still
    /// queued (the locked queues, or slots nobody watches).
    void pass_on_wake(pool& p);
    void wake_all();
    bool help_once(worker& w);
    /// Runs rec on this worker now if nobody started it (same pool only).
    bool claim_inline(worker& w, record& rec);
    bool help_with_own_children(worker& w);
    std::uint64_t outstanding() const noexcept;
    void notify_idle_waiters();
    /// Wakes wait_all() callers if everything they wait for has finished.
    void check_idle_waiters() noexcept;
    registry_shard& shard(int index) noexcept {
        return index < 0 ? orphan_shard_ : all_workers_[static_cast<std::size_t>(index)]->registry;
    }
    /// With a reference added; `started` tells which list it came from.
    /// Finished records still in a live list (see worker::retired) count
    /// only with `include_finished`.
    record* find_live_record(std::uint64_t id, bool* started = nullptr, bool include_finished = false) const;
    void link_live(worker& w, record& rec) noexcept;
    /// Moves a finished record from the live list (if it started) to its
    /// shard's history.
    void unlink_live(record& rec, bool started, task_state terminal) noexcept;
    /// unlink_live()'s list step, with s.lock held.
    void unlink_locked(registry_shard& s, record& rec) noexcept;
    /// Calls the error hook for a failed task (cold path).
    [[gnu::cold, gnu::noinline]] void report_failure(record& rec) noexcept;

    executor& owner_;
    executor_config config_;
    pool pools_[2];
    std::vector<worker*> all_workers_;  // by global id
    registry_shard orphan_shard_;       // tasks finished without starting

    std::atomic<bool> accepting_{true};
    std::atomic<bool> stopping_{false};
    /// push_from_elsewhere() calls under way (~scheduler() waits for none).
    std::atomic<std::uint32_t> pushes_from_elsewhere_{0};
    std::once_flag join_once_;

    // Counters: one block per worker plus one shared by all other threads.
    // total = submitted; see counts() for how they add up.
    /// The caller's counter block (self: current_worker()).
    task_counters& counters_of(worker* self) noexcept { return self != nullptr ? self->counters : external_counters_; }
    std::uint64_t sum(task_counters::index i) const noexcept;
    std::uint64_t next_task_id(worker* self) noexcept {
        if (self != nullptr && self->next_id != self->id_limit) return self->next_id++;
        return next_task_id_slow(self);
    }
    std::uint64_t next_task_id_slow(worker* self) noexcept;
    task_counters external_counters_;
    /// Task ids: workers reserve blocks of ids so submitting does not
    /// contend on one counter; other threads take one id at a time.
    alignas(64) std::atomic<std::uint64_t> next_id_block_{1};

    // Live tasks with a timeout; deadlines() scans only when non-zero.
    std::atomic<std::uint32_t> timed_live_{0};

    // wait_all() sleepers.
    alignas(64) std::atomic<std::uint32_t> idle_waiters_{0};
    std::atomic<std::uint64_t> exempt_{0};  // tasks blocked inside wait_all()
    std::mutex idle_mutex_;
    std::vector<parker*> idle_parkers_;
};

template <class Fn>
bool scheduler::with_record(std::uint64_t id, Fn&& fn) {
    bool started = false;
    record* rec = find_live_record(id, &started);  // returns with a reference held
    if (rec == nullptr) return false;
    record_ref ref(rec);
    fn(*rec, started);
    return true;
}

}  // namespace dftracer::detail
