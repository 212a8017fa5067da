// The run loop: run_until(target, policy), the one loop by which a worker
// runs jobs (its main loop and every helping wait) and by which any thread
// waits; the wait targets built on it; coroutine suspension and pool hops.
#include <algorithm>
#include <stdexcept>

#include "awaited_board.hpp"
#include "dftracer/executor/detail/submit.hpp"
#include "run_task.hpp"
#include "scheduler.hpp"
#include "thread_context.hpp"

namespace dftracer::detail {

namespace {

/// Nesting depth up to which a waiting worker runs any queued task. Beyond
/// it only the worker's own recent children are run (they are what waits
/// depend on): unrelated queued work is left to other workers, so deep
/// nesting cannot exhaust the stack (or Python's recursion limit).
constexpr int max_unrelated_help_depth = 8;
/// Nesting depth up to which a deep waiter still runs tasks that a worker
/// elsewhere is blocked on (awaited_board.hpp). Such a task need not be on
/// this worker's own chain of waits, so without a bound the depth would grow
/// with the number of blocked threads in the process.
constexpr int max_awaited_help_depth = 64;
/// Rounds of cpu_relax() (~25 ns each on x86) a thread outside the pools
/// watches its target before it parks: a short task finishes within
/// microseconds, and a sleep and wake-up cost tens of microseconds on some
/// virtual machines.
constexpr int outside_spin_rounds = 1024;

/// Wakes whoever waits when a record or group finishes.
struct wake_waiter final : waiter {
    wake_ref who;
    void notify() noexcept override { who.wake(); }
};

/// Requeues a suspended coroutine when the awaited record finishes. Owns one
/// reference to the coroutine's root record, handed to resume_later().
struct resume_waiter final : waiter {
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* block, std::size_t size) noexcept { pool_deallocate(block, size); }
    resume_waiter(coroutine_place p, std::coroutine_handle<> h, pool_kind k) : place(p), continuation(h), pool(k) {}
    coroutine_place place;
    std::coroutine_handle<> continuation;
    pool_kind pool;
    void notify() noexcept override {
        resume_after_wait(place, continuation, pool);
        delete this;
    }
};

parker& thread_parker() {
    thread_local parker p;
    return p;
}

bool deadline_passed(const clock::time_point* deadline) { return deadline != nullptr && clock::now() >= *deadline; }

// Wait targets. Each says whether it is reached (done()), and lets a
// sleeping waiter subscribe to be woken when it may have been (subscribe()
// returns false if it already is; unsubscribe() returns once no wake-up is
// under way). waited_id() is what the worker's introspection slot shows;
// cheap_to_check says whether an outside waiter may poll done() in a spin.

struct record_target {
    static constexpr bool cheap_to_check() { return true; }
    record& rec;
    wake_waiter node{};
    bool done() const noexcept { return rec.done(); }
    bool subscribe(wake_ref who) noexcept {
        node.who = who;
        return rec.add_waiter(node);
    }
    void unsubscribe() noexcept { rec.remove_waiter(node); }
    std::uint64_t waited_id() const noexcept { return rec.id; }
    std::uint64_t waited_executor() const noexcept { return rec.owner != nullptr ? rec.owner->serial() : 0; }
};

struct group_target {
    static constexpr bool cheap_to_check() { return true; }
    group_state& group;
    wake_waiter node{};
    bool done() const noexcept { return group.idle(); }
    bool subscribe(wake_ref who) noexcept {
        node.who = who;
        return group.add_waiter(node);
    }
    void unsubscribe() noexcept { group.remove_waiter(node); }
    std::uint64_t waited_id() const noexcept { return 0; }
    std::uint64_t waited_executor() const noexcept { return 0; }
};

/// The outside policy: watch (a target that is cheap to check), then park
/// on the thread's own parker.
template <class Target>
bool wait_outside(Target& target, const clock::time_point* deadline) {
    for (int i = 0; Target::cheap_to_check() && i < outside_spin_rounds; ++i) {
        if (i % 64 == 0 && deadline_passed(deadline)) return target.done();  // a zero timeout polls
        cpu_relax();
        if (target.done()) return true;
    }
    parker& park = thread_parker();
    if (!target.subscribe(wake_ref{nullptr, 0, &park})) return true;
    while (!target.done()) {
        if (deadline == nullptr) {
            park.park();
        } else if (!park.park_until(*deadline) && deadline_passed(deadline)) {
            break;
        }
    }
    target.unsubscribe();  // also orders us after a concurrent wake-up
    return target.done();
}

}  // namespace

