// Blocking for one thread at a time: park() sleeps until unpark(); an
// unpark() that comes first leaves a token so the next park() returns at once.
// Used for idle workers and for threads blocked on a task.
//
// On Linux this is a futex word (unpark on a thread that is not parked costs
// one atomic exchange, no system call); elsewhere a mutex and condition
// variable. Both support timed parks.
#pragma once

#include <atomic>
#include <cstdint>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#else
#include <condition_variable>
#include <mutex>
#endif

#include "dftracer/executor/types.hpp"

namespace dftracer::detail {

#if defined(__linux__)

class parker {
public:
    void unpark() noexcept {
        if (state_.exchange(token, std::memory_order_release) == parked) {
            syscall(SYS_futex, &state_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
        }
    }
    void park() noexcept { park_impl(nullptr); }
    /// True if unparked, false if the deadline passed first.
    bool park_until(clock::time_point deadline) noexcept { return park_impl(&deadline); }

private:
    static constexpr std::uint32_t empty = 0, token = 1, parked = 2;

    bool park_impl(const clock::time_point* deadline) noexcept {
        std::uint32_t expected = token;
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return true;
        expected = empty;
        if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acquire)) {
            state_.store(empty, std::memory_order_relaxed);  // a token arrived meanwhile
            return true;
        }
        while (state_.load(std::memory_order_acquire) == parked) {
            timespec relative{};
            timespec* timeout = nullptr;
            if (deadline != nullptr) {
                auto left = *deadline - clock::now();
                if (left <= clock::duration::zero()) break;
                auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
                relative.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
                relative.tv_nsec = static_cast<long>(ns % 1'000'000'000);
                timeout = &relative;
            }
            syscall(SYS_futex, &state_, FUTEX_WAIT_PRIVATE, parked, timeout, nullptr, 0);
        }
        // Either a token replaced `parked`, or we timed out: leave `empty`.
        return state_.exchange(empty, std::memory_order_acquire) == token;
    }

    std::atomic<std::uint32_t> state_{empty};
};

#else

class parker {
public:
    void unpark() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            token_ = true;
        }
        cv_.notify_one();
    }
    void park() {
        std::unique_lock<std::mutex> guard(mutex_);
        cv_.wait(guard, [this] { return token_; });
        token_ = false;
    }
    bool park_until(clock::time_point deadline) {
        std::unique_lock<std::mutex> guard(mutex_);
        bool got = cv_.wait_until(guard, deadline, [this] { return token_; });
        token_ = false;
        return got;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool token_ = false;
};

#endif

}  // namespace dftracer::detail
