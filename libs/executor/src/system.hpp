// Host queries: a cheap clock, CPU counts and thread naming.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#if defined(__x86_64__) && defined(__linux__)
#include <x86intrin.h>
#define DFTRACER_TSC_CLOCK 1
#endif

namespace dftracer::detail {

/// Nanoseconds on the steady clock's epoch (the portable, slower read).
inline std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

#if defined(DFTRACER_TSC_CLOCK)
__extension__ using u128 = unsigned __int128;  // GCC/Clang extension, x86-64 only
#endif

/// The TSC-to-nanoseconds ratio behind fast_now_ns(); `usable` is false
/// where the TSC is not trusted (then the steady clock is read instead).
struct tsc_scale {
    bool usable = false;
    std::uint64_t base_tsc = 0;
    std::int64_t base_ns = 0;
    std::uint64_t ns_per_tick_q32 = 0;  // nanoseconds per tick, 32.32 fixed point
};
/// Calibrated by calibrate_clock(), which every executor calls before its
/// workers start (until then fast_now_ns() reads the steady clock).
extern tsc_scale clock_scale;
/// Calibrates clock_scale once per process (about 2 ms); thread-safe.
void calibrate_clock();

/// Nanoseconds on the steady clock's epoch, read cheaply: on x86-64 Linux
/// with an invariant TSC that the kernel itself uses as its clocksource, the
/// TSC scaled by a ratio calibrated once against the steady clock (about
/// 10 ns instead of about 25-30 ns per read; drift against the steady clock
/// stays within the calibration error, ~10 ppm); elsewhere the steady clock.
inline std::int64_t fast_now_ns() noexcept {
#if defined(DFTRACER_TSC_CLOCK)
    if (clock_scale.usable) {
        const std::uint64_t ticks = __rdtsc() - clock_scale.base_tsc;
        return clock_scale.base_ns +
               static_cast<std::int64_t>((static_cast<u128>(ticks) * clock_scale.ns_per_tick_q32) >> 32);
    }
#endif
    return steady_ns();
}

/// CPUs this process may run on (affinity mask where available), at least 1.
int available_cpus() noexcept;
/// The io pool's automatic size for a compute pool of `compute` threads.
int default_io_threads(int compute) noexcept;
/// pthread_self() as an integer (0 where there is no pthread).
std::uint64_t current_native_thread() noexcept;
/// Best effort; names longer than the OS limit are truncated.
void name_current_thread(const std::string& name) noexcept;

}  // namespace dftracer::detail
