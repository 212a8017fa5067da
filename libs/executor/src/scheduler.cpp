// Task flow: submit, queues, workers, finishing, shutdown.
#include "scheduler.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <string>

#include "dftracer/executor/executor.hpp"
#include "thread_context.hpp"

// Steps of the per-task path, each called from a few places in this file:
// inlined into their callers (the compiler would keep them as calls).
#define DFTRACER_INLINE_STEP [[gnu::always_inline]] inline

namespace dftracer::detail {

DFTRACER_INLINE_STEP void history_ring::push(const record& rec, task_state terminal) {
    if (slots_.empty()) return;
    slots_[next_].assign(rec, terminal);
    if (++next_ == slots_.size()) next_ = 0;
    if (count_ < slots_.size()) ++count_;
}

bool pool::has_queued_work(bool include_slots) const noexcept {
    for (const auto& w : workers) {
        if (include_slots ? w->queued() != 0 : w->depth.load(std::memory_order_relaxed) != 0) return true;
    }
    return false;
}

scheduler::scheduler(executor& owner, const executor_config& config) : owner_(owner), config_(config) {
    if (config.threads < 0) throw std::invalid_argument("threads must be >= 0, got " + std::to_string(config.threads));
    if (config.io_threads < 0)
        throw std::invalid_argument("io_threads must be >= 0, got " + std::to_string(config.io_threads));
    if (config.history_size < 0)
        throw std::invalid_argument("history_size must be >= 0, got " + std::to_string(config.history_size));
    calibrate_clock();
    const int compute = config.threads > 0 ? config.threads : available_cpus();
    const int io = config.io_threads > 0 ? config.io_threads : default_io_threads(compute);

    pools_[0].kind = pool_kind::compute;
    pools_[1].kind = pool_kind::io;
    int next_id = 0;
    for (int p = 0; p < 2; ++p) {
        const int count = p == 0 ? compute : io;
        for (int i = 0; i < count; ++i) {
            auto w = std::make_unique<worker>();
            w->counters.single_writer = true;
            w->id = next_id++;
            w->index = i;
            w->home = &pools_[p];
            w->sightings.resize(static_cast<std::size_t>(count));
            all_workers_.push_back(w.get());
            pools_[p].workers.push_back(std::move(w));
        }
    }
    const std::size_t shards = all_workers_.size() + 1;
    const std::size_t per_shard = (static_cast<std::size_t>(config.history_size) + shards - 1) / shards;
    for (worker* w : all_workers_) w->registry.history.resize(per_shard);
    orphan_shard_.history.resize(per_shard);

    try {
        for (worker* w : all_workers_) {
            w->thread = std::thread([this, w] { worker_main(*w); });
        }
    } catch (...) {
        shutdown(false);
        throw;
    }
}

scheduler::~scheduler() {
    if (current_worker() != nullptr) {
        // Destroying the executor from its own worker cannot join that worker.
        std::fprintf(stderr, "dftracer: executor destroyed from its own worker; aborting\n");
        std::abort();
    }
    shutdown(true);
    while (pushes_from_elsewhere_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

// ---------------------------------------------------------------- submit/push

DFTRACER_INLINE_STEP void scheduler::push(pool_kind kind, job j, bool to_back, worker* self) {
    bool into_slot = false;
    pool& p = enqueue(kind, j, to_back, self, into_slot);
    announce(p, into_slot);
}

DFTRACER_INLINE_STEP pool& scheduler::enqueue(pool_kind kind, job j, bool to_back, worker* self, bool& into_slot) {
    pool& p = pool_of(kind);
    into_slot = false;
    if (self != nullptr && self->home == &p && !to_back) {
        // Only this thread makes the slot non-zero: seen empty, it stays
        // empty until the store.
        self->next_job_pushes.store(self->next_job_pushes.load(std::memory_order_relaxed) + 1,
                                    std::memory_order_relaxed);
        job older = self->next_job.load(std::memory_order_relaxed);
        if (older == 0) {
            self->next_job.store(j, std::memory_order_release);
            into_slot = true;
        } else {
            std::lock_guard<spin_lock> guard(self->queue_lock);
            self->local.reserve_one();
            older = self->next_job.exchange(j, std::memory_order_acq_rel);
            if (older != 0) {
                self->local.push_back(older);
                self->update_depth();
            }
        }
    } else if (self != nullptr && self->home == &p) {
        std::lock_guard<spin_lock> guard(self->queue_lock);
        self->inbox.push_back(j);
        self->update_depth();
    } else {
        auto index = p.round_robin.fetch_add(1, std::memory_order_relaxed) % p.workers.size();
        worker& target = *p.workers[index];
        std::lock_guard<spin_lock> guard(target.queue_lock);
        target.inbox.push_back(j);
        target.update_depth();
    }
    return p;
}

DFTRACER_INLINE_STEP void scheduler::announce(pool& p, bool into_slot) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (into_slot) {
        wake_for_slot(p);
    } else {
        wake_if_nobody_spins(p);
    }
}

void scheduler::submit(record* rec, submit_options&& options) {
    if (!accepting_.load(std::memory_order_acquire)) throw executor_shut_down();
    if (options.timeout.count() < 0) throw std::invalid_argument("timeout must be >= 0");
    rec->owner = this;
    if (!options.name.empty()) rec->name = std::move(options.name);  // most tasks have none
    rec->pool = options.pool;
    rec->timeout_ns = options.timeout.count();
    worker* self = current_worker();
    rec->id = next_task_id(self);
    counters_of(self).bump(task_counters::submitted);
    rec->queued_ticks.store(now_ticks(), std::memory_order_relaxed);
    // The executor's references: the queue entry's (dropped by whoever pops
    // it) and the finish reference (dropped by publish_finish(), which also
    // covers the live list between start and finish). The caller's own keeps
    // the record alive through this call.
    rec->add_refs_unpublished(2);
    pool* target = nullptr;
    bool into_slot = false;
    try {
        target = &enqueue(options.pool, reinterpret_cast<job>(rec), false, self, into_slot);
    } catch (...) {
        // Out of memory growing a queue: the task was counted but never
        // queued. Fail it, so the counts still add up and wait_all() does
        // not wait for it, and drop the queue's reference; then tell the
        // caller.
        if (rec->begin_cancel()) rec->finish_with(std::current_exception());
        rec->release();
        throw;
    }
    announce(*target, into_slot);
    // push() fenced; a shutdown that started meanwhile may have missed this
    // job. Cancelling it keeps the "no work lost" promise: either a worker
    // runs it or its handle says cancelled.
    if (!accepting_.load(std::memory_order_seq_cst) && cancel(*rec)) {
        throw executor_shut_down();
    }
}

void scheduler::push(pool_kind kind, job j, bool to_back) { push(kind, j, to_back, current_worker()); }

void scheduler::push_from_elsewhere(pool_kind kind, job j) {
    worker* self = current_worker();
    if (self != nullptr) {  // one of ours: the destructor joins it first
        push(kind, j, false, self);
        return;
    }
    // Counted before the job is queued, so whoever sees it run (and may then
    // destroy this scheduler) also sees the count.
    pushes_from_elsewhere_.fetch_add(1, std::memory_order_relaxed);
    push(kind, j, false, nullptr);
    pushes_from_elsewhere_.fetch_sub(1, std::memory_order_release);
}

void scheduler::wake_if_nobody_spins(pool& p) {
    // Dekker with the idle path: a spinner decrements `spinning` before it
    // announces itself as a sleeper and re-checks the queues, so either we see
    // it spinning and it will see our job, or we see it asleep and wake one.
    if (p.sleepers.load(std::memory_order_acquire) != 0 && p.spinning.load(std::memory_order_acquire) == 0) {
        wake_one(p);
    }
}

DFTRACER_INLINE_STEP void scheduler::wake_for_slot(pool& p) {
    // Dekker with sleep_until_work(), as for `spinning`: a watcher that stops
    // watching clears `watching` before it looks at the slots once more.
    if (p.sleepers.load(std::memory_order_acquire) != 0 && p.spinning.load(std::memory_order_acquire) == 0 &&
        p.watching.load(std::memory_order_acquire) == 0) {
        wake_one(p);
    }
}

void scheduler::pass_on_wake(pool& p) {
    if (p.has_queued_work(false)) {
        wake_if_nobody_spins(p);
    } else if (p.has_queued_work()) {
        wake_for_slot(p);
    }
}

void scheduler::wake_one(pool& p) {
    const std::size_t n = p.workers.size();
    const std::size_t start = p.round_robin.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) {
        worker& w = *p.workers[(start + i) % n];
        if (w.sleeping.exchange(false, std::memory_order_acq_rel)) {
            p.sleepers.fetch_sub(1, std::memory_order_relaxed);
            w.park.unpark();
            return;
        }
    }
}

void scheduler::wake_all() {
    for (worker* w : all_workers_) {
        if (w->sleeping.exchange(false, std::memory_order_acq_rel)) {
            w->home->sleepers.fetch_sub(1, std::memory_order_relaxed);
        }
        w->park.unpark();
    }
}

// --------------------------------------------------------------- worker loop

namespace {

/// Starts pulling the record of the job likely to run next into this core's
/// cache while the current one runs: records written by a submitter on
/// another core would otherwise cost a miss per cache line when claimed.
void prefetch_record(job j) noexcept {
#if defined(__GNUC__)
    const char* rec = reinterpret_cast<const char*>(job_record(j));
    __builtin_prefetch(rec, 1);
    __builtin_prefetch(rec + 64, 1);
    __builtin_prefetch(rec + 128, 1);
#else
    (void)j;
#endif
}

}  // namespace

DFTRACER_INLINE_STEP bool scheduler::try_pop_own(worker& w, job& out) {
    if (w.next_job.load(std::memory_order_relaxed) != 0) {
        out = w.next_job.exchange(0, std::memory_order_acquire);
        if (out != 0) return true;  // else a thief took it
    }
    if (w.depth.load(std::memory_order_relaxed) == 0) return false;
    std::lock_guard<spin_lock> guard(w.queue_lock);
    if (!w.local.empty()) {
        out = w.local.pop_back();
        if (!w.local.empty()) prefetch_record(w.local.back());
    } else if (!w.inbox.empty()) {
        out = w.inbox.pop_front();
        if (!w.inbox.empty()) prefetch_record(w.inbox.front());
    } else {
        return false;
    }
    w.update_depth();
    return true;
}

bool scheduler::try_steal(worker& w, job& out, bool look_at_slots) {
    // Longer than a short task takes to spawn its successor and return,
    // short enough that a long task's spawned work is not left waiting.
    constexpr std::int64_t slot_steal_after_ns = 2000;
    auto& workers = w.home->workers;
    const std::size_t n = workers.size();
    for (std::size_t i = 1; i < n; ++i) {
        worker& victim = *workers[(static_cast<std::size_t>(w.index) + i) % n];
        // Oldest first: the locked queues, then the owner's newest job.
        if (victim.depth.load(std::memory_order_relaxed) != 0) {
            std::lock_guard<spin_lock> guard(victim.queue_lock);
            if (!victim.inbox.empty() || !victim.local.empty()) {
                out = !victim.inbox.empty() ? victim.inbox.pop_front() : victim.local.pop_front();
                victim.update_depth();
                return true;
            }
        }
        if (!look_at_slots) continue;
        job newest = victim.next_job.load(std::memory_order_relaxed);
        worker::sighting& seen = w.sightings[victim.index];
        if (newest == 0) {
            seen.seen = 0;
            continue;
        }
        if (!victim.sleeping.load(std::memory_order_relaxed)) {  // a sleeping owner will not take it soon
            // The same job means the same address with nothing pushed into
            // the slot since: a chain's records reuse a few addresses.
            const std::int64_t now = fast_now_ns();
            const std::uint32_t pushes = victim.next_job_pushes.load(std::memory_order_relaxed);
            if (newest != seen.seen || pushes != seen.pushes) {
                seen = {newest, pushes, now};
                continue;
            }
            if (now - seen.first_seen_ns < slot_steal_after_ns) continue;
        }
        if (victim.next_job.compare_exchange_strong(newest, 0, std::memory_order_acquire)) {
            seen.seen = 0;
            out = newest;
            return true;
        }
    }
    return false;
}

job scheduler::find_work(worker& w, bool look_at_slots) {
    job j = 0;
    if (try_pop_own(w, j) || try_steal(w, j, look_at_slots)) return j;
    return 0;
}

namespace {

/// Now, for a task starting or resuming on w: the finish time of the task w
/// ran just before, if nothing ran on w since (saves a clock read per task;
/// see publish_finish() and run_claimed() for what keeps it fresh).
std::int64_t start_time(worker& w) noexcept {
    if (!w.boundary_fresh) return now_ticks();
    w.boundary_fresh = false;
    return w.last_finish_ticks;
}

}  // namespace

DFTRACER_INLINE_STEP void scheduler::link_live(worker& w, record& rec) noexcept {
    rec.worker.store(w.id, std::memory_order_relaxed);
    rec.started_ticks.store(start_time(w), std::memory_order_relaxed);
    if (rec.timeout_ns > 0) timed_live_.fetch_add(1, std::memory_order_relaxed);
    record* retired = std::exchange(w.retired, nullptr);
    {
        // The list uses the finish reference: a linked record is never freed.
        std::lock_guard<spin_lock> guard(w.registry.lock);
        if (retired != nullptr) to_history_locked(w, *retired);
        rec.live_shard = w.id;
        rec.live_prev = nullptr;
        rec.live_next = w.registry.live_head;
        if (rec.live_next) rec.live_next->live_prev = &rec;
        w.registry.live_head = &rec;
    }
    if (retired != nullptr) retired->release(w.retired_refs);
}

DFTRACER_INLINE_STEP void scheduler::retire(worker& w, record* rec, std::uint32_t refs) noexcept {
    // A nested task's, retired before this one, goes now. Swapped in first:
    // releasing it may run destructors that retire tasks here again.
    record* older = std::exchange(w.retired, rec);
    const std::uint32_t older_refs = std::exchange(w.retired_refs, refs);
    if (older != nullptr) drop_retired(w, *older, older_refs);
}

void scheduler::flush_retired(worker& w) noexcept {
    record* retired = std::exchange(w.retired, nullptr);
    if (retired != nullptr) drop_retired(w, *retired, w.retired_refs);
}

void scheduler::drop_retired(worker& w, record& rec, std::uint32_t refs) noexcept {
    {
        std::lock_guard<spin_lock> guard(w.registry.lock);
        to_history_locked(w, rec);
    }
    rec.release(refs);
}

DFTRACER_INLINE_STEP void scheduler::to_history_locked(worker& w, record& rec) noexcept {
    unlink_locked(w.registry, rec);
    w.registry.history.push(rec, rec.state());
}

DFTRACER_INLINE_STEP scheduler::run_left scheduler::run_claimed(worker& w, record* rec, bool first_run,
                                                                bool outermost) {
    if (first_run) {
        link_live(w, *rec);
        w.counters.bump(task_counters::started);
    }
    auto& ctx = thread_context::get();
    // The outer task's slots, put back afterwards. The outermost run has
    // none: the worker shows idle (task 0) and nothing was left to drop.
    assert(!outermost ||
           (ctx.depth == 0 && ctx.current == nullptr && ctx.finish_ref_left == nullptr && !ctx.left_linked &&
            w.task_id.load(std::memory_order_relaxed) == 0 && w.since_ticks.load(std::memory_order_relaxed) == 0));
    const auto outer_task = outermost ? 0 : w.task_id.load(std::memory_order_relaxed);
    const auto outer_since = outermost ? 0 : w.since_ticks.load(std::memory_order_relaxed);
    record* outer_record = outermost ? nullptr : ctx.current;
    w.since_ticks.store(first_run ? rec->started_ticks.load(std::memory_order_relaxed) : start_time(w),
                        std::memory_order_relaxed);
    w.task_id.store(rec->id, std::memory_order_release);
    ctx.current = rec;
    record* outer_left = outermost ? nullptr : std::exchange(ctx.finish_ref_left, nullptr);
    const bool outer_linked = outermost ? false : ctx.left_linked;
    ++ctx.depth;
    const pending_finish pending = rec->run();
    run_left left = run_left::nothing;
    if (pending != pending_finish::none) {
        // The body's outcome, published here rather than from inside run().
        left = publish_outcome(*rec, terminal_of(pending), &w, true) ? run_left::linked_reference : run_left::reference;
    } else if (ctx.finish_ref_left == rec) {
        left = ctx.left_linked ? run_left::linked_reference : run_left::reference;
    }
    --ctx.depth;
    ctx.finish_ref_left = outer_left;
    ctx.left_linked = outer_linked;
    // Back inside an outer task: its code runs before anything else starts
    // here, so this finish time is no start time for the next task.
    if (!outermost && ctx.depth != 0) w.boundary_fresh = false;
    ctx.current = outer_record;
    w.task_id.store(outer_task, std::memory_order_release);
    w.since_ticks.store(outer_since, std::memory_order_relaxed);
    w.tasks_run.store(w.tasks_run.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return left;
}

DFTRACER_INLINE_STEP void scheduler::run_job(worker& w, job j, bool outermost) {
    record* rec = job_record(j);
    run_left left = run_left::nothing;
    if (job_is_resume(j)) {
        left = run_claimed(w, rec, false, outermost);
    } else if (rec->try_claim()) {
        left = run_claimed(w, rec, true, outermost);
    } else if (w.queued() == 0) {
        check_idle_waiters();  // a stale entry may have hidden the last finish
    }
    drop_after_run(w, rec, left, 1);  // the queue's reference, plus what the run left
}

DFTRACER_INLINE_STEP void scheduler::drop_after_run(worker& w, record* rec, run_left left,
                                                    std::uint32_t held) noexcept {
    // A finished run left the finish reference too.
    if (left == run_left::linked_reference) {
        retire(w, rec, held + 1);
    } else if (left == run_left::reference) {
        rec->release(held + 1);
    } else if (held != 0) {
        rec->release(held);
    }
}

bool scheduler::claim_inline(worker& w, record& rec) {
    if (rec.pool != w.home->kind) return false;
    // Usually the awaited task is the newest entry of this worker's queue:
    // take the entry out too, so finished records do not pile up behind it.
    const job entry = reinterpret_cast<job>(&rec);
    bool popped = false;
    job newest = w.next_job.load(std::memory_order_relaxed);
    if (newest == entry) {
        popped = w.next_job.compare_exchange_strong(newest, 0, std::memory_order_acquire);
    } else if (w.depth.load(std::memory_order_relaxed) != 0) {
        std::lock_guard<spin_lock> guard(w.queue_lock);
        if (!w.local.empty() && w.local.back() == entry) {
            w.local.pop_back();
            w.update_depth();
            popped = true;
        }
    }
    if (!rec.try_claim()) {
        if (popped) rec.release();  // the queue's: the entry was stale
        return false;
    }
    drop_after_run(w, &rec, run_claimed(w, &rec, true), popped ? 1 : 0);  // the queue's, if popped
    return true;
}

bool scheduler::help_once(worker& w) {
    job j = find_work(w);
    if (j == 0) {
        w.boundary_fresh = false;
        flush_retired(w);
        if (config_.on_worker_idle) config_.on_worker_idle();
        return false;
    }
    run_job(w, j);
    return true;
}

bool scheduler::help_with_own_children(worker& w) {
    job j = w.next_job.exchange(0, std::memory_order_acquire);
    if (j == 0) {
        std::lock_guard<spin_lock> guard(w.queue_lock);
        if (!w.local.empty()) {
            j = w.local.pop_back();
            w.update_depth();
        }
    }
    if (j == 0) {
        flush_retired(w);  // outside the queue lock: it may run destructors
        return false;
    }
    run_job(w, j);
    return true;
}

bool scheduler::slots_in_use(worker& w) noexcept {
    std::uint64_t pushes = 0;
    bool holding = false;
    for (const auto& peer : w.home->workers) {
        if (peer.get() == &w) continue;
        pushes += peer->next_job_pushes.load(std::memory_order_relaxed);
        holding = holding || peer->next_job.load(std::memory_order_relaxed) != 0;
    }
    const bool pushed = std::exchange(w.watched_pushes, pushes) != pushes;
    return holding || pushed;
}

bool scheduler::sleep_until_work(worker& w, bool watching) {
    // Long enough that a watcher costs its core and the owners it watches
    // little; short enough that a job left in a slot by an owner running a
    // long task waits at most about two naps.
    constexpr auto slot_watch_nap = std::chrono::microseconds(50);
    pool& p = *w.home;
    w.sleeping.store(true, std::memory_order_relaxed);
    p.sleepers.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const bool exit_ready = stopping_.load(std::memory_order_acquire) && outstanding() == 0;
    if (!p.has_queued_work(false) && !exit_ready) {
        const bool in_use = slots_in_use(w);
        if (watching && !in_use) {
            // Stop watching, then look once more (Dekker with wake_for_slot()).
            p.watching.store(0, std::memory_order_seq_cst);
            std::atomic_thread_fence(std::memory_order_seq_cst);
            watching = false;
        }
        if (!watching && (in_use || p.has_queued_work())) {
            std::uint32_t none = 0;
            watching = p.watching.compare_exchange_strong(none, 1, std::memory_order_seq_cst);
        }
        if (watching) {
            w.park.park_until(clock::now() + slot_watch_nap);
        } else {
            // Idle for a second: give back what a burst of tasks left in the
            // block pool (not sooner: back-to-back bursts reuse it).
            constexpr auto trim_after = std::chrono::seconds(1);
            if (!w.park.park_until(clock::now() + trim_after)) {
                pool_trim();
                w.park.park();
            }
        }
    }
    if (w.sleeping.exchange(false, std::memory_order_acq_rel)) {
        p.sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
    return watching;
}

job scheduler::spin_for_work(worker& w) {
    // Going to sleep and being woken costs microseconds, so an idle worker
    // first spins briefly, then yields, watching the queue depths only.
    constexpr int spin_rounds = 2048;
    constexpr int yield_rounds = 16;
    constexpr int max_poll_gap = 64;  // rounds of ~25 ns (x86 pause) between polls
    // A peer running a chain of tasks rewrites its `next_job` slot every
    // step, so each look at it costs that peer a cache miss: the slots are
    // looked at on every slot_poll_every-th poll only (the queue depths,
    // which such a peer leaves alone, on every poll).
    constexpr int slot_poll_every = 16;
    pool& p = *w.home;
    job j = 0;
    p.spinning.fetch_add(1, std::memory_order_seq_cst);
    // Each poll pulls the owners' queue-depth lines to this core, which
    // costs the owners a cache miss on their next push or pop: poll at
    // doubling gaps, so work arriving right away is seen within a few
    // rounds and a long spin disturbs the busy workers little. A yield
    // takes long enough to poll after each one.
    int poll_gap = 1;
    int next_poll = 0;
    int polls = 0;
    for (int i = 0; j == 0 && i < spin_rounds + yield_rounds; ++i) {
        if (i < spin_rounds) {
            cpu_relax();
            if (i < next_poll) continue;
            poll_gap = std::min(poll_gap * 2, max_poll_gap);
            next_poll = i + poll_gap;
        } else {
            std::this_thread::yield();
        }
        const bool slots = ++polls % slot_poll_every == 0;
        if (p.has_queued_work(slots)) j = find_work(w, slots);
    }
    p.spinning.fetch_sub(1, std::memory_order_seq_cst);
    return j;
}

void scheduler::worker_main(worker& w) {
    auto& ctx = thread_context::get();
    ctx.sched = this;
    ctx.self = &w;
    w.native_thread.store(current_native_thread(), std::memory_order_relaxed);
    name_current_thread(config_.thread_name_prefix + (w.home->kind == pool_kind::io ? "-io" : "-c") +
                        std::to_string(w.index));
    pool& p = *w.home;
    bool watching = false;  // this worker is its pool's slot watcher (sleep_until_work())
    auto stop_watching = [&] {
        if (watching) p.watching.store(0, std::memory_order_seq_cst);
        watching = false;
    };
    for (;;) {
        job j = 0;
        if (!try_pop_own(w, j)) j = find_work(w);  // the own pop inlined: most jobs come from there
        if (j == 0) {
            flush_retired(w);
            check_idle_waiters();
            if (config_.on_worker_idle) config_.on_worker_idle();
            w.boundary_fresh = false;
            // The slot watcher naps between looks instead of spinning.
            if (!watching) j = spin_for_work(w);
            if (j != 0) {
                // Found work while others may sleep: hand the search on, so
                // a burst of pushes seen by one worker still wakes enough of
                // them.
                pass_on_wake(p);
            }
        }
        if (j != 0) {
            if (watching) {
                stop_watching();
                pass_on_wake(p);  // slots left unwatched
            }
            run_job(w, j, true);
            continue;
        }
        if (stopping_.load(std::memory_order_acquire) && outstanding() == 0) {
            stop_watching();
            flush_retired(w);  // the idle hook may have run tasks since the last flush
            break;
        }
        watching = sleep_until_work(w, watching);
        // Woken for a job: if more are queued, pass the wake-up on so a burst
        // of pushes that found this pool asleep gets enough workers.
        pass_on_wake(p);
    }
    if (config_.on_worker_exit) config_.on_worker_exit();
    ctx = thread_context{};
}

// ------------------------------------------------------------------ finishing

void scheduler::check_idle_waiters() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with wait_all()'s registration
    if (idle_waiters_.load(std::memory_order_seq_cst) != 0 &&
        outstanding() <= exempt_.load(std::memory_order_seq_cst)) {
        notify_idle_waiters();
    }
}

DFTRACER_INLINE_STEP void scheduler::unlink_locked(registry_shard& s, record& rec) noexcept {
    if (rec.live_prev)
        rec.live_prev->live_next = rec.live_next;
    else
        s.live_head = rec.live_next;
    if (rec.live_next) rec.live_next->live_prev = rec.live_prev;
    rec.live_prev = rec.live_next = nullptr;
    if (rec.timeout_ns > 0) timed_live_.fetch_sub(1, std::memory_order_relaxed);
}

void scheduler::unlink_live(record& rec, bool started, task_state terminal) noexcept {
    registry_shard& s = started ? shard(rec.live_shard) : orphan_shard_;
    std::lock_guard<spin_lock> guard(s.lock);
    if (started) unlink_locked(s, rec);
    s.history.push(rec, terminal);
}

void scheduler::publish_finish(record& rec, task_state terminal) noexcept {
    auto& ctx = thread_context::get();
    // Finishing the task this thread runs (not one it cancels or fails from
    // inside another task).
    const bool own_task = ctx.current == &rec;
    const bool stays_linked = publish_outcome(rec, terminal, ctx.sched == this ? ctx.self : nullptr, own_task);
    // The finish reference. run_claimed() holds the queue's (or the caller's)
    // around its own task: it drops both at once.
    if (own_task) {
        ctx.finish_ref_left = &rec;
        ctx.left_linked = stays_linked;
    } else {
        rec.release();  // whoever runs or cancels rec holds another
    }
}

DFTRACER_INLINE_STEP bool scheduler::publish_outcome(record& rec, task_state terminal, worker* self,
                                                     bool own_task) noexcept {
    const bool started = rec.was_started();
    const std::int64_t finished = now_ticks();
    rec.finished_ticks.store(finished, std::memory_order_relaxed);
    rec.set_terminal(terminal);
    // Before waking waiters: whoever sees the task finished also sees what
    // the binding recorded about it (e.g. Python's get_failed()).
    rec.on_terminal(terminal);
    const bool ran_callbacks = rec.notify_waiters();
    // The finish time can start the next task on this worker only if no
    // other code runs in between: so only for its own task, and only when no
    // completion callback or error hook runs after the time was read.
    if (terminal == task_state::completed && self != nullptr && !ran_callbacks && own_task) {
        self->last_finish_ticks = finished;
        self->boundary_fresh = true;
    }
    if (terminal == task_state::failed && config_.on_error) report_failure(rec);
    // This worker's own task stays in its live list, finished, until the
    // next task here is linked (see worker::retired): one registry lock per
    // task. Readers of the lists treat it as finished.
    const bool stays_linked = own_task && started && self != nullptr && rec.live_shard == self->id;
    // Recorded first, counted last: whoever sees the counts done (wait_all)
    // also finds the task recorded.
    if (!stays_linked) unlink_live(rec, started, terminal);
    counters_of(self).bump(finish_counter(terminal, started));
    // A worker with jobs still in its own queue cannot have finished the last
    // task (those jobs count as outstanding, or, if they are stale entries of
    // cancelled tasks, this worker checks again when it skips them or runs
    // dry), so it skips the check, which reads every worker's counters.
    if (self == nullptr || self->queued() == 0) check_idle_waiters();
    if (stopping_.load(std::memory_order_acquire) && outstanding() == 0) wake_all();
    return stays_linked;
}

void scheduler::report_failure(record& rec) noexcept {
    try {
        task_info info = info_of(rec);
        config_.on_error(info, rec.error());
    } catch (...) {
        // The hook's own failure must not hide the task's; nothing to do.
    }
}

bool scheduler::cancel(record& rec) noexcept {
    if (!rec.begin_cancel()) return false;
    publish_finish(rec, task_state::cancelled);
    return true;
}

std::uint64_t scheduler::sum(task_counters::index i) const noexcept {
    std::uint64_t total = external_counters_.read(i);
    for (const worker* w : all_workers_) total += w->counters.read(i);
    return total;
}

std::uint64_t scheduler::next_task_id_slow(worker* w) noexcept {
    constexpr std::uint64_t block = 256;
    if (w == nullptr) return next_id_block_.fetch_add(1, std::memory_order_relaxed);
    if (w->next_id == w->id_limit) {
        w->next_id = next_id_block_.fetch_add(block, std::memory_order_relaxed);
        w->id_limit = w->next_id + block;
    }
    return w->next_id++;
}

std::uint64_t scheduler::outstanding() const noexcept {
    // Finished first, submitted last: a zero result means everything
    // submitted had finished at one instant between the reads.
    const auto done = sum(task_counters::completed) + sum(task_counters::failed_started) +
                      sum(task_counters::cancelled_started) + sum(task_counters::failed_unstarted) +
                      sum(task_counters::cancelled_unstarted);
    return sum(task_counters::submitted) - done;
}

// ------------------------------------------------------------------- shutdown

void scheduler::shutdown(bool drain, bool wait) {
    accepting_.store(false, std::memory_order_seq_cst);
    if (!drain) {
        for (worker* w : all_workers_) {
            std::vector<record*> queued;
            {
                std::lock_guard<spin_lock> guard(w->queue_lock);
                w->for_each_queued([&](record& rec) {
                    rec.add_ref();
                    queued.push_back(&rec);
                });
            }
            // Entries stay queued; workers skip them once cancelled.
            for (record* rec : queued) {
                cancel(*rec);
                rec->release();
            }
        }
    }
    stopping_.store(true, std::memory_order_seq_cst);
    wake_all();
    if (!wait || current_worker() != nullptr) return;  // a later call or the destructor joins
    std::call_once(join_once_, [this] {
        for (worker* w : all_workers_) {
            if (w->thread.joinable()) w->thread.join();
        }
        pool_trim();  // the workers' blocks went to the depot as they exited
    });
}

}  // namespace dftracer::detail
