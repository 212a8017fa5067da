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

    static thread_context& get() noexcept {
        thread_local thread_context ctx;
        return ctx;
    }
};

}  // namespace dftracer::detail
