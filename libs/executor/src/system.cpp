#include "system.hpp"

#include <algorithm>
#include <thread>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#elif defined(__APPLE__)
#include <pthread.h>
#endif

namespace dftracer::detail {

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
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(
        reinterpret_cast<void*>(pthread_self())));
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
