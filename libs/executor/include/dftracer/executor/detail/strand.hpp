// Strands: coroutines that run as parts of the task awaiting them, with no
// record of their own (the children of `when_all` over tasks).
//
// A task's coroutines form chains: a coroutine awaiting a task runs it
// inline, and one of them at a time is suspended or running. The task's
// main chain continues through its record (record::resume_point, a resume
// job). A forked child starts a chain of its own, a strand: it is queued as
// a strand job, runs on any worker of the pool as part of its root task
// (progress shows that task on the worker), and where it continues after a
// suspension is kept in the strand, so a task's strands and its main chain
// never share a resume point.
//
// Lifetime: a strand lives in the promise of its first frame (the child's),
// owned by the fork that started it (in the awaiting coroutine's frame).
// A fork awaited on the task's main chain holds one reference to the root
// record until its last child has finished; nothing on a strand holds one
// (no strand job, no nested fork, no suspension on a strand): the
// outermost fork's reference covers them all, and the root record is
// shared by every worker running a part of the task, so its count is not
// touched per fork.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>

#include "dftracer/executor/types.hpp"

namespace dftracer::detail {

class record;
class fork_join;

/// One forked child's chain of coroutine frames.
struct strand {
    /// Where the strand continues when its job runs next (first: the
    /// child's own start).
    std::coroutine_handle<> resume_point{};
    record* root = nullptr;
    fork_join* owner = nullptr;
};

/// Where a suspended coroutine continues: its task's root record, and the
/// strand it runs on (null: the task's main chain).
struct coroutine_place {
    record* root = nullptr;
    strand* on = nullptr;
};

/// The reference a suspension at `place` holds on its task's root record
/// until it is requeued: one on the main chain, none on a strand (see
/// above). hold_root() adds it, drop_root() drops it unused.
void hold_root(coroutine_place place) noexcept;
void drop_root(coroutine_place place) noexcept;

/// Requeues a suspended coroutine at `continuation` on its own executor's
/// `pool` (through its strand, or its root record's resume point). Takes
/// over the reference hold_root() added. Callable from any thread.
void resume_later(coroutine_place place, std::coroutine_handle<> continuation, pool_kind pool) noexcept;

/// A suspension until tasks finish (of any executor): begin_suspension()
/// before the coroutine can be resumed, then exactly one of
/// end_suspension() (it did not suspend after all) or resume_after_wait()
/// (resume_later(), and the suspension ends). The coroutine's executor
/// keeps its workers until every suspension has ended, so a task finishing
/// after a shutdown still resumes into a live executor.
void begin_suspension(coroutine_place place) noexcept;
void end_suspension(coroutine_place place) noexcept;
void resume_after_wait(coroutine_place place, std::coroutine_handle<> continuation, pool_kind pool) noexcept;

/// Queues the n strands (resume points and roots set) on the pool of the
/// calling worker, as the newest jobs of its own queue, strands[0] to run
/// first (a caller that is not a worker of the root's executor: on the
/// root's pool). Allocates before queuing anything: throws std::bad_alloc
/// with nothing queued.
void queue_strands(record* root, strand* const* strands, std::size_t n);

/// Takes strand s back out of the calling worker's queue if it is still
/// the newest job there (nobody started it): true if taken, and the caller
/// runs it.
bool take_back(strand& s) noexcept;

/// The pool a coroutine of task `root` suspending now continues on: the
/// pool of the calling worker if it belongs to the task's own executor,
/// else the task's home pool.
pool_kind suspension_pool(record* root) noexcept;

/// A set of forked children and the coroutine awaiting them: each child
/// runs on a strand; the last to finish requeues the awaiting coroutine.
/// Thread-safety: run() by the awaiting coroutine, child_done() by each
/// child once, from any worker.
class fork_join {
public:
    /// Runs the n children (each strand's resume point is its coroutine,
    /// its promise already wired to the strand): strands[0] here at once,
    /// the others queued on this worker for thieves and taken back, one by
    /// one, to run here while still queued (the way a fork-join wait
    /// helps). Returns true if the awaiting coroutine must suspend (a child
    /// still runs elsewhere or is suspended: the last to finish requeues
    /// it), false if every child finished here. Throws std::bad_alloc with
    /// nothing run or queued.
    bool run(coroutine_place awaiting, std::coroutine_handle<> continuation, strand* const* strands, std::size_t n);
    /// A child's first frame ended (its result or error is in its promise).
    void child_done() noexcept {
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        // The last: the awaiting coroutine may run (and free this) once
        // requeued; the fork's hold on the root goes with it.
        resume_later(awaiting_, continuation_, pool_);
    }

private:
    std::atomic<std::size_t> remaining_{0};
    coroutine_place awaiting_{};
    std::coroutine_handle<> continuation_{};
    pool_kind pool_ = pool_kind::compute;
};

}  // namespace dftracer::detail
