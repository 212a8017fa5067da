// Our executor's side of each workload, through its public API only.
#include <atomic>
#include <numeric>
#include <thread>

#include "dftracer/executor/task_group.hpp"
#include "sides.hpp"

namespace bench {

using dftracer::executor;
using dftracer::task;

void on_threads(int count, const std::function<void()>& body) {
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i) threads.emplace_back(body);
    for (auto& t : threads) t.join();
}

namespace {

/// Fork-join: both halves as parts of this task.
task<long> fib_task(int n) {
    if (n < 2) co_return n;
    auto [left, right] = co_await dftracer::when_all(fib_task(n - 1), fib_task(n - 2));
    co_return left + right;
}

/// Spawning: the left half a task of its own, with a handle.
task<long> fib_spawning(int n) {
    if (n < 2) co_return n;
    auto left = co_await dftracer::spawn(fib_spawning(n - 1));
    long right = co_await fib_spawning(n - 2);
    co_return co_await left + right;
}

void chain_step(executor& ex, std::atomic<int>& remaining) {
    if (remaining.fetch_sub(1, std::memory_order_relaxed) > 1) {
        ex.submit([&ex, &remaining] { chain_step(ex, remaining); });
    }
}

task<long> leaf(int i) { co_return i; }

task<long> gather(int n) {
    std::vector<task<long>> leaves;
    leaves.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) leaves.push_back(leaf(i));
    const auto values = co_await dftracer::when_all(std::move(leaves));
    co_return std::accumulate(values.begin(), values.end(), 0L);
}

long fib_blocking(executor& ex, int n) {
    if (n < 2) return n;
    auto left = ex.submit([&ex, n] { return fib_blocking(ex, n - 1); });
    const long right = fib_blocking(ex, n - 2);
    return left.get() + right;
}

}  // namespace

contender ours_contender(executor& ex, const inputs& in) {
    const sizes& s = in.size;
    contender c{"dftracer", true, {}};
    c.runs["empty"] = [&ex, n = s.empty_tasks] {
        for (int i = 0; i < n; ++i) ex.submit([] {});
        ex.wait_all();
        return 0L;
    };
    c.runs["fib"] = [&ex, n = s.fib_n] { return ex.run(fib_task(n)); };
    c.runs["fib_spawn"] = [&ex, n = s.fib_n] { return ex.run(fib_spawning(n)); };
    c.runs["chain"] = [&ex, n = s.chain] {
        std::atomic<int> remaining{n};
        ex.submit([&] { chain_step(ex, remaining); });
        ex.wait_all();
        return static_cast<long>(n - remaining.load());
    };
    c.runs["when_all"] = [&ex, n = s.when_all] { return ex.run(gather(n)); };
    c.runs["producers"] = [&ex, p = s.producers, n = s.per_producer] {
        on_threads(p, [&] {
            for (int i = 0; i < n; ++i) ex.submit([] {});
            ex.wait_all();
        });
        return 0L;
    };
    c.runs["producer_bodies"] = [&ex, p = s.producers, n = s.per_producer] {
        on_threads(p, [&] {
            ex.submit([&] {
                  dftracer::task_group g(ex);
                  for (int i = 0; i < n; ++i) g.run([] {});
                  g.wait();
              }).get();
        });
        return 0L;
    };
    c.runs["nested_get"] = [&ex, n = s.nested_fib_n] {
        return ex.submit([&ex, n] { return fib_blocking(ex, n); }).get();
    };
    c.runs["imbalanced"] = [&ex, &units = in.imbalanced_units] {
        return run_imbalanced(units, [&ex](auto fn) { ex.submit(std::move(fn)); }, [&ex] { ex.wait_all(); });
    };
    return c;
}

}  // namespace bench
