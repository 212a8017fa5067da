// Helpers for executor tests: events and latches with generous timeouts, so
// a broken feature fails a test instead of hanging the suite.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace dftracer::test {

inline constexpr auto generous = std::chrono::seconds(30);

/// A one-shot event: set() once, wait() until set.
class event {
public:
    void set() {
        {
            std::lock_guard<std::mutex> guard(m_);
            set_ = true;
        }
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds timeout = generous) {
        std::unique_lock<std::mutex> guard(m_);
        return cv_.wait_for(guard, timeout, [this] { return set_; });
    }
    bool is_set() {
        std::lock_guard<std::mutex> guard(m_);
        return set_;
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool set_ = false;
};

}  // namespace dftracer::test
