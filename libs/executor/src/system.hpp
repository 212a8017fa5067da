// Host queries: CPU counts and thread naming.
#pragma once

#include <cstdint>
#include <string>

namespace dftracer::detail {

/// CPUs this process may run on (affinity mask where available), at least 1.
int available_cpus() noexcept;
/// The io pool's automatic size for a compute pool of `compute` threads.
int default_io_threads(int compute) noexcept;
/// pthread_self() as an integer (0 where there is no pthread).
std::uint64_t current_native_thread() noexcept;
/// Best effort; names longer than the OS limit are truncated.
void name_current_thread(const std::string& name) noexcept;

}  // namespace dftracer::detail
