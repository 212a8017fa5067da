// Strands and forks (detail/strand.hpp): how a when_all's children run as
// parts of the task that awaits them.
#include "dftracer/executor/detail/strand.hpp"

#include <memory>

#include "scheduler.hpp"

namespace dftracer::detail {

bool fork_join::start(coroutine_place awaiting, std::coroutine_handle<> continuation, strand* const* strands, std::size_t n) {
    if (n == 0) return false;
    awaiting_ = awaiting;
    continuation_ = continuation;
    pool_ = suspension_pool(awaiting.root);
    // One count per child plus this call's own, dropped last: no child can
    // requeue the awaiting coroutine before it is allowed to suspend.
    remaining_.store(n + 1, std::memory_order_relaxed);
    awaiting.root->add_ref();  // the requeue's, or the strands' keep-alive
    try {
        queue_strands(awaiting.root, strands, n);
    } catch (...) {
        awaiting.root->release();
        throw;
    }
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return true;
    awaiting.root->release();  // every child finished already
    return false;
}

void queue_strands(record* root, strand* const* strands, std::size_t n) {
    root->owner->queue_strands(root, strands, n);
}

void resume_later(coroutine_place place, std::coroutine_handle<> continuation, pool_kind pool) noexcept {
    scheduler& owner = *place.root->owner;
    if (place.on == nullptr) {
        place.root->resume_point = continuation;
        owner.push_from_elsewhere(pool, resume_job(place.root));
        return;
    }
    // The strand's job holds no reference (its fork holds the root until
    // the strand finished): the caller's goes once the job is queued.
    place.on->resume_point = continuation;
    owner.push_from_elsewhere(pool, strand_job(place.on));
    place.root->release();
}

}  // namespace dftracer::detail
