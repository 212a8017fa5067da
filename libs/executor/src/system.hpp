// Host queries: CPU counts and thread naming.
#pragma once

#include <cstdint>
#include <string>

namespace dftracer::detail {

/// Nanoseconds on the steady clock's epoch, read cheaply: on x86-64 Linux
/// with an invariant TSC that the kernel itself uses as its clocksource, the
/// TSC scaled by a ratio calibrated once against the steady clock (about 8 ns
/// instead of about 25 ns per read; drift against the steady clock stays
/// within the calibration error, ~10 ppm); elsewhere the steady clock.
std::int64_t fast_now_ns() noexcept;

/// CPUs this process may run on (affinity mask where available), at least 1.
int available_cpus() noexcept;
/// The io pool's automatic size for a compute pool of `compute` threads.
int default_io_threads(int compute) noexcept;
/// pthread_self() as an integer (0 where there is no pthread).
std::uint64_t current_native_thread() noexcept;
/// Best effort; names longer than the OS limit are truncated.
void name_current_thread(const std::string& name) noexcept;

}  // namespace dftracer::detail
