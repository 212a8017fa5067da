// The executor's engine: pools of workers, the task registry and the
// counters, and the task flow from submit to publication. Private to the
// library. Four named parts do the work that is subtle:
//  - worker_queue (worker_queue.hpp): each worker's queued jobs and the
//    steal rule;
//  - event_count (event_count.hpp): how a pool's workers sleep and wake;
//  - the run loop (run_loop.cpp): run_until(target, policy), the one loop
//    by which a worker runs jobs (its main loop and every helping wait) and
//    by which any thread waits;
//  - registry_shard (task_registry.hpp): where introspection finds started
//    and recently finished tasks, kept by each worker with a lock taken
//    once per batch of tasks rather than per task.
// A task is finished in one place: publish_outcome(), called by the worker
// with what the record's run() handed back, or by whoever cancels or fails
// it from outside (publish_finish()).
#pragma once

#include <unistd.h>

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
#include "dftracer/executor/detail/strand.hpp"
#include "dftracer/executor/introspection.hpp"
#include "dftracer/executor/types.hpp"
#include "event_count.hpp"
#include "submit_seat.hpp"
#include "system.hpp"
#include "task_counters.hpp"
#include "task_registry.hpp"
#include "thread_context.hpp"
#include "worker_queue.hpp"

namespace dftracer {
class executor;
}

namespace dftracer::detail {

/// Whether `kind` names one of the two pools (a pool_kind cast from an
/// arbitrary number may not).
inline bool is_pool(pool_kind kind) noexcept { return kind == pool_kind::compute || kind == pool_kind::io; }
inline constexpr const char* bad_pool_message = "pool must be pool_kind::compute or pool_kind::io";

/// What a queued job asks for, in its pointer's two low bits: start a task
/// (its record), resume a task's suspended main chain (its record), or run
/// a strand (strand.hpp).
enum class job_kind : job { start = 0, resume = 1, strand = 2 };
inline constexpr job job_kind_bits = 3;
static_assert(alignof(record) > job_kind_bits && alignof(strand) > job_kind_bits);
inline job start_job(record* rec) noexcept { return reinterpret_cast<job>(rec); }
inline job resume_job(record* root) noexcept {
    return reinterpret_cast<job>(root) | static_cast<job>(job_kind::resume);
}
inline job strand_job(strand* s) noexcept { return reinterpret_cast<job>(s) | static_cast<job>(job_kind::strand); }
inline job_kind kind_of(job j) noexcept { return static_cast<job_kind>(j & job_kind_bits); }
/// The record of a start or resume job.
inline record* job_record(job j) noexcept { return reinterpret_cast<record*>(j & ~job_kind_bits); }
inline strand* job_strand(job j) noexcept { return reinterpret_cast<strand*>(j & ~job_kind_bits); }

/// A time_point for a now_ticks() value; 0 ("not yet") stays the epoch.
inline clock::time_point from_ticks(std::int64_t ticks) noexcept {
    return ticks == 0 ? clock::time_point{} : clock::time_point(std::chrono::nanoseconds(ticks_to_ns(ticks)));
}
/// A record's current fields as a task_info value.
task_info info_of(const record& rec);

task_info info_of(const history_entry& entry);

class pool;

/// A worker's clock for task boundaries: one read between two tasks is the
/// finish time of the one and the start time of the next. The error this
/// allows is one dequeue (the time to find the next job after a finish).
/// A stamp is reusable only while no other code ran on the worker since
/// (invalidate() otherwise). Owner thread only.
class boundary_clock {
public:
    /// The time a task starts: the last finish stamp if still fresh, else now.
    std::int64_t start() noexcept {
        if (!fresh_) return now_ticks();
        fresh_ = false;
        return stamp_;
    }
    /// The time a task finishes (a fresh read), kept for the next start.
    std::int64_t finish() noexcept {
        stamp_ = now_ticks();
        return stamp_;
    }
    /// The last finish() may start the next task.
    void keep() noexcept { fresh_ = true; }
    /// Other code runs before the next task: the stamp is stale.
    void invalidate() noexcept { fresh_ = false; }

private:
    std::int64_t stamp_ = 0;
    bool fresh_ = false;
};

struct alignas(64) worker {
    int id = 0;
    int index = 0;  // within its pool
    pool* home = nullptr;

