// Measurements of our executor alone: what a feature costs on the empty-task
// workload (interleaved off/on pairs), and the CPU an idle executor uses.
#pragma once

#include <vector>

#include "dftracer/executor/executor.hpp"
#include "harness.hpp"

namespace bench {

/// Watchdog (when built with it) at 250 ms and 1 ms intervals, and the
/// finished-task history; each an interleaved off/on pair of `empty_tasks`
/// empty tasks submitted to `ex` (or to a twin executor without history).
std::vector<overhead_result> feature_overheads(dftracer::executor& ex, int threads, int empty_tasks, const plan& p);

struct idle_cpu {
    double cpu_ms = 0;  ///< process CPU time used over the window
    double wall_s = 0;
    double percent_of_one_core() const { return 100.0 * cpu_ms / 1000.0 / wall_s; }
};

/// The process's CPU use while it sleeps for a second, after a 1.5 s settle
/// (workers idle for a second first return the block pool's spare memory, a
/// one-time cost). Call with no other thread pool alive, so only our idle
/// executor counts.
idle_cpu measure_idle_cpu();

}  // namespace bench
