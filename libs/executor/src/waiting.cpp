// Waiting without deadlock: blocking waits that help, coroutine suspension,
// wait_all, and moving coroutines between pools.
#include <algorithm>
#include <stdexcept>

#include "scheduler.hpp"
#include "thread_context.hpp"

namespace dftracer::detail {

namespace {

/// Nesting depth up to which a waiting worker runs any queued task.
constexpr int max_unrelated_help_depth = 8;
/// Rounds of cpu_relax() (~25 ns each on x86) a thread outside the pools
/// watches an awaited task before it parks.
constexpr int external_spin_rounds = 1024;

/// Wakes a worker parked in a helping wait.
struct worker_waiter final : waiter {
    explicit worker_waiter(worker& w) : target(w) {}
    worker& target;
    void notify() noexcept override { target.park.unpark(); }
};

/// Wakes a thread outside the pools.
struct thread_waiter final : waiter {
    explicit thread_waiter(parker& p) : park(p) {}
    parker& park;
    void notify() noexcept override { park.unpark(); }
};

/// Requeues a suspended coroutine when the awaited record finishes. Owns one
/// reference to the coroutine's root record, handed to the queue.
struct resume_waiter final : waiter {
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* block, std::size_t size) noexcept { pool_deallocate(block, size); }
    resume_waiter(scheduler& s, record* r, std::coroutine_handle<> h, pool_kind k)
        : sched(s), root(r), continuation(h), kind(k) {}
    scheduler& sched;
    record* root;
    std::coroutine_handle<> continuation;
    pool_kind kind;
    void notify() noexcept override {
        root->resume_point = continuation;
        sched.push_from_elsewhere(kind, reinterpret_cast<job>(root) | resume_bit);
        delete this;
    }
};

parker& thread_parker() {
    thread_local parker p;
    return p;
}

bool deadline_passed(const clock::time_point* deadline) { return deadline != nullptr && clock::now() >= *deadline; }

/// Parks the worker as a sleeper of its pool, so both new work and `extra`
/// wake it. Returns after a wake-up, a deadline, or when `ready()` holds.
template <class Ready>
void park_helping(worker& w, const clock::time_point* deadline, Ready&& ready) {
    pool& p = *w.home;
    w.sleeping.store(true, std::memory_order_relaxed);
    p.sleepers.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!ready() && !p.has_queued_work()) {
        if (deadline != nullptr) {
            w.park.park_until(*deadline);
        } else {
            w.park.park();
        }
    }
    if (w.sleeping.exchange(false, std::memory_order_acq_rel)) {
        p.sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
}

}  // namespace

bool scheduler::wait(record& rec, const clock::time_point* deadline) {
    if (rec.done()) return true;
    worker* w = current_worker();
    if (w == nullptr) {
        // A short task finishes within microseconds: watch for that before
        // paying for a sleep and a wake-up, which cost tens of microseconds
        // on some virtual machines.
        for (int i = 0; i < external_spin_rounds; ++i) {
            if (i % 64 == 0 && deadline_passed(deadline)) return rec.done();  // a zero timeout polls
            cpu_relax();
            if (rec.done()) return true;
        }
        thread_waiter node(thread_parker());
        if (!rec.add_waiter(node)) return true;
        while (!rec.done()) {
            if (deadline == nullptr) {
                node.park.park();
            } else if (!node.park.park_until(*deadline) && deadline_passed(deadline)) {
                break;
            }
        }
        rec.remove_waiter(node);  // also orders us after a concurrent notify()
        return rec.done();
    }

    // On a worker: run the awaited task here if nobody started it yet.
    if (claim_inline(*w, rec) && rec.done()) return true;
    worker_waiter node(*w);
    const auto outer_waiting = w->waiting_for.load(std::memory_order_relaxed);
    // Helping nests tasks on this thread's stack. Beyond a few levels only the
    // worker's own recent children are run (they are what waits depend on);
    // unrelated queued work is left to other workers, so deep nesting cannot
    // exhaust the stack (or Python's recursion limit) on long queues.
    const bool shallow = thread_context::get().depth < max_unrelated_help_depth;
    while (!rec.done() && !deadline_passed(deadline)) {
        if (shallow ? help_once(*w) : help_with_own_children(*w)) continue;
        if (!rec.add_waiter(node)) break;
        w->waiting_for.store(rec.id, std::memory_order_release);
        if (shallow) {
            // A sleeper of the pool: new work wakes it, and it will help.
            park_helping(*w, deadline, [&] { return rec.done(); });
        } else {
            // Not a sleeper: it would not run unrelated work if woken, so it
            // must not absorb wake-ups meant for idle workers.
            if (config_.on_worker_idle) config_.on_worker_idle();
            if (!rec.done()) {
                if (deadline != nullptr) {
                    w->park.park_until(*deadline);
                } else {
                    w->park.park();
                }
            }
        }
        w->waiting_for.store(outer_waiting, std::memory_order_release);
        rec.remove_waiter(node);
    }
    return rec.done();
}