    worker_queue queue;

    // Lock-free introspection slots (written by this worker only).
    alignas(64) std::atomic<std::uint64_t> task_id{0};
    std::atomic<std::int64_t> since_ticks{0};
    std::atomic<std::uint64_t> waiting_for{0};
    /// serial() of the executor that owns the waited task (written before
    /// waiting_for, so a sampler that sees the id sees its owner).
    std::atomic<std::uint64_t> waiting_in{0};
    std::atomic<std::uint64_t> tasks_run{0};
    boundary_clock clock;
    /// As the pool's slot watcher: the sum of the peers' slot pushes at the
    /// last look. Owner thread only.
    std::uint64_t watched_pushes = 0;

    /// The tasks this worker started, for introspection (task_registry.hpp).
    registry_shard registry;
    /// Its counters, task ids and turn over the other pool's workers.
    submit_seat seat;
    std::thread thread;
    std::atomic<std::uint64_t> native_thread{0};
    std::atomic<std::int64_t> os_thread{0};  // kernel tid, for traces

    /// fn(record&) for every queued task not yet started (resume and strand
    /// jobs of running tasks left out), under the queue lock. May throw
    /// std::bad_alloc.
    template <class Fn>
    void for_each_queued(Fn&& fn) {
        queue.for_each_queued([&](job queued) {
            if (kind_of(queued) == job_kind::start) fn(*job_record(queued));
        });
    }
};

class pool {
public:
    pool_kind kind = pool_kind::compute;
    std::vector<std::unique_ptr<worker>> workers;
    /// Sleeping, spinning and slot watching of this pool's workers.
    event_count sleep;
    std::atomic<std::uint32_t> round_robin{0};

    /// Any job queued on a worker of this pool; with `include_slots` false,
    /// only the locked queues count (see worker_queue).
    bool has_queued_work(bool include_slots = true) const noexcept;
};

/// How run_until() runs and sleeps (see run_loop.cpp).
enum class wait_policy : std::uint8_t {
    /// A worker's main loop: runs any job; when idle spins, then sleeps as
    /// a pool sleeper (or watches the slots). Its target is shutdown.
    worker_main,
    /// A worker waiting inside a task: runs queued jobs meanwhile (any, up
    /// to a nesting depth; beyond it only its own recent children), sleeps
    /// as a pool sleeper (or, deep, unannounced).
    helping,
    /// A thread outside this executor's pools: watches the target briefly,
    /// then parks until woken.
    outside,
};

class scheduler {
public:
    /// Workers one executor may have, per pool: sizes above it are refused
    /// before anything is allocated.
    static constexpr int max_threads_per_pool = 4096;

    scheduler(executor& owner, const executor_config& config);
    ~scheduler();

