// The workloads every contender implements, their sizes and shared inputs.
//
// Each side of a workload does the same work in its library's own idiom:
//   (a) empty:      N empty tasks submitted from outside, then wait for all
//   (b) fib:        fib(n) recursively; ours as coroutines forking and
//                   joining both halves (co_await when_all(a, b)), the
//                   anchors with their fork-join groups (no coroutines)
//   (i) fib_spawn:  the same, ours spawning the left half as a task of its
//                   own (co_await spawn, then co_await its handle); the
//                   anchors run (b) again
//   (c) chain:      N tasks, each submitting the next, then wait
//   (e) when_all:   N leaf coroutines awaited together (anchors: a group of N)
//   (f) producers:  P outside threads each submit M empty tasks, then wait
//                   (oneTBB: each thread's body through task_arena::execute,
//                   which runs it in the arena when a slot is free and
//                   otherwise hands it to the arena as a task)
//   (j) producer_bodies: the same P bodies, each handed to the pool as a task
//                   that runs M tasks in a group and waits for them (ours:
//                   submit(body).get(); Taskflow: async(body).get(); oneTBB:
//                   (f) again): (f) as oneTBB runs it
//   (g) nested_get: fib(n) where each level submits a task and blocks on it
//                   (anchors: a nested group run + wait)
//   (h) imbalanced: N tasks of 1-40 us of busy work, same durations everywhere
// ((d) is the idle CPU of our executor, measured by the program itself.)
#pragma once

#include <cstddef>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace bench {

struct sizes {
    int empty_tasks = 1'000'000;
    int fib_n = 30;
    int chain = 100'000;
    int when_all = 10'000;
    int producers = 4;
    int per_producer = 250'000;
    int nested_fib_n = 25;
    int imbalanced = 20'000;

    /// Small enough for a smoke run of a few seconds.
    static sizes quick();
};

struct workload_spec {
    std::string id;     ///< short name for --only and for parsers, e.g. "when_all"
    std::string label;  ///< the letter used in the tables, e.g. "e"
    std::string title;
    std::optional<long> expected;  ///< what every run must return, when known
};

/// The compared workloads in report order, titled with their sizes.
std::vector<workload_spec> workload_specs(const sizes& s);

/// Busy work for the imbalanced set: `units` rounds of a dependent integer
/// mix, returning a value that depends on every round (so it is not elided).
long busy_work(long units);

/// The imbalanced set: the busy-work units of each task, drawn with a fixed
/// seed from 1-40 us (uniform) at the rate this machine runs busy_work,
/// calibrated once; every contender runs exactly these units.
std::vector<long> imbalanced_units(int tasks);

/// One run of the imbalanced set, the same on every side: `submit(fn)` hands
/// each task to the library, `wait()` waits for all; returns the checksum.
template <class Submit, class Wait>
long run_imbalanced(const std::vector<long>& units, Submit&& submit, Wait&& wait) {
    std::vector<long> results(units.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        submit([&results, &units, i] { results[i] = busy_work(units[i]); });
    }
    wait();
    return std::accumulate(results.begin(), results.end(), 0L);
}

}  // namespace bench