// ------------------------------------------------------------- the run loop

template <class Target>
bool scheduler::run_until(Target& target, wait_policy policy, worker* w, const clock::time_point* deadline) {
    if (policy == wait_policy::outside) return wait_outside(target, deadline);
    pool& p = *w->home;
    const bool main = policy == wait_policy::worker_main;
    const int depth = thread_context::get().depth;
    const bool shallow = main || depth < max_unrelated_help_depth;
    // Deep: besides its own children, only what a worker elsewhere is
    // blocked on (awaited_board.hpp), up to a bound.
    const bool takes_listed = !shallow && depth < max_awaited_help_depth;
    bool watching = false;  // the main loop's worker is its pool's slot watcher (idle_sleep())
    auto leave = [&](bool reached) {
        if (watching) p.sleep.stop_watching();
        return reached;
    };
    for (;;) {
        // The main loop's target (shutdown) costs a sum over all workers:
        // it is checked only when idle.
        if (!main && target.done()) return true;
        job j = 0;
        if (shallow) {
            if (!w->queue.pop_own(j) && !try_steal(*w, j, true)) j = 0;
        } else if (!w->queue.pop_own_child(j)) {
            j = 0;
            if (takes_listed && run_listed(*w)) continue;
        }
        if (j == 0) {
            on_idle(*w);
            if (main) check_idle_waiters();
            if (target.done()) return leave(true);
            if (deadline_passed(deadline)) return leave(false);
            // Found work while others may sleep: hand the search on, so a
            // burst of pushes seen by one worker still wakes enough of them.
            if (main && !watching && (j = spin_for_work(*w)) != 0) pass_on_wake(p);
        }
        if (j != 0) {
            if (watching) {
                watching = false;
                p.sleep.stop_watching();
                pass_on_wake(p);  // slots left unwatched
            }
            run_job(*w, j, main);
            continue;
        }
        if (main) {
            watching = idle_sleep(*w, watching);
            // Woken for a job: if more are queued, pass the wake-up on.
            pass_on_wake(p);
            continue;
        }
        // A helping wait sleeps until its target or new work.
        if (!target.subscribe(wake_ref{&p.sleep, static_cast<std::size_t>(w->index), nullptr})) continue;
        const auto outer_waiting = w->waiting_for.load(std::memory_order_relaxed);
        const auto outer_waiting_in = w->waiting_in.load(std::memory_order_relaxed);
        w->waiting_in.store(target.waited_executor(), std::memory_order_relaxed);
        w->waiting_for.store(target.waited_id(), std::memory_order_release);
        if (shallow) {
            // A sleeper of the pool: new work wakes it, and it will help.
            p.sleep.prepare_wait(static_cast<std::size_t>(w->index));
            if (!target.done() && !p.has_queued_work()) {
                p.sleep.commit_wait(static_cast<std::size_t>(w->index), deadline);
            } else {
                p.sleep.cancel_wait(static_cast<std::size_t>(w->index));
            }
        } else if (!target.done()) {
            // It would not run unrelated work if woken: it must not absorb
            // wake-ups meant for idle workers.
            park_deep(*w, takes_listed, deadline);
        }
        w->waiting_in.store(outer_waiting_in, std::memory_order_relaxed);
        w->waiting_for.store(outer_waiting, std::memory_order_release);
        target.unsubscribe();
    }
}

void scheduler::on_idle(worker& w) noexcept {
    w.clock.invalidate();
    w.registry.flush();  // what finished here goes to the history while idle
    if (config_.on_worker_idle) config_.on_worker_idle();
}

