#include "overheads.hpp"

#include <sys/resource.h>

#include <chrono>
#include <string>
#include <thread>

#if DFTRACER_BENCH_WITH_WATCHDOG
#include "dftracer/watchdog/watchdog.hpp"
#endif

namespace bench {

using dftracer::executor;

namespace {

void submit_empty_and_wait(executor& ex, int n) {
    for (int i = 0; i < n; ++i) ex.submit([] {});
    ex.wait_all();
}

double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto secs = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return secs(usage.ru_utime) + secs(usage.ru_stime);
}

}  // namespace

std::vector<overhead_result> feature_overheads(executor& ex, int threads, int empty_tasks, const plan& p) {
    std::vector<overhead_result> results;
    auto plain = [&] { submit_empty_and_wait(ex, empty_tasks); };
#if DFTRACER_BENCH_WITH_WATCHDOG
    for (auto interval : {std::chrono::milliseconds(250), std::chrono::milliseconds(1)}) {
        auto watched = [&] {
            dftracer::watchdog_config config;  // documented defaults, except the interval
            config.interval = interval;
            dftracer::watchdog wd(config);
            wd.watch(ex);
            plain();
            wd.unwatch(ex);
        };
        results.push_back(
            measure_overhead("watchdog, " + std::to_string(interval.count()) + " ms interval", plain, watched, p));
    }
#endif
    {
        executor unrecorded(dftracer::executor_config{.threads = threads, .io_threads = 1, .history_size = 0});
        auto off = [&] { submit_empty_and_wait(unrecorded, empty_tasks); };
        results.push_back(measure_overhead("task recording (history 1024)", off, plain, p));
    }
    return results;
}

idle_cpu measure_idle_cpu() {
    using clock = std::chrono::steady_clock;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const double cpu_before = process_cpu_seconds();
    const auto wall_before = clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return {(process_cpu_seconds() - cpu_before) * 1000.0,
            std::chrono::duration<double>(clock::now() - wall_before).count()};
}

}  // namespace bench
