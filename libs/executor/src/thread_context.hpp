// What the calling thread is: a worker of some scheduler (or not), and the
// task it is running. One per thread, no locking needed.
#pragma once

#include <cstdint>

namespace dftracer::detail {

class scheduler;
struct worker;
class record;
struct submit_seat;

struct thread_context {
    scheduler* sched = nullptr;
    worker* self = nullptr;
    record* current = nullptr;  ///< innermost task running on this thread
    int depth = 0;              ///< tasks nested on this thread's stack
    /// Off the pools: the outside seat last used, and its executor's
    /// serial() (see scheduler::submitting_seat()).
    std::uint64_t seat_serial = 0;
    submit_seat* seat = nullptr;

    static thread_context& get() noexcept {
        thread_local thread_context ctx;
        return ctx;
    }
};

}  // namespace dftracer::detail