job scheduler::find_work(worker& w, bool look_at_slots) {
    job j = 0;
    if (w.queue.pop_own(j) || try_steal(w, j, look_at_slots)) return j;
    return 0;
}

bool scheduler::try_steal(worker& w, job& out, bool look_at_slots) {
    auto& workers = w.home->workers;
    const std::size_t n = workers.size();
    for (std::size_t i = 1; i < n; ++i) {
        worker& victim = *workers[(static_cast<std::size_t>(w.index) + i) % n];
        // A sleeping owner will not take its slot's job back soon.
        const bool owner_sleeping = w.home->sleep.is_sleeping(static_cast<std::size_t>(victim.index));
        if (victim.queue.steal(out, look_at_slots, owner_sleeping)) return true;
    }
    return false;
}

job scheduler::spin_for_work(worker& w) {
    // Going to sleep and being woken costs microseconds, so an idle worker
    // first spins briefly, then yields, watching the queue depths only.
    constexpr int spin_rounds = 2048;
    constexpr int yield_rounds = 16;
    constexpr int max_poll_gap = 64;  // rounds of ~25 ns (x86 pause) between polls
    // A peer running a chain of tasks rewrites its slot every step, so each
    // look at it costs that peer a cache miss: the slots are looked at on
    // every slot_poll_every-th poll only (the queue depths, which such a
    // peer leaves alone, on every poll).
    constexpr int slot_poll_every = 16;
    pool& p = *w.home;
    job j = 0;
    if (!p.sleep.try_begin_spin()) return 0;  // another worker spins: sleep
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
    p.sleep.end_spin();
    return j;
}

bool scheduler::slots_in_use(worker& w) noexcept {
    std::uint64_t pushes = 0;
    bool holding = false;
    for (const auto& peer : w.home->workers) {
        if (peer.get() == &w) continue;
        pushes += peer->queue.slot_pushes();
        holding = holding || peer->queue.slot_holds_job();
    }
    const bool pushed = std::exchange(w.watched_pushes, pushes) != pushes;
    return holding || pushed;
}

bool scheduler::idle_sleep(worker& w, bool watching) {
    // A job in a peer's slot is normally taken back by its owner within
    // nanoseconds, but an owner running a long task leaves it there, so
    // while slots are in use one idle worker of the pool watches them: it
    // naps for slot_watch_nap at a time instead of parking, and looks again
    // (try_steal() takes a job that stayed). Meanwhile pushes into slots
    // wake nobody, so a chain of tasks on one worker neither wakes the
    // others at every step nor keeps one spinning beside it. The nap is
    // long enough that a watcher costs its core and the owners it watches
    // little, short enough that a job left in a slot waits at most about
    // two naps.
    constexpr auto slot_watch_nap = std::chrono::microseconds(50);
    // Idle for this long: give back what a burst of tasks left in the block
    // pool (not sooner: back-to-back bursts reuse it).
    constexpr auto trim_after = std::chrono::seconds(1);
    pool& p = *w.home;
    const auto index = static_cast<std::size_t>(w.index);
    p.sleep.prepare_wait(index);
    if (p.has_queued_work(false) || exit_ready()) {
        p.sleep.cancel_wait(index);
        return watching;
    }
    const bool in_use = slots_in_use(w);
    if (watching && !in_use) {
        p.sleep.stop_watching();  // then look once more (below)
        watching = false;
    }
    if (!watching && (in_use || p.has_queued_work())) watching = p.sleep.try_watch();
    if (watching) {
        const auto until = clock::now() + slot_watch_nap;
        p.sleep.commit_wait(index, &until);
        return true;
    }
    const auto until = clock::now() + trim_after;
    if (p.sleep.commit_wait(index, &until)) return false;
    pool_trim();
    p.sleep.prepare_wait(index);
    if (p.has_queued_work() || exit_ready()) {
        p.sleep.cancel_wait(index);
    } else {
        p.sleep.commit_wait(index, nullptr);
    }
    return false;
}

