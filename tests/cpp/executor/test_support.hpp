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

/// Holds a task on its worker until the test lets it go:
///
///     test::gate gate;
///     auto h = ex.submit([&] { gate.hold(); });
///     ASSERT_TRUE(gate.wait_held());  // the task is running now
///     ...
///     gate.open();
class gate {
public:
    /// In the task: say it started, then block until open().
    void hold() {
        started_.set();
        release_.wait();
    }
    /// True once a task is inside hold().
    bool wait_held(std::chrono::milliseconds timeout = generous) { return started_.wait(timeout); }
    void open() { release_.set(); }

private:
    event started_, release_;
};

}  // namespace dftracer::test
