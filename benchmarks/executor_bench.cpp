// Executor benchmark: per-task overhead, recursive coroutines, dependent
// chains and idle CPU, each against oneTBB in the same run; and, when built
// with the watchdog, the empty-task throughput with a watchdog watching the
// executor against none, interleaved in the same run.
//
// Usage: executor_bench [--threads N] [--repeat R] [--quick]
// Prints a table of median times and ratios (> 1 means faster than TBB).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
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

double median_ms(int repeat, const std::function<void()>& body) {
    std::vector<double> samples;
    for (int i = 0; i < repeat; ++i) {
        auto start = bench_clock::now();
        body();
        samples.push_back(std::chrono::duration<double, std::milli>(bench_clock::now() - start).count());
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
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

    const double ours_empty = median_ms(opt.repeat, [&] {
        for (int i = 0; i < opt.empty_tasks; ++i) ex.submit([] {});
        ex.wait_all();
    });
    long fib_result = 0;
    const double ours_fib = median_ms(opt.repeat, [&] { fib_result = ex.run(fib_task(opt.fib_n)); });
    const double ours_chain = median_ms(opt.repeat, [&] {
        std::atomic<int> remaining{opt.chain};
        ex.submit([&] { chain_step(ex, remaining); });
        ex.wait_all();
    });

    double tbb_empty = -1, tbb_fib = -1, tbb_chain = -1;
#if DFTRACER_BENCH_WITH_TBB
    {
        tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(opt.threads));
        tbb::task_arena arena(opt.threads);
        arena.execute([&] {
            tbb::task_group warm;
            warm.run([] {});
            warm.wait();
            tbb_empty = median_ms(opt.repeat, [&] {
                tbb::task_group g;
                for (int i = 0; i < opt.empty_tasks; ++i) g.run([] {});
                g.wait();
            });
            long r = 0;
            tbb_fib = median_ms(opt.repeat, [&] { r = fib_tbb(opt.fib_n); });
            if (r != fib_result) std::fprintf(stderr, "fib mismatch: %ld vs %ld\n", r, fib_result);
            tbb_chain = median_ms(opt.repeat, [&] {
                std::atomic<int> remaining{opt.chain};
                tbb::task_group g;
                g.run([&] { chain_step_tbb(g, remaining); });
                g.wait();
            });
        });
    }
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
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
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
