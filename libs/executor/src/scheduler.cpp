// Task flow: submit, queues and wake-ups, running one task, finishing,
// shutdown. The loops that run tasks and wait live in run_loop.cpp.
#include "scheduler.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <string>

#include "dftracer/executor/executor.hpp"
#include "run_task.hpp"
#include "thread_context.hpp"

namespace dftracer::detail {

bool pool::has_queued_work(bool include_slots) const noexcept {
    for (const auto& w : workers) {
        if (include_slots ? w->queue.size() != 0 : w->queue.has_locked_jobs()) return true;
    }
    return false;
}

namespace {
void check_size(const char* what, int value, int limit) {
    if (value < 0) throw std::invalid_argument(std::string(what) + " must be >= 0, got " + std::to_string(value));
    if (value > limit) {
        throw std::invalid_argument(std::string(what) + " must be <= " + std::to_string(limit) + ", got " +
                                    std::to_string(value));
    }
}
}  // namespace

namespace {
std::uint64_t next_serial() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
}
}  // namespace

scheduler::scheduler(executor& owner, const executor_config& config)
    : owner_(owner), serial_(next_serial()), config_(config) {
    check_size("threads", config.threads, max_threads_per_pool);
    check_size("io_threads", config.io_threads, max_threads_per_pool);
    if (config.history_size < 0)
        throw std::invalid_argument("history_size must be >= 0, got " + std::to_string(config.history_size));
    calibrate_clock();
    long_task_ticks_ = ns_to_ticks(20'000);
    const int compute = config.threads > 0 ? config.threads : std::min(available_cpus(), max_threads_per_pool);
    const int io = config.io_threads > 0 ? config.io_threads : default_io_threads(compute);

    pools_[0].kind = pool_kind::compute;
    pools_[1].kind = pool_kind::io;
    int next_id = 0;
    for (int p = 0; p < 2; ++p) {
        const int count = p == 0 ? compute : io;
        pools_[p].sleep.resize(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            auto w = std::make_unique<worker>();
            w->seat.counters.single_writer = true;
            w->id = next_id++;
            w->index = i;
            w->home = &pools_[p];
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
    // A submit() that raced shutdown() may have queued its job after every
    // worker had exited, then cancelled it: nobody popped that entry, so
    // its reference (the queue's) is dropped here. The workers are joined:
    // this thread is the queues' only user now.
    for (worker* w : all_workers_) {
        job j = 0;
        while (w->queue.pop_own(j)) {
            assert(kind_of(j) != job_kind::start || job_record(j)->done());
            if (kind_of(j) != job_kind::strand) job_record(j)->release();
        }
    }
}

// ---------------------------------------------------------------- submit/push

DFTRACER_INLINE_STEP bool scheduler::enqueue(pool& p, job j, bool to_back, worker* self, submit_seat& seat) {
    if (self != nullptr && self->home == &p) {
        if (!to_back) return self->queue.push_own(j);
        self->queue.push_inbox(j);
        return false;
    }
    next_peer(p, seat).queue.push_inbox(j);
    return false;
}

DFTRACER_INLINE_STEP worker& scheduler::next_peer(pool& p, submit_seat& seat, std::uint32_t jobs) noexcept {
    if (&seat == &shared_seat_)
        return *p.workers[p.round_robin.fetch_add(1, std::memory_order_relaxed) % p.workers.size()];
    const std::uint32_t turn = seat.next_peer / inbox_stretch;
    seat.next_peer += jobs;
    return *p.workers[turn % p.workers.size()];
}

DFTRACER_INLINE_STEP void scheduler::announce(pool& p, bool into_slot) noexcept {
    if (into_slot) {
        p.sleep.notify_for_slot();
    } else {
        p.sleep.notify_one();
    }
}

DFTRACER_INLINE_STEP void scheduler::prepare(record* rec, submit_seat& seat, std::uint32_t executor_refs) noexcept {
    rec->owner = this;
    rec->id = next_task_id(seat);
    seat.counters.bump(task_counters::submitted);
    rec->queued_ticks.store(now_ticks(), std::memory_order_relaxed);
    rec->add_refs_unpublished(executor_refs);
}

void scheduler::submit(record* rec, submit_options&& options, bool adopt_caller_ref) {
    // Refused before anything is queued: an adopted reference goes here.
    auto refuse = [&](auto error) {
        if (adopt_caller_ref) rec->release();
        throw error;
    };
    if (!accepting_.load(std::memory_order_acquire)) refuse(executor_shut_down());
    if (options.timeout.count() < 0) refuse(std::invalid_argument("timeout must be >= 0"));
    if (!is_pool(options.pool)) refuse(std::invalid_argument(bad_pool_message));
    if (!options.name.empty()) rec->name = std::move(options.name);  // most tasks have none
    rec->pool = options.pool;
    rec->timeout_ns = options.timeout.count();
    worker* self = current_worker();
    submit_seat& seat = submitting_seat(self);
    // The executor's references: the queue entry's (dropped by whoever pops
    // it) and the finish reference (dropped once the task is published,
    // which also covers the live list between start and finish). The
    // caller's own keeps the record alive through this call, or is the
    // queue entry's when adopted.
    prepare(rec, seat, adopt_caller_ref ? 1 : 2);
    pool& target = pool_of(options.pool);
    bool into_slot = false;
    try {
        into_slot = enqueue(target, reinterpret_cast<job>(rec), false, self, seat);
    } catch (...) {
        // Out of memory growing a queue: the task was counted but never
        // queued. Fail it, so the counts still add up and wait_all() does
        // not wait for it, and drop the queue's reference (an adopted
        // caller's reference); then tell the caller.
        if (rec->begin_cancel()) rec->finish_with(std::current_exception());
        rec->release();
        throw;
    }
    announce(target, into_slot);
    // The announce fenced; a shutdown that started meanwhile may have missed
    // this job. Cancelling it keeps the "no work lost" promise: either a
    // worker runs it or its handle says cancelled.
    // The caller gets an error, not a task: the counts take it back.
    if (!accepting_.load(std::memory_order_seq_cst) && cancel(*rec)) {
        seat.counters.bump(task_counters::withdrawn);
        throw executor_shut_down();
    }
}

void scheduler::submit_batch(record* const* recs, std::size_t n, const submit_options& options) {
    if (n == 0) return;
    if (!accepting_.load(std::memory_order_acquire)) throw executor_shut_down();
    if (options.timeout.count() < 0) throw std::invalid_argument("timeout must be >= 0");
    if (!is_pool(options.pool)) throw std::invalid_argument(bad_pool_message);
    worker* self = current_worker();
    submit_seat& seat = submitting_seat(self);
    pool& target = pool_of(options.pool);
    for (std::size_t i = 0; i < n; ++i) {
        record* rec = recs[i];
        if (!options.name.empty()) rec->name = options.name;
        rec->pool = options.pool;
        rec->timeout_ns = options.timeout.count();
        prepare(rec, seat, 2);
    }
    // Into the pool's inboxes, one lock per inbox touched: a worker of the
    // pool puts them all into its own (its peers steal from it); any other
    // thread puts a stretch into each worker's in turn.
    const bool own = self != nullptr && self->home == &target;
    std::size_t queued = 0;
    try {
        while (queued < n) {
            const std::size_t count = own ? n - queued : std::min<std::size_t>(inbox_stretch, n - queued);
            worker& to = own ? *self : next_peer(target, seat, static_cast<std::uint32_t>(count));
            to.queue.push_inbox_batch(count, [&](auto&& push) {
                for (std::size_t i = queued; i < queued + count; ++i) push(reinterpret_cast<job>(recs[i]));
            });
            queued += count;
        }
    } catch (...) {
        for (std::size_t i = queued; i < n; ++i) {
            if (recs[i]->begin_cancel()) recs[i]->finish_with(std::current_exception());
            recs[i]->release();
        }
        for (std::size_t i = 0; i < std::min(queued, target.workers.size()); ++i) target.sleep.notify_one();
        throw;
    }
    // One wake-up per worker at most: each woken worker passes the wake-up on
    // while work stays queued.
    for (std::size_t i = 0; i < std::min(n, target.workers.size()); ++i) target.sleep.notify_one();
    if (!accepting_.load(std::memory_order_seq_cst)) {
        // The whole batch is refused; what a worker already took runs and
        // stays counted, the rest is taken back from the counts.
        bool any_cancelled = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (!cancel(*recs[i])) continue;
            seat.counters.bump(task_counters::withdrawn);
            any_cancelled = true;
        }
        if (any_cancelled) throw executor_shut_down();
    }
}

void scheduler::push(pool_kind kind, job j, bool to_back) {
    pool& p = pool_of(kind);
    worker* self = current_worker();
    announce(p, enqueue(p, j, to_back, self, seat_of(self)));
}

void scheduler::push_from_elsewhere(pool_kind kind, job j, bool ends_suspension) {
    worker* self = current_worker();
    pool& p = pool_of(kind);
    if (self != nullptr) {  // one of ours: the destructor joins it first
        announce(p, enqueue(p, j, false, self, self->seat));
        if (ends_suspension) end_suspension();
        return;
    }
    // Counted before the job is queued, so whoever sees it run (and may then
    // destroy this scheduler) also sees the count.
    pushes_from_elsewhere_.fetch_add(1, std::memory_order_relaxed);
    announce(p, enqueue(p, j, false, nullptr, shared_seat_));
    if (ends_suspension) end_suspension();  // queued first: workers that see it end see the job
    pushes_from_elsewhere_.fetch_sub(1, std::memory_order_release);
}

void scheduler::end_suspension() noexcept {
    // The last one during shutdown: workers waiting for it may exit now.
    if (suspended_.fetch_sub(1, std::memory_order_seq_cst) == 1 && stopping_.load(std::memory_order_seq_cst)) {
        wake_all();
    }
}

void scheduler::queue_strands(record* root, strand* const* strands, std::size_t n) {
    auto jobs = [strands, n](auto&& push) {
        for (std::size_t i = 0; i < n; ++i) push(strand_job(strands[i]));
    };
    worker* self = current_worker();
    pool& p = pool_of(self != nullptr ? self->home->kind : root->pool);
    if (self != nullptr && n == 1) {
        // One child (a two-way fork): the own-job slot, no lock.
        announce(p, self->queue.push_own(strand_job(strands[0])));
        return;
    }
    if (self != nullptr) {
        self->queue.push_own_batch(n, jobs);
    } else {
        next_peer(p, seat_of(self)).queue.push_inbox_batch(n, jobs);
    }
    // One wake-up per worker at most: each woken worker passes it on while
    // work stays queued.
    for (std::size_t i = 0; i < std::min(n, p.workers.size()); ++i) p.sleep.notify_one();
}

void scheduler::pass_on_wake(pool& p) noexcept {
    if (p.has_queued_work(false)) {
        p.sleep.notify_one();
    } else if (p.has_queued_work()) {
        p.sleep.notify_for_slot();
    }
}

void scheduler::wake_all() noexcept {
    for (auto& p : pools_) p.sleep.notify_all();
}

// ----------------------------------------------------------- running one task

bool scheduler::claim_inline(worker& w, record& rec) {
    if (rec.owner != this || rec.pool != w.home->kind) return false;
    // Usually the awaited task is the newest entry of this worker's queue:
    // take the entry out too, so finished records do not pile up behind it.
    const bool popped = w.queue.take_if_newest(reinterpret_cast<job>(&rec));
    if (!rec.try_claim()) {
        if (popped) rec.release();  // the queue's: the entry was stale
        return false;
    }
    // The run holds a reference (the queue's, if popped): the registry keeps
    // rec with it when someone else finishes rec meanwhile.
    if (!popped) rec.add_ref();
    drop_after_run(w, &rec, run_claimed(w, &rec, true), 1, true);
    return true;
}

// ------------------------------------------------------------------ finishing

void scheduler::check_idle_waiters() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with wait_all()'s registration
    if (idle_waiters_.load(std::memory_order_seq_cst) != 0 &&
        outstanding() <= exempt_.load(std::memory_order_seq_cst)) {
        notify_idle_waiters();
    }
}

void scheduler::unlink_live(record& rec, bool started, task_state terminal) noexcept {
    if (started) {
        shard(rec.live_shard).finish_elsewhere(rec, terminal);
    } else {
        orphan_shard_.record_unstarted(rec, terminal);
    }
}

void scheduler::publish_finish(record& rec, task_state terminal) noexcept {
    // From outside the record's run: it leaves the live list now, and the
    // finish reference goes (whoever cancels or fails rec holds another).
    publish_outcome(rec, terminal, current_worker(), false);
    rec.release();
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
    std::uint64_t total = shared_seat_.counters.read(i);
    for (const worker* w : all_workers_) total += w->seat.counters.read(i);
    const std::size_t outside = outside_seats_.used();
    for (std::size_t k = 0; k < outside; ++k) total += outside_seats_[k].counters.read(i);
    return total;
}

std::uint64_t scheduler::next_task_id_slow(submit_seat& seat) noexcept {
    constexpr std::uint64_t block = 256;
    if (&seat == &shared_seat_) return next_id_block_.fetch_add(1, std::memory_order_relaxed);
    seat.next_id = next_id_block_.fetch_add(block, std::memory_order_relaxed);
    seat.id_limit = seat.next_id + block;
    return seat.next_id++;
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
    if (in_forked_child()) {
        stopping_.store(true, std::memory_order_seq_cst);
        return;
    }
    if (!drain) {
        for (worker* w : all_workers_) {
            std::vector<record*> queued;
            {
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
        pool_trim();  // the workers' heaps became orphans as they exited: settle them
    });
}

}  // namespace dftracer::detail