void scheduler::worker_main(worker& w) {
    auto& ctx = thread_context::get();
    ctx.sched = this;
    ctx.self = &w;
    w.native_thread.store(current_native_thread(), std::memory_order_relaxed);
    w.os_thread.store(current_os_thread(), std::memory_order_relaxed);
    name_current_thread(config_.thread_name_prefix + (w.home->kind == pool_kind::io ? "-io" : "-c") +
                        std::to_string(w.index));
    // The main loop's target: shutdown began and nothing is left to run
    // (shutdown() wakes every worker, so nothing to subscribe to).
    struct shutdown_target {
        static constexpr bool cheap_to_check() { return false; }
        scheduler& s;
        pool& p;
        // A job queued after this worker last looked (a suspension's
        // resumption, whose end the worker may already see) keeps it.
        bool done() const noexcept { return s.exit_ready() && !p.has_queued_work(); }
        bool subscribe(wake_ref) noexcept { return true; }
        void unsubscribe() noexcept {}
        std::uint64_t waited_id() const noexcept { return 0; }
        std::uint64_t waited_executor() const noexcept { return 0; }
    } target{*this, *w.home};
    run_until(target, wait_policy::worker_main, &w, nullptr);
    w.registry.flush();
    if (config_.on_worker_exit) config_.on_worker_exit();
    ctx = thread_context{};
}

// ------------------------------------------------------------------ waits

bool scheduler::wait(record& rec, const clock::time_point* deadline) {
    if (rec.done()) return true;
    // Without a deadline this wait could never end.
    if (deadline == nullptr && thread_context::get().current == &rec) {
        throw std::logic_error("a task cannot wait for its own result");
    }
    record_target target{rec};
    worker* w = current_worker();
    if (w == nullptr) return run_until(target, wait_policy::outside, nullptr, deadline);
    // Run the awaited task here if nobody started it yet.
    if (claim_inline(*w, rec) && rec.done()) return true;
    // Another pool's or executor's task, still queued: its own pool's deep
    // waiters may run it.
    awaited_board::instance().note(rec);
    return run_until(target, wait_policy::helping, w, deadline);
}

void scheduler::park_deep(worker& w, bool takes_listed, const clock::time_point* deadline) {
    pool& p = *w.home;
    const auto index = static_cast<std::size_t>(w.index);
    if (!takes_listed) {
        p.sleep.park_unannounced(index, deadline);
        return;
    }
    // A task of its pool listed as awaited wakes it (the board's protocol:
    // join, look, park, leave).
    const awaited_board::helper self{wake_ref{&p.sleep, index, nullptr}, this, p.kind};
    auto& board = awaited_board::instance();
    const bool joined = board.join(self);
    if (!board.has_listed(this, p.kind)) p.sleep.park_unannounced(index, deadline);
    if (joined) board.leave(self);
}

bool scheduler::run_listed(worker& w) {
    record* rec = awaited_board::instance().take(this, w.home->kind);
    if (rec == nullptr) return false;
    claim_inline(w, *rec);  // false if someone else claimed it first
    rec->release();
    return true;
}

bool scheduler::wait_group(group_state& group, const clock::time_point* deadline) {
    const record* current = thread_context::get().current;
    // (A task failed or timed out no longer counts in its group: it may wait.)
    if (deadline == nullptr && current != nullptr && current->group == &group && !current->done() && !group.idle()) {
        throw std::logic_error("a task cannot wait for the group it belongs to");
    }
    group_target target{group};
    worker* w = current_worker();
    return run_until(target, w != nullptr ? wait_policy::helping : wait_policy::outside, w, deadline);
}

