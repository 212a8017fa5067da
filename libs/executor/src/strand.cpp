// Strands and forks (detail/strand.hpp): how a when_all's children run as
// parts of the task that awaits them.
#include "dftracer/executor/detail/strand.hpp"

#include <memory>

#include "scheduler.hpp"

namespace dftracer::detail {

bool fork_join::run(coroutine_place awaiting, std::coroutine_handle<> continuation, strand* const* strands,
                    std::size_t n) {
    if (n == 0) return false;
    awaiting_ = awaiting;
    continuation_ = continuation;
    pool_ = suspension_pool(awaiting.root);
    // One count per child plus this call's own, dropped last: no child can
    // requeue the awaiting coroutine (which frees this) before it is allowed
    // to suspend.
    remaining_.store(n + 1, std::memory_order_relaxed);
    hold_root(awaiting);  // the requeue's, and the strands' keep-alive
    if (n > 1) {
        try {
            queue_strands(awaiting.root, strands + 1, n - 1);
        } catch (...) {
            drop_root(awaiting);
            throw;
        }
    }
    strands[0]->resume_point.resume();
    for (std::size_t i = 1; i < n && take_back(*strands[i]); ++i) strands[i]->resume_point.resume();
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return true;
    drop_root(awaiting);  // every child finished already
    return false;
}

void queue_strands(record* root, strand* const* strands, std::size_t n) {
    root->owner->queue_strands(root, strands, n);
}

void hold_root(coroutine_place place) noexcept {
    if (place.on == nullptr) place.root->add_ref();
}

void drop_root(coroutine_place place) noexcept {
    if (place.on == nullptr) place.root->release();
}

bool take_back(strand& s) noexcept { return s.root->owner->take_back(s); }

namespace {

/// The job that continues a suspended coroutine at `continuation`: through
/// its strand, or its root record's resume point.
job continuation_job(coroutine_place place, std::coroutine_handle<> continuation) noexcept {
    if (place.on == nullptr) {
        place.root->resume_point = continuation;
        return resume_job(place.root);
    }
    // No reference: the outermost fork holds the root until this strand
    // has finished.
    place.on->resume_point = continuation;
    return strand_job(place.on);
}

}  // namespace

void resume_later(coroutine_place place, std::coroutine_handle<> continuation, pool_kind pool) noexcept {
    place.root->owner->push_from_elsewhere(pool, continuation_job(place, continuation));
}

void begin_suspension(coroutine_place place) noexcept { place.root->owner->begin_suspension(); }

void end_suspension(coroutine_place place) noexcept { place.root->owner->end_suspension(); }

void resume_after_wait(coroutine_place place, std::coroutine_handle<> continuation, pool_kind pool) noexcept {
    place.root->owner->push_from_elsewhere(pool, continuation_job(place, continuation), true);
}

}  // namespace dftracer::detail