    // Task flow.
    /// Assigns id and times, counts and queues a fresh record. The caller's
    /// reference stays the caller's unless `adopt_caller_ref` (then the
    /// executor takes it over: fire-and-forget).
    void submit(record* rec, submit_options&& options, bool adopt_caller_ref = false);
    /// submit() for n fresh records sharing `options`: one queue lock per
    /// target worker and one wake-up round for the whole batch.
    void submit_batch(record* const* recs, std::size_t n, const submit_options& options);
    void push(pool_kind kind, job j, bool to_back);
    /// push() for a thread that may belong to another executor and holds
    /// nothing that keeps this one alive (a task finishing there resumes a
    /// coroutine of this one): the job can run, and this executor be
    /// destroyed, before push() returns, so the destructor waits for such
    /// calls to leave.
    /// With `ends_suspension`, the job resumes a suspension counted by
    /// begin_suspension(), which ends once the job is queued
    /// (resume_after_wait() in strand.hpp).
    void push_from_elsewhere(pool_kind kind, job j, bool ends_suspension = false);
    /// A coroutine of this executor suspends until a task (of any executor)
    /// finishes. Until the suspension ends (resume_after_wait(), or
    /// end_suspension() if it did not suspend after all) the workers stay:
    /// a task that fails or times out stops counting as outstanding while
    /// still suspended, and the task it awaits may finish after shutdown
    /// and requeue it then. Called on the coroutine's worker.
    void begin_suspension() noexcept { suspended_.fetch_add(1, std::memory_order_relaxed); }
    void end_suspension() noexcept;
    /// Shutdown began and nothing is left that could run here: no task
    /// outstanding, no coroutine suspended.
    bool exit_ready() const noexcept {
        return stopping_.load(std::memory_order_seq_cst) && outstanding() == 0 &&
               suspended_.load(std::memory_order_seq_cst) == 0;
    }
    /// Finishes rec from outside its run (cancel, fail_task, a binding's
    /// deferred resolve): the winner of begin_finish()/begin_cancel() calls
    /// it once.
    void publish_finish(record& rec, task_state terminal) noexcept;
    bool cancel(record& rec) noexcept;

    // Waiting (run_loop.cpp).
    /// Blocks until rec (of any executor) is terminal or the deadline
    /// passes. On a worker of this scheduler it helps its own pool.
    bool wait(record& rec, const clock::time_point* deadline);
    /// As wait(), for the tasks of a group.
    bool wait_group(group_state& group, const clock::time_point* deadline);
    bool await(record& rec, coroutine_place place, std::coroutine_handle<> continuation);
    bool wait_all(const clock::time_point* deadline);
    bool reschedule(coroutine_place place, std::coroutine_handle<> h, pool_kind kind, bool always_hop);
    bool yield_now(coroutine_place place, std::coroutine_handle<> h);
    /// Queues a fork's strands (strand.hpp: queue_strands()).
    void queue_strands(record* root, strand* const* strands, std::size_t n);
    /// Takes s back out of the calling worker's queue (strand.hpp: take_back()).
    bool take_back(strand& s) noexcept {
        worker* w = current_worker();
        return w != nullptr && w->queue.take_if_newest(strand_job(&s));
    }

    void shutdown(bool drain, bool wait = true);
    /// True in a child process forked after this executor was made: the
    /// child has none of its threads, so nothing queued can run there and
    /// there is nobody to join. shutdown() then only stops intake, and the
    /// executor's destructor leaves everything as it is (a lock a worker held
    /// at the fork stays held in the child).
    bool in_forked_child() const noexcept { return static_cast<int>(::getpid()) != creator_pid_; }
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
    /// Process-unique, never reused: names this executor to samplers that
    /// follow waits across executors.
    std::uint64_t serial() const noexcept { return serial_; }
    /// Gives back a seat an outside thread took here (at its exit).
    void give_back_seat(submit_seat* seat) noexcept { outside_seats_.give_back(seat); }
    pool& pool_of(pool_kind kind) noexcept { return pools_[static_cast<int>(kind)]; }

    /// The calling thread's worker if it belongs to this scheduler.
    worker* current_worker() const noexcept {
        const auto& ctx = thread_context::get();
        return ctx.sched == this ? ctx.self : nullptr;
    }

private:
    void worker_main(worker& w);