bool scheduler::await(record& rec, record* root, std::coroutine_handle<> continuation) {
    if (rec.done()) return false;
    if (root == nullptr) {
        throw std::logic_error("co_await on a task_handle needs a coroutine spawned on an executor");
    }
    worker* w = current_worker();
    if (w != nullptr && claim_inline(*w, rec) && rec.done()) return false;
    // The coroutine continues on its own executor (which may differ from
    // the awaited task's), on the pool it is running on now.
    scheduler& home = *root->owner;
    worker* self = home.current_worker();
    const pool_kind kind = self != nullptr ? self->home->kind : root->pool;
    root->add_ref();
    auto* node = new resume_waiter(home, root, continuation, kind);
    if (!rec.add_waiter(*node)) {
        delete node;
        root->release();
        return false;
    }
    return true;
}

bool scheduler::wait_all(const clock::time_point* deadline) {
    worker* w = current_worker();
    auto& ctx = thread_context::get();
    // Tasks on this worker's stack are blocked in this call; they cannot
    // finish first. Every worker-side waiter exempts its own, so two tasks in
    // wait_all() on different workers do not wait for each other.
    const std::uint64_t own = w != nullptr ? static_cast<std::uint64_t>(ctx.depth) : 0;
    exempt_.fetch_add(own, std::memory_order_seq_cst);
    parker& park = w != nullptr ? w->park : thread_parker();
    {
        std::lock_guard<std::mutex> guard(idle_mutex_);
        idle_parkers_.push_back(&park);
    }
    idle_waiters_.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with publish_finish()
    auto finished = [&] {
        const auto threshold = w != nullptr ? exempt_.load(std::memory_order_seq_cst) : 0;
        return outstanding() <= threshold;
    };
    bool done = false;
    for (;;) {
        if (finished()) {
            done = true;
            break;
        }
        if (w != nullptr && help_once(*w)) continue;
        if (deadline_passed(deadline)) break;
        if (w != nullptr) {
            park_helping(*w, deadline, finished);
        } else if (deadline != nullptr) {
            park.park_until(*deadline);
        } else {
            park.park();
        }
    }
    idle_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    {
        std::lock_guard<std::mutex> guard(idle_mutex_);
        idle_parkers_.erase(std::find(idle_parkers_.begin(), idle_parkers_.end(), &park));
    }
    exempt_.fetch_sub(own, std::memory_order_seq_cst);
    if (own != 0) notify_idle_waiters();  // others' thresholds just dropped
    return done;
}

void scheduler::notify_idle_waiters() {
    std::lock_guard<std::mutex> guard(idle_mutex_);
    for (parker* p : idle_parkers_) p->unpark();
}

bool scheduler::reschedule(record* root, std::coroutine_handle<> h, pool_kind kind, bool always_hop) {
    if (root == nullptr) {
        throw std::logic_error("resume_on()/yield() need a coroutine spawned on an executor");
    }
    worker* w = current_worker();
    if (!always_hop && w != nullptr && w->home->kind == kind) return false;
    root->resume_point = h;
    root->add_ref();
    push(kind, reinterpret_cast<job>(root) | resume_bit, true);
    return true;
}

bool scheduler::yield_now(record* root, std::coroutine_handle<> h) {
    if (root == nullptr) {
        throw std::logic_error("resume_on()/yield() need a coroutine spawned on an executor");
    }
    worker* w = current_worker();
    return reschedule(root, h, w != nullptr ? w->home->kind : root->pool, true);
}

}  // namespace dftracer::detail
