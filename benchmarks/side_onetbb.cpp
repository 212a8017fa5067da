// oneTBB's side of each workload: task_group run + wait inside one task_arena.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <memory>
#include <numeric>

#include "sides.hpp"

namespace bench {
namespace {

/// The pool: at most `threads` threads run TBB work, all in this arena (the
/// thread calling execute() takes one of its slots).
struct pool {
    explicit pool(int threads)
        : limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads)), arena(threads) {}
    tbb::global_control limit;
    tbb::task_arena arena;
};

long fib(int n) {
    if (n < 2) return n;
    long left = 0;
    tbb::task_group g;
    g.run([&] { left = fib(n - 1); });
    const long right = fib(n - 2);
    g.wait();
    return left + right;
}

void chain_step(tbb::task_group& g, std::atomic<int>& remaining) {
    if (remaining.fetch_sub(1, std::memory_order_relaxed) > 1) {
        g.run([&g, &remaining] { chain_step(g, remaining); });
    }
}

}  // namespace

contender onetbb_contender(int threads, const inputs& in) {
    const sizes& s = in.size;
    auto p = std::make_shared<pool>(threads);
    // Every run enters the arena; `p` keeps it alive as long as the contender.
    auto in_arena = [p](auto body) { return [p, body] { return p->arena.execute(body); }; };
    contender c{"oneTBB", false, {}};
    c.runs["empty"] = in_arena([n = s.empty_tasks] {
        tbb::task_group g;
        for (int i = 0; i < n; ++i) g.run([] {});
        g.wait();
        return 0L;
    });
    c.runs["fib"] = in_arena([n = s.fib_n] { return fib(n); });
    c.runs["fib_spawn"] = c.runs["fib"];  // one fork-join idiom for both
    c.runs["chain"] = in_arena([n = s.chain] {
        std::atomic<int> remaining{n};
        tbb::task_group g;
        g.run([&] { chain_step(g, remaining); });
        g.wait();
        return static_cast<long>(n - remaining.load());
    });
    c.runs["when_all"] = in_arena([n = s.when_all] {
        std::vector<long> values(static_cast<std::size_t>(n));
        tbb::task_group g;
        for (int i = 0; i < n; ++i) g.run([&values, i] { values[static_cast<std::size_t>(i)] = i; });
        g.wait();
        return std::accumulate(values.begin(), values.end(), 0L);
    });
    // Each producer enters the arena and runs its tasks into its own group;
    // a producer finding no free slot hands its body to the arena and waits.
    c.runs["producers"] = [p, producers = s.producers, n = s.per_producer] {
        on_threads(producers, [&] {
            p->arena.execute([&] {
                tbb::task_group g;
                for (int i = 0; i < n; ++i) g.run([] {});
                g.wait();
            });
        });
        return 0L;
    };
    c.runs["producer_bodies"] = c.runs["producers"];  // (f)'s execute() already hands bodies over
    c.runs["nested_get"] = in_arena([n = s.nested_fib_n] { return fib(n); });
    c.runs["imbalanced"] = in_arena([&units = in.imbalanced_units] {
        tbb::task_group g;
        return run_imbalanced(units, [&g](auto fn) { g.run(std::move(fn)); }, [&g] { g.wait(); });
    });
    return c;
}

}  // namespace bench
