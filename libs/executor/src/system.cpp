#include "system.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#if defined(DFTRACER_TSC_CLOCK)
#include <cpuid.h>
#endif

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <pthread.h>
#endif

namespace dftracer::detail {

namespace {

#if defined(DFTRACER_TSC_CLOCK)
bool invariant_tsc() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
    __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
    return (edx & (1u << 8)) != 0;
}

bool kernel_trusts_tsc() {
    std::ifstream source("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string name;
    return static_cast<bool>(source >> name) && name == "tsc";
}

/// One reading of both clocks: the steady clock between two TSC reads,
/// paired with their midpoint. Of a few tries, the one whose TSC reads lie
/// closest together: a try that an interrupt or a preemption split would
/// pair a steady-clock reading with a TSC value microseconds away.
struct clock_pair {
    std::int64_t ns = 0;
    std::uint64_t tsc = 0;
};
clock_pair read_both_clocks() noexcept {
    clock_pair best;
    std::uint64_t best_gap = ~std::uint64_t{0};
    for (int i = 0; i < 16; ++i) {
        const std::uint64_t before = __rdtsc();
        const std::int64_t ns = steady_ns();
        const std::uint64_t after = __rdtsc();
        if (after < before || after - before >= best_gap) continue;
        best_gap = after - before;
        best = {ns, before + (after - before) / 2};
    }
    return best;
}

tsc_scale calibrate() {
    tsc_scale scale;
    try {
        if (!invariant_tsc() || !kernel_trusts_tsc()) return scale;
    } catch (...) {
        return scale;
    }
    // A 5 ms window between two well-paired readings: a few ppm of error
    // (a tick value converted a minute later is off by well under a
    // millisecond, so the watchdog's "running for" stays right).
    const clock_pair start = read_both_clocks();
    while (steady_ns() - start.ns < 5'000'000) {
    }
    const clock_pair end = read_both_clocks();
    if (end.tsc <= start.tsc || end.ns <= start.ns) return scale;
    scale.ns_per_tick_q32 = (static_cast<u128>(end.ns - start.ns) << 32) / (end.tsc - start.tsc);
    scale.base_tsc = start.tsc;
    scale.base_ns = start.ns;
    scale.usable = scale.ns_per_tick_q32 != 0;
    return scale;
}
#endif

}  // namespace

tsc_scale clock_scale;

void calibrate_clock() {
#if defined(DFTRACER_TSC_CLOCK)
    static std::once_flag once;
    std::call_once(once, [] { clock_scale = calibrate(); });
#endif
}

int available_cpus() noexcept {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    return std::max(1u, std::thread::hardware_concurrency());
}

int default_io_threads(int compute) noexcept { return std::clamp(compute / 2, 2, 8); }

std::uint64_t current_native_thread() noexcept {
#if defined(__linux__) || defined(__APPLE__)
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(reinterpret_cast<void*>(pthread_self())));
#else
    return 0;
#endif
}

std::int64_t current_os_thread() noexcept {
#if defined(__linux__)
    return static_cast<std::int64_t>(::syscall(SYS_gettid));  // glibc < 2.30 has no gettid()
#elif defined(__APPLE__)
    std::uint64_t id = 0;
    pthread_threadid_np(nullptr, &id);
    return static_cast<std::int64_t>(id);
#else
    return 0;
#endif
}

void name_current_thread(const std::string& name) noexcept {
    std::string shortened = name.substr(0, 15);
#if defined(__linux__)
    pthread_setname_np(pthread_self(), shortened.c_str());
#elif defined(__APPLE__)
    pthread_setname_np(shortened.c_str());
#else
    (void)shortened;
#endif
}

}  // namespace dftracer::detail
