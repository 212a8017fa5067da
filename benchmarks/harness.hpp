// The benchmark harness: contenders (a library, or a variant of ours, with its
// implementation of some workloads), the interleaved measurement of one
// workload across contenders, and the statistics reported for it.
//
// A round runs every contender of a workload once, in an order rotated by one
// each round (round r starts with contender r mod k), with a short pause
// between runs so every pool is idle when the next starts: on a shared, noisy
// machine all sides then see the same slow and fast phases, and the ratio of
// two sides within one round is the fair comparison. The report gives each
// side's median over rounds and, for each of ours against each anchor, the
// median of the per-round ratios (anchor time / our time: > 1 means we are
// faster) with their min-max.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace bench {

/// One run of a workload on one contender. Returns a check value that every
/// contender of the workload must agree on (0 where there is nothing to check).
using run_fn = std::function<long()>;

/// A library (or a variant of ours) and the workloads it implements, keyed by
/// workload id. A workload it does not implement is simply absent.
struct contender {
    std::string name;
    bool ours = false;  ///< ours are compared against every anchor (ours == false)
    std::map<std::string, run_fn> runs;
};

/// How a workload is measured.
struct plan {
    int rounds = 5;
    int warmup = 1;  ///< untimed runs of each side before the rounds
    std::chrono::milliseconds pause{20};
};

struct side_result {
    std::string name;
    bool ours = false;
    std::vector<double> rounds_ms;
    double median_ms = 0;
};

/// `ours` against `anchor`: per-round ratios anchor_ms / ours_ms (> 1: ours faster).
struct ratio_result {
    std::string ours;
    std::string anchor;
    std::vector<double> rounds;
    double median = 0;
    double min = 0;
    double max = 0;
};

struct workload_result {
    workload_spec spec;
    std::vector<side_result> sides;
    std::vector<ratio_result> ratios;
};

double median(std::vector<double> samples);

/// Runs the workload on every contender implementing it, interleaved as
/// described above. Throws std::runtime_error if a run's check value differs
/// from spec.expected or from another run's (a wrong implementation must not
/// produce a figure).
workload_result measure(const workload_spec& spec, const std::vector<contender>& contenders, const plan& p);

/// An A/B pair measured interleaved: the same work with a feature off and on.
struct overhead_result {
    std::string feature;
    std::vector<double> off_ms;
    std::vector<double> on_ms;
    double off_median_ms = 0;
    double on_median_ms = 0;
    double throughput_on_over_off = 0;  ///< median of per-round off / on
};

overhead_result measure_overhead(const std::string& feature, const std::function<void()>& off,
                                 const std::function<void()>& on, const plan& p);

}  // namespace bench
