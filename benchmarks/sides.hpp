// The contenders: our executor and, when built with them, oneTBB and Taskflow.
// Each implements the workloads of workloads.hpp in its own idiom. Contenders
// hold references to `in` (and ours to `ex`): both must outlive them.
// Adding a variant of ours (say, a batch submit) is a new contender with the
// workloads it changes: `c.runs["empty"] = ...;` and a line in main.
#pragma once

#include <functional>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "harness.hpp"
#include "workloads.hpp"

namespace bench {

struct inputs {
    sizes size;
    std::vector<long> imbalanced_units;
};

/// Runs `body` on `count` new threads at once and joins them.
void on_threads(int count, const std::function<void()>& body);

contender ours_contender(dftracer::executor& ex, const inputs& in);

#if DFTRACER_BENCH_WITH_TBB
/// oneTBB in a task_arena of `threads` slots under a global_control of as many.
contender onetbb_contender(int threads, const inputs& in);
#endif

#if DFTRACER_BENCH_WITH_TASKFLOW
/// A tf::Executor of `threads` workers.
contender taskflow_contender(int threads, const inputs& in);
#endif

}  // namespace bench
