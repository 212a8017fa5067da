// Blocking waits from Python: GIL released, interruptible by signals.
#include <chrono>
#include <cmath>

#include "bindings.hpp"
#include "gil.hpp"

namespace dftracer::py {

namespace {

constexpr auto signal_check_interval = std::chrono::milliseconds(100);

template <class WaitSlice>
bool wait_in_slices(std::optional<double> timeout, WaitSlice&& wait_slice) {
    if (timeout && (std::isnan(*timeout) || *timeout < 0)) throw nb::value_error("timeout must be >= 0 or None");
    if (timeout && (std::isinf(*timeout) || *timeout > 1e9)) timeout.reset();  // no deadline
    const auto start = clock::now();
    const auto deadline =
        timeout ? start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(*timeout))
                : clock::time_point::max();
    for (;;) {
        const auto now = clock::now();
        auto slice = std::chrono::duration_cast<clock::duration>(signal_check_interval);
        if (deadline != clock::time_point::max()) slice = std::min(slice, deadline - now);
        if (slice < clock::duration::zero()) slice = clock::duration::zero();
        bool done;
        {
            wait_release released;
            done = wait_slice(slice);
        }
        if (done) return true;
        if (PyErr_CheckSignals() != 0) throw nb::python_error();
        if (clock::now() >= deadline) return false;
    }
}

}  // namespace

bool wait_interruptibly(task_record& rec, std::optional<double> timeout) {
    if (rec.done()) return true;
    return wait_in_slices(timeout, [&](clock::duration slice) {
        auto deadline = clock::now() + slice;
        return wait_for_record(rec, &deadline);
    });
}

bool wait_all_interruptibly(executor& ex, std::optional<double> timeout) {
    return wait_in_slices(timeout, [&](clock::duration slice) { return ex.wait_all_for(slice); });
}

}  // namespace dftracer::py
