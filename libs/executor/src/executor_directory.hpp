// The live executors by serial(), so that a sampler can follow a wait into
// another executor without holding a pointer that may dangle.
#pragma once

#include <cstdint>
#include <functional>

namespace dftracer {
class executor;
}

namespace dftracer::detail {

/// Process-wide; every member is thread-safe and takes one mutex.
struct executor_directory {
    /// From the executor's constructor, once it is whole.
    static void add(const executor& ex);
    /// First thing in its destructor: returns once no visit of it runs.
    static void remove(const executor& ex) noexcept;
    /// Runs `visit` on the live executor with this serial, under the lock.
    static bool visit(std::uint64_t serial, const std::function<void(const executor&)>& visit);
};

}  // namespace dftracer::detail
