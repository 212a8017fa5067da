// One-shot-at-a-time blocking for a single thread: park() sleeps until
// unpark() (a token is kept if unpark() comes first). Used for idle workers and
// for threads blocked on a task. Portable timed waits, unlike atomic::wait.
#pragma once

#include <condition_variable>
#include <mutex>

#include "dftracer/executor/types.hpp"

namespace dftracer::detail {

class parker {
public:
    /// Wakes the parked thread, or lets its next park() return at once.
    void unpark() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            token_ = true;
        }
        cv_.notify_one();
    }
    /// Blocks until unpark(); consumes the token.
    void park() {
        std::unique_lock<std::mutex> guard(mutex_);
        cv_.wait(guard, [this] { return token_; });
        token_ = false;
    }
    /// Blocks until unpark() or the deadline. Returns true if unparked.
    bool park_until(clock::time_point deadline) {
        std::unique_lock<std::mutex> guard(mutex_);
        bool got = cv_.wait_until(guard, deadline, [this] { return token_; });
        token_ = false;
        return got;
    }
    /// Drops a pending token (call before re-checking a wake condition).
    void reset() {
        std::lock_guard<std::mutex> guard(mutex_);
        token_ = false;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool token_ = false;
};

}  // namespace dftracer::detail
