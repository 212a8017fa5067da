// Watchdog bindings land with the watchdog library.
#include "bindings.hpp"

namespace dftracer::py {
void bind_watchdog(nb::module_&) {}
}  // namespace dftracer::py