    // ---- the run loop (run_loop.cpp)
    /// Runs jobs (by `policy`) until target.done() or the deadline passes;
    /// true if the target was reached. `w`: the calling worker, or null
    /// with the `outside` policy.
    template <class Target>
    bool run_until(Target& target, wait_policy policy, worker* w, const clock::time_point* deadline);
    /// w's own next job, else a stolen one; 0 if none.
    job find_work(worker& w, bool look_at_slots);
    /// An idle worker's short spin (then a few yields) for work; 0 if none came.
    job spin_for_work(worker& w);
    /// The main loop's sleep: parks w until work arrives (or, as the slot
    /// watcher, naps). `watching` says whether w is the pool's slot
    /// watcher; returns whether it still is.
    bool idle_sleep(worker& w, bool watching);
    /// Whether peers of w use their slots: one holds a job, or one pushed
    /// into its slot since w last looked (updates w.watched_pushes).
    bool slots_in_use(worker& w) noexcept;
    /// What a worker does each time it runs out of jobs.
    void on_idle(worker& w) noexcept;
    /// Takes the oldest job of another worker of w's pool (worker_queue's
    /// steal rule). Slots are looked at only with `look_at_slots`.
    bool try_steal(worker& w, job& out, bool look_at_slots);
    /// Runs rec on this worker now if nobody started it (same pool only).
    bool claim_inline(worker& w, record& rec);
    /// Runs a task of w's pool that a worker elsewhere is blocked on
    /// (awaited_board.hpp). True if it found one (someone may have claimed
    /// it first).
    bool run_listed(worker& w);
    /// Parks a waiting worker nested too deep to run unrelated work, until
    /// woken by what it waits for or, with `takes_listed`, by a task of its
    /// pool listed on the awaited board.
    void park_deep(worker& w, bool takes_listed, const clock::time_point* deadline);

    // ---- queues and wake-ups
    /// Queues j; returns whether it went into the caller's own-job slot.
    /// May throw std::bad_alloc.
    bool enqueue(pool& p, job j, bool to_back, worker* self, submit_seat& seat);
    /// The wake-up after enqueue() (allocates nothing).
    void announce(pool& p, bool into_slot) noexcept;
    /// After an idle worker found work: wakes another for what is still
    /// queued (the locked queues, or slots nobody watches).
    void pass_on_wake(pool& p) noexcept;
    void wake_all() noexcept;

    // ---- running and finishing one task
    /// `outermost`: called from the main loop, with nothing else on this
    /// thread's stack (no outer task to save and restore).
    void run_job(worker& w, job j, bool outermost = false);
    /// Runs rec and publishes the outcome its body hands back. Returns what
    /// the run left besides the caller's own reference.
    enum class run_left : std::uint8_t {
        nothing,
        reference,         ///< rec finished: drop its finish reference too
        linked_reference,  ///< rec finished and stays in this worker's shard: batch it
    };
    [[nodiscard]] run_left run_claimed(worker& w, record* rec, bool first_run, bool outermost = false);
    /// Runs a strand until it suspends or its child finishes. Touches
    /// neither the strand nor its root record once it has resumed it.
    void run_strand(worker& w, strand& s, bool outermost);
    /// After a run: hands the caller's `held` references on rec plus what
    /// the run left to w's registry shard (a first run leaves its running
    /// stack; a finished task is batched there), or drops them.
    void drop_after_run(worker& w, record* rec, run_left left, std::uint32_t held, bool first_run) noexcept;
    /// The one place a task is finished: stamps, state, waiters, group,
    /// registry, counters. `self`: the worker it finishes on (null: not
    /// one of ours); `own_task`: its run() handed the outcome back. Returns
    /// whether rec stays in self's registry shard, for drop_after_run() to
    /// batch. The finish reference is left to the caller.
    bool publish_outcome(record& rec, task_state terminal, worker* self, bool own_task) noexcept;
    std::uint64_t outstanding() const noexcept;
    void notify_idle_waiters();
    /// Wakes wait_all() callers if everything they wait for has finished.
    void check_idle_waiters() noexcept;
    /// fn(registry_shard&) for every worker's shard, then the orphan shard.
    template <class Fn>
    void for_each_shard(Fn&& fn) const {
        for (worker* w : all_workers_) fn(w->registry);
        fn(const_cast<registry_shard&>(orphan_shard_));
    }
    registry_shard& shard(int index) noexcept {
        return index < 0 ? orphan_shard_ : all_workers_[static_cast<std::size_t>(index)]->registry;
    }
    /// With a reference added; `started` tells which list it came from.
    /// Finished records not yet in a history (task_registry.hpp) count only
    /// with `include_finished`.
    record* find_live_record(std::uint64_t id, bool* started = nullptr, bool include_finished = false) const;
    /// Stamps rec's start and puts it on w's running stack (first run).
    void link_live(worker& w, record& rec) noexcept;
    /// Records a task finished other than by its first worker's run: in
    /// the orphan shard if it never started, else through its shard.
    void unlink_live(record& rec, bool started, task_state terminal) noexcept;
    /// Calls the error hook for a failed task (cold path).
    [[gnu::cold, gnu::noinline]] void report_failure(record& rec) noexcept;
    /// submit()'s bookkeeping before a record is queued (id, times, counts).
    void prepare(record* rec, submit_seat& seat, std::uint32_t executor_refs) noexcept;

