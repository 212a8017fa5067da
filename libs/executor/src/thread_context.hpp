// What the calling thread is: a worker of some scheduler (or not), and the
// task it is running. One per thread, no locking needed.
#pragma once

namespace dftracer::detail {

class scheduler;
struct worker;
class record;

struct thread_context {
    scheduler* sched = nullptr;
    worker* self = nullptr;
    record* current = nullptr;  ///< innermost task running on this thread
    int depth = 0;              ///< tasks nested on this thread's stack
    /// The running task (== current) whose finish reference publish_finish()
    /// left for run_claimed()'s caller to drop with the queue's in one atomic
    /// step; `left_linked`: and left it in the worker's live list, for the
    /// caller to retire (see scheduler::retire()). Only for tasks published
    /// from inside their own run() (Python's, or one failed from inside
    /// itself): the others hand their outcome back to run_claimed().
    record* finish_ref_left = nullptr;
    bool left_linked = false;

    static thread_context& get() noexcept {
        thread_local thread_context ctx;
        return ctx;
    }
};

}  // namespace dftracer::detail
