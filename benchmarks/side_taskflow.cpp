// Taskflow's side of each workload, in its own idioms: silent_async from
// outside + wait_for_all, and a TaskGroup with corun() where a task waits for
// the tasks it started (Taskflow's fork-join; it has no coroutines, and a
// blocking future get() inside a task would not help, so corun is its way).
#include <atomic>
#include <memory>
#include <numeric>
#include <taskflow/taskflow.hpp>

#include "sides.hpp"

namespace bench {
namespace {

long fib(tf::Executor& ex, int n) {
    if (n < 2) return n;
    long left = 0;
    tf::TaskGroup group = ex.task_group();
    group.silent_async([&ex, &left, n] { left = fib(ex, n - 1); });
    const long right = fib(ex, n - 2);
    group.corun();
    return left + right;
}

void chain_step(tf::Executor& ex, std::atomic<int>& remaining) {
    if (remaining.fetch_sub(1, std::memory_order_relaxed) > 1) {
        ex.silent_async([&ex, &remaining] { chain_step(ex, remaining); });
    }
}

}  // namespace

contender taskflow_contender(int threads, const inputs& in) {
    const sizes& s = in.size;
    auto ex = std::make_shared<tf::Executor>(static_cast<std::size_t>(threads));
    // Runs `body` as a task of the executor (TaskGroup needs a worker) and waits.
    auto on_worker = [ex](auto body) { return [ex, body] { return ex->async([&] { return body(*ex); }).get(); }; };
    contender c{"Taskflow", false, {}};
    c.runs["empty"] = [ex, n = s.empty_tasks] {
        for (int i = 0; i < n; ++i) ex->silent_async([] {});
        ex->wait_for_all();
        return 0L;
    };
    c.runs["fib"] = on_worker([n = s.fib_n](tf::Executor& e) { return fib(e, n); });
    c.runs["fib_spawn"] = c.runs["fib"];  // one fork-join idiom for both
    c.runs["chain"] = [ex, n = s.chain] {
        std::atomic<int> remaining{n};
        ex->silent_async([&] { chain_step(*ex, remaining); });
        ex->wait_for_all();
        return static_cast<long>(n - remaining.load());
    };
    c.runs["when_all"] = on_worker([n = s.when_all](tf::Executor& e) {
        std::vector<long> values(static_cast<std::size_t>(n));
        tf::TaskGroup group = e.task_group();
        for (int i = 0; i < n; ++i) group.silent_async([&values, i] { values[static_cast<std::size_t>(i)] = i; });
        group.corun();
        return std::accumulate(values.begin(), values.end(), 0L);
    });
    c.runs["producers"] = [ex, producers = s.producers, n = s.per_producer] {
        on_threads(producers, [&] {
            for (int i = 0; i < n; ++i) ex->silent_async([] {});
            ex->wait_for_all();
        });
        return 0L;
    };
    c.runs["producer_bodies"] = [ex, producers = s.producers, n = s.per_producer] {
        on_threads(producers, [&] {
            ex->async([&] {
                  tf::TaskGroup group = ex->task_group();
                  for (int i = 0; i < n; ++i) group.silent_async([] {});
                  group.corun();
              }).get();
        });
        return 0L;
    };
    c.runs["nested_get"] = on_worker([n = s.nested_fib_n](tf::Executor& e) { return fib(e, n); });
    c.runs["imbalanced"] = [ex, &units = in.imbalanced_units] {
        return run_imbalanced(
            units, [&ex](auto fn) { ex->silent_async(std::move(fn)); }, [&ex] { ex->wait_for_all(); });
    };
    return c;
}

}  // namespace bench