bool scheduler::wait_all(const clock::time_point* deadline) {
    worker* w = current_worker();
    // Tasks on this worker's stack are blocked in this call; they cannot
    // finish first. Every worker-side waiter exempts its own, so two tasks in
    // wait_all() on different workers do not wait for each other.
    const std::uint64_t own = w != nullptr ? static_cast<std::uint64_t>(thread_context::get().depth) : 0;
    exempt_.fetch_add(own, std::memory_order_seq_cst);
    struct all_done_target {
        static constexpr bool cheap_to_check() { return false; }  // sums every worker's counters
        scheduler& s;
        worker* w;
        wake_ref who{};
        bool done() const noexcept {
            const auto threshold = w != nullptr ? s.exempt_.load(std::memory_order_seq_cst) : 0;
            return s.outstanding() <= threshold;
        }
        bool subscribe(wake_ref r) {
            who = r;
            {
                std::lock_guard<std::mutex> guard(s.idle_mutex_);
                s.idle_wakers_.push_back(r);
            }
            s.idle_waiters_.fetch_add(1, std::memory_order_seq_cst);
            std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with check_idle_waiters()
            return true;
        }
        void unsubscribe() {
            s.idle_waiters_.fetch_sub(1, std::memory_order_seq_cst);
            std::lock_guard<std::mutex> guard(s.idle_mutex_);
            s.idle_wakers_.erase(std::find(s.idle_wakers_.begin(), s.idle_wakers_.end(), who));
        }
        std::uint64_t waited_id() const noexcept { return 0; }
        std::uint64_t waited_executor() const noexcept { return 0; }
    } target{*this, w};
    const bool done = run_until(target, w != nullptr ? wait_policy::helping : wait_policy::outside, w, deadline);
    exempt_.fetch_sub(own, std::memory_order_seq_cst);
    if (own != 0) notify_idle_waiters();  // others' thresholds just dropped
    return done;
}

void scheduler::notify_idle_waiters() {
    std::lock_guard<std::mutex> guard(idle_mutex_);
    for (const wake_ref& who : idle_wakers_) who.wake();
}

// ------------------------------------------------------------- coroutines

bool scheduler::await(record& rec, coroutine_place place, std::coroutine_handle<> continuation) {
    if (rec.done()) return false;
    if (place.root == nullptr) {
        throw std::logic_error("co_await on a task_handle needs a coroutine spawned on an executor");
    }
    worker* w = current_worker();
    if (w != nullptr && claim_inline(*w, rec) && rec.done()) return false;
    awaited_board::instance().note(rec);  // as for a blocking wait
    // The coroutine continues on its own executor (which may differ from
    // the awaited task's), on the pool it is running on now.
    hold_root(place);
    resume_waiter* node = nullptr;
    try {
        node = new resume_waiter(place, continuation, suspension_pool(place.root));
    } catch (...) {
        drop_root(place);
        throw;
    }
    // Counted by the coroutine's executor (this is the awaited task's).
    scheduler& home = *place.root->owner;
    home.begin_suspension();
    if (!rec.add_waiter(*node)) {
        home.end_suspension();
        delete node;
        drop_root(place);
        return false;
    }
    return true;
}

bool scheduler::reschedule(coroutine_place place, std::coroutine_handle<> h, pool_kind kind, bool always_hop) {
    if (place.root == nullptr) {
        throw std::logic_error("resume_on()/yield() need a coroutine spawned on an executor");
    }
    if (!is_pool(kind)) throw std::invalid_argument(bad_pool_message);
    worker* w = current_worker();
    if (!always_hop && w != nullptr && w->home->kind == kind) return false;
    if (place.on != nullptr) {
        // A strand's job holds no reference: its fork holds the root until
        // the strand has finished.
        place.on->resume_point = h;
        push(kind, strand_job(place.on), true);
        return true;
    }
    place.root->add_ref();
    place.root->resume_point = h;
    push(kind, resume_job(place.root), true);
    return true;
}

bool scheduler::yield_now(coroutine_place place, std::coroutine_handle<> h) {
    if (place.root == nullptr) {
        throw std::logic_error("resume_on()/yield() need a coroutine spawned on an executor");
    }
    worker* w = current_worker();
    return reschedule(place, h, w != nullptr ? w->home->kind : place.root->pool, true);
}

}  // namespace dftracer::detail