    executor& owner_;
    const std::uint64_t serial_;
    executor_config config_;
    pool pools_[2];
    std::vector<worker*> all_workers_;  // by global id
    registry_shard orphan_shard_;       // tasks finished without starting

    std::atomic<bool> accepting_{true};
    std::atomic<bool> stopping_{false};
    /// push_from_elsewhere() calls under way (~scheduler() waits for none).
    std::atomic<std::uint32_t> pushes_from_elsewhere_{0};
    /// Suspensions begun and not ended (begin_suspension()).
    std::atomic<std::uint64_t> suspended_{0};
    std::once_flag join_once_;
    /// The process that made the workers (see in_forked_child()).
    const int creator_pid_ = static_cast<int>(::getpid());

    // Submit seats (submit_seat.hpp): each worker's, the outside threads'
    // and one shared by threads that found no free seat. Counters are
    // summed over all of them: total = submitted; see counts().
    /// The seat of a worker (self: current_worker()), else the shared one.
    submit_seat& seat_of(worker* self) noexcept { return self != nullptr ? self->seat : shared_seat_; }
    /// The calling thread's seat: its worker's, the one it holds here (taken
    /// on its first submit), or the shared one when none is free.
    submit_seat& submitting_seat(worker* self) noexcept {
        if (self != nullptr) return self->seat;
        const auto& ctx = thread_context::get();
        if (ctx.seat_serial == serial_) return *ctx.seat;
        return first_outside_seat();
    }
    /// submitting_seat() off the pools when the thread's cached seat is
    /// another executor's (outside_seat.cpp).
    submit_seat& first_outside_seat() noexcept;
    submit_seat* take_outside_seat() noexcept;
    task_counters& counters_of(worker* self) noexcept { return seat_of(self).counters; }
    std::uint64_t sum(task_counters::index i) const noexcept;
    std::uint64_t next_task_id(submit_seat& seat) noexcept {
        if (seat.next_id != seat.id_limit) return seat.next_id++;
        return next_task_id_slow(seat);
    }
    std::uint64_t next_task_id_slow(submit_seat& seat) noexcept;
    /// The worker of `p` whose inbox takes the seat's next `jobs` pushes.
    worker& next_peer(pool& p, submit_seat& seat, std::uint32_t jobs = 1) noexcept;
    submit_seat shared_seat_;
    outside_seats outside_seats_;
    /// Task ids: seats reserve blocks of ids so submitting does not contend
    /// on one counter; the shared seat takes one id at a time.
    alignas(64) std::atomic<std::uint64_t> next_id_block_{1};

    // Live tasks with a timeout; deadlines() scans only when non-zero.
    std::atomic<std::uint32_t> timed_live_{0};
    /// A task that ran at least this long (20 us, in clock ticks) has its
    /// worker's finished batch recorded at once (drop_after_run()).
    std::int64_t long_task_ticks_ = 0;

    // wait_all() sleepers.
    alignas(64) std::atomic<std::uint32_t> idle_waiters_{0};
    std::atomic<std::uint64_t> exempt_{0};  // tasks blocked inside wait_all()
    std::mutex idle_mutex_;
    std::vector<wake_ref> idle_wakers_;
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
