// A small test-and-test-and-set lock for critical sections of a few
// instructions (queue push/pop, list link/unlink). Falls back to yielding so a
// preempted holder on an oversubscribed machine does not burn a whole slice.
#pragma once

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace dftracer::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

/// Pacing for a short busy wait: a CPU pause for the first rounds, then a
/// yield, so a preempted thread being waited for gets the core back.
class backoff {
public:
    void pause() noexcept {
        if (++rounds_ < 64) {
            cpu_relax();
        } else {
            std::this_thread::yield();
        }
    }

private:
    int rounds_ = 0;
};

class spin_lock {
public:
    void lock() noexcept {
        for (backoff wait; locked_.exchange(true, std::memory_order_acquire);) {
            while (locked_.load(std::memory_order_relaxed)) wait.pause();
        }
    }
    bool try_lock() noexcept {
        return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

}  // namespace dftracer::detail
