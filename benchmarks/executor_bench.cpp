// Executor benchmark: per-task overhead, recursive coroutines, dependent
// chains and idle CPU, each against oneTBB in the same run; and, when built
// with the watchdog, the empty-task throughput with a watchdog watching the
// executor against none, interleaved in the same run.
//
// Usage: executor_bench [--threads N] [--repeat R] [--quick]
// Prints a table of median times and ratios (> 1 means faster than TBB).
// Each of (a)-(c) alternates one run of ours with one run of TBB (swapping
// which goes first), with a short pause between runs so both pools are idle
// when the other starts: on a shared, noisy machine both sides then see the
// same slow and fast phases.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dftracer/executor/executor.hpp"
#if DFTRACER_BENCH_WITH_WATCHDOG
#include "dftracer/watchdog/watchdog.hpp"
#endif

#if DFTRACER_BENCH_WITH_TBB
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#endif

using namespace dftracer;
using bench_clock = std::chrono::steady_clock;

namespace {

struct options {
    int threads = 2;
    int repeat = 5;
    int empty_tasks = 1'000'000;
    int fib_n = 30;
    int chain = 100'000;
};

double time_ms(const std::function<void()>& body) {
    auto start = bench_clock::now();
    body();
    return std::chrono::duration<double, std::milli>(bench_clock::now() - start).count();
}

double median(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

double median_ms(int repeat, const std::function<void()>& body) {
    std::vector<double> samples;
    for (int i = 0; i < repeat; ++i) samples.push_back(time_ms(body));
    return median(std::move(samples));
}

struct pair_ms {
    double ours;
    double other;
};

/// Alternates `ours` and `other` (swapping which goes first each round) and
/// returns each side's median; `other` may be empty (then it reports -1).
pair_ms interleaved_ms(int repeat, const std::function<void()>& ours, const std::function<void()>& other) {
    std::vector<double> a, b;
    auto run = [](const std::function<void()>& body, std::vector<double>& samples) {
        samples.push_back(time_ms(body));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
    for (int i = 0; i < repeat; ++i) {
        if (!other) {
            run(ours, a);
        } else if (i % 2 == 0) {
            run(ours, a);
            run(other, b);
        } else {
            run(other, b);
            run(ours, a);
        }
    }
    return {median(std::move(a)), b.empty() ? -1.0 : median(std::move(b))};
}

double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto secs = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return secs(usage.ru_utime) + secs(usage.ru_stime);
}

// ---------------------------------------------------------------- ours

task<long> fib_task(int n) {
    if (n < 2) co_return n;
    auto left = co_await spawn(fib_task(n - 1));
    long right = co_await fib_task(n - 2);
    co_return co_await left + right;
}

void chain_step(executor& ex, std::atomic<int>& remaining) {
    if (remaining.fetch_sub(1, std::memory_order_relaxed) > 1) {
        ex.submit([&ex, &remaining] { chain_step(ex, remaining); });
    }
}

// ---------------------------------------------------------------- TBB

#if DFTRACER_BENCH_WITH_TBB
long fib_tbb(int n) {
    if (n < 2) return n;
    long left = 0;
    tbb::task_group g;
    g.run([&] { left = fib_tbb(n - 1); });
    long right = fib_tbb(n - 2);
    g.wait();
    return left + right;
}

void chain_step_tbb(tbb::task_group& g, std::atomic<int>& remaining) {
    if (remaining.fetch_sub(1, std::memory_order_relaxed) > 1) {
        g.run([&g, &remaining] { chain_step_tbb(g, remaining); });
    }
}
#endif

struct row {
    std::string name;
    double ours_ms;
    double tbb_ms;  // < 0 when not measured
    std::string note;
};

#if DFTRACER_BENCH_WITH_WATCHDOG
// Off and on runs alternate (and swap order each round) so drift and
// warm-up hit both alike; each side reports its median.
struct watchdog_figures {
    double off_ms;
    double on_ms;
};

watchdog_figures empty_tasks_with_watchdog(executor& ex, const options& opt, std::chrono::milliseconds interval) {
    auto run_empty = [&] {
        auto start = bench_clock::now();
        for (int i = 0; i < opt.empty_tasks; ++i) ex.submit([] {});
        ex.wait_all();
        return std::chrono::duration<double, std::milli>(bench_clock::now() - start).count();
    };
    auto run_watched = [&] {
        watchdog_config config;  // documented defaults, except the interval
        config.interval = interval;
        watchdog wd(config);
        wd.watch(ex);
        const double ms = run_empty();
        wd.unwatch(ex);
        return ms;
    };
    std::vector<double> off, on;
    for (int i = 0; i < opt.repeat; ++i) {
        if (i % 2 == 0) {  // alternate which side goes first
            off.push_back(run_empty());
            on.push_back(run_watched());
        } else {
            on.push_back(run_watched());
            off.push_back(run_empty());
        }
    }
    std::sort(off.begin(), off.end());
    std::sort(on.begin(), on.end());
    return {off[off.size() / 2], on[on.size() / 2]};
}

row watchdog_row(std::chrono::milliseconds interval, const watchdog_figures& f) {
    char note[128];
    std::snprintf(note, sizeof note, "off %.2f ms; throughput on/off %.3f", f.off_ms, f.off_ms / f.on_ms);
    return {"(a) same, watchdog on (" + std::to_string(interval.count()) + " ms interval)", f.on_ms, -1, note};
}
#endif

void print(const std::vector<row>& rows) {
    std::printf("\n%-40s %12s %12s %10s\n", "benchmark", "dftracer", "oneTBB", "ratio");
    std::printf("%-40s %12s %12s %10s\n", "", "(ms)", "(ms)", "(TBB/ours)");
    for (const auto& r : rows) {
        if (r.tbb_ms >= 0) {
            std::printf("%-40s %12.2f %12.2f %9.2fx %s\n", r.name.c_str(), r.ours_ms, r.tbb_ms, r.tbb_ms / r.ours_ms,
                        r.note.c_str());
        } else {
            std::printf("%-40s %12.3f %12s %10s %s\n", r.name.c_str(), r.ours_ms, "-", "-", r.note.c_str());
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
            opt.threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc)
            opt.repeat = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--quick")) {
            opt.empty_tasks = 100'000;
            opt.fib_n = 22;
            opt.chain = 10'000;
            opt.repeat = 1;
        } else {
            std::fprintf(stderr, "usage: %s [--threads N] [--repeat R] [--quick]\n", argv[0]);
            return 2;
        }
    }
    std::printf("executor_bench: %d compute threads, median of %d runs\n", opt.threads, opt.repeat);
    std::vector<row> rows;

    executor ex(executor_config{.threads = opt.threads, .io_threads = 1});
    ex.submit([] {}).get();  // warm up

    auto ours_empty_run = [&] {
        for (int i = 0; i < opt.empty_tasks; ++i) ex.submit([] {});
        ex.wait_all();
    };
    long fib_result = 0;
    auto ours_fib_run = [&] { fib_result = ex.run(fib_task(opt.fib_n)); };
    auto ours_chain_run = [&] {
        std::atomic<int> remaining{opt.chain};
        ex.submit([&] { chain_step(ex, remaining); });
        ex.wait_all();
    };
    std::function<void()> tbb_empty_run, tbb_fib_run, tbb_chain_run;
#if DFTRACER_BENCH_WITH_TBB
    // Destroyed before (d), so TBB's threads do not count in our idle CPU.
    auto limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                       static_cast<std::size_t>(opt.threads));
    auto arena_owner = std::make_unique<tbb::task_arena>(opt.threads);
    tbb::task_arena& arena = *arena_owner;
    arena.execute([] {
        tbb::task_group warm;
        warm.run([] {});
        warm.wait();
    });
    long tbb_fib_result = 0;
    tbb_empty_run = [&] {
        arena.execute([&] {
            tbb::task_group g;
            for (int i = 0; i < opt.empty_tasks; ++i) g.run([] {});
            g.wait();
        });
    };
    tbb_fib_run = [&] { arena.execute([&] { tbb_fib_result = fib_tbb(opt.fib_n); }); };
    tbb_chain_run = [&] {
        arena.execute([&] {
            std::atomic<int> remaining{opt.chain};
            tbb::task_group g;
            g.run([&] { chain_step_tbb(g, remaining); });
            g.wait();
        });
    };
#endif
    const auto [ours_empty, tbb_empty] = interleaved_ms(opt.repeat, ours_empty_run, tbb_empty_run);
    const auto [ours_fib, tbb_fib] = interleaved_ms(opt.repeat, ours_fib_run, tbb_fib_run);
#if DFTRACER_BENCH_WITH_TBB
    if (tbb_fib_result != fib_result) std::fprintf(stderr, "fib mismatch: %ld vs %ld\n", tbb_fib_result, fib_result);
#endif
    const auto [ours_chain, tbb_chain] = interleaved_ms(opt.repeat, ours_chain_run, tbb_chain_run);
#if DFTRACER_BENCH_WITH_TBB
    tbb_empty_run = tbb_fib_run = tbb_chain_run = nullptr;
    arena_owner.reset();
    limit.reset();
#endif
    rows.push_back(
        {"(a) " + std::to_string(opt.empty_tasks) + " empty tasks, submit+wait_all", ours_empty, tbb_empty, ""});
#if DFTRACER_BENCH_WITH_WATCHDOG
    for (auto interval : {std::chrono::milliseconds(250), std::chrono::milliseconds(1)}) {
        rows.push_back(watchdog_row(interval, empty_tasks_with_watchdog(ex, opt, interval)));
    }
#endif
    {
        // Recording cost: the same run with the finished-task ring turned off.
        executor unrecorded(executor_config{.threads = opt.threads, .io_threads = 1, .history_size = 0});
        const double off_ms = median_ms(opt.repeat, [&] {
            for (int i = 0; i < opt.empty_tasks; ++i) unrecorded.submit([] {});
            unrecorded.wait_all();
        });
        char note[96];
        std::snprintf(note, sizeof note, "recording on costs %.1f%%", 100.0 * (ours_empty - off_ms) / off_ms);
        rows.push_back({"(a) same, task recording off", off_ms, -1, note});
    }
    rows.push_back({"(b) fib(" + std::to_string(opt.fib_n) + ") as coroutines", ours_fib, tbb_fib, ""});
    rows.push_back({"(c) chain of " + std::to_string(opt.chain) + " dependent tasks", ours_chain, tbb_chain, ""});

    // (d) idle CPU: the executor above has been idle since the last wait.
    // Workers idle for a second first return the block pool's spare memory
    // (a one-time cost, proportional to what the runs above left there);
    // measure the steady idle state after that.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const double cpu_before = process_cpu_seconds();
    const auto wall_before = bench_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const double cpu_used = process_cpu_seconds() - cpu_before;
    const double wall = std::chrono::duration<double>(bench_clock::now() - wall_before).count();
    char note[64];
    std::snprintf(note, sizeof note, "%.3f%% of one core", 100.0 * cpu_used / wall);
    rows.push_back({"(d) idle executor CPU over 1 s (ms)", cpu_used * 1000.0, -1, note});

    const double per_task_ns = ours_empty * 1e6 / opt.empty_tasks;
    char per[64];
    std::snprintf(per, sizeof per, "%.0f ns per task", per_task_ns);
    rows.push_back({"    per empty task (ours)", per_task_ns / 1e6, -1, per});
    print(rows);
    return 0;
}
