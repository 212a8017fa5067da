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
__extension__ using i128 = __int128;  // GCC/Clang extensions, x86-64 only
__extension__ using u128 = unsigned __int128;
#endif

/// The TSC-to-nanoseconds ratio behind now_ticks(); `usable` is false
/// where the TSC is not trusted (then the steady clock is read instead).
struct tsc_scale {
    bool usable = false;
    std::uint64_t base_tsc = 0;
    std::int64_t base_ns = 0;
    std::uint64_t ns_per_tick_q32 = 0;  // nanoseconds per tick, 32.32 fixed point
};
/// Calibrated by calibrate_clock(), which every executor calls before its
/// workers start (until then now_ticks() reads the steady clock). Set once
/// per process: a tick value stays convertible for the process's life.
extern tsc_scale clock_scale;
/// Calibrates clock_scale once per process (about 5 ms); thread-safe.
void calibrate_clock();

/// A timestamp read as cheaply as this machine allows, in "ticks": on
/// x86-64 Linux with an invariant TSC that the kernel itself uses as its
/// clocksource, the raw TSC (about 10 ns instead of about 25-30 ns per
/// read); elsewhere steady-clock nanoseconds. ticks_to_ns() converts; the
/// hot path stores ticks and leaves the conversion to whoever reads them.
inline std::int64_t now_ticks() noexcept {
#if defined(DFTRACER_TSC_CLOCK)
    if (clock_scale.usable) return static_cast<std::int64_t>(__rdtsc());
#endif
    return steady_ns();
}

/// Nanoseconds on the steady clock's epoch for a now_ticks() value (drift
/// against the steady clock stays within the calibration error, a few ppm).
inline std::int64_t ticks_to_ns(std::int64_t ticks) noexcept {
#if defined(DFTRACER_TSC_CLOCK)
    if (clock_scale.usable) {
        // Signed: another core's TSC may trail the calibrating core's by a tick.
        const std::int64_t since = ticks - static_cast<std::int64_t>(clock_scale.base_tsc);
        return clock_scale.base_ns +
               static_cast<std::int64_t>((static_cast<i128>(since) * static_cast<i128>(clock_scale.ns_per_tick_q32)) >>
                                         32);
    }
#endif
    return ticks;
}

/// How many ticks make `ns` nanoseconds (for thresholds compared with tick
/// differences; call after calibrate_clock()).
inline std::int64_t ns_to_ticks(std::int64_t ns) noexcept {
#if defined(DFTRACER_TSC_CLOCK)
    if (clock_scale.usable) {
        return static_cast<std::int64_t>((static_cast<u128>(ns) << 32) / clock_scale.ns_per_tick_q32);
    }
#endif
    return ns;
}

/// Nanoseconds on the steady clock's epoch, read cheaply (see now_ticks()).
inline std::int64_t fast_now_ns() noexcept { return ticks_to_ns(now_ticks()); }

/// CPUs this process may run on (affinity mask where available), at least 1.
int available_cpus() noexcept;
/// The io pool's automatic size for a compute pool of `compute` threads.
int default_io_threads(int compute) noexcept;
/// pthread_self() as an integer (0 where there is no pthread).
std::uint64_t current_native_thread() noexcept;
/// The kernel's id of the calling thread (Linux gettid(), the tid DFTracer
/// records and `ps -L` shows; macOS pthread_threadid_np()); 0 elsewhere.
std::int64_t current_os_thread() noexcept;
/// Best effort; names longer than the OS limit are truncated.
void name_current_thread(const std::string& name) noexcept;

}  // namespace dftracer::detail
