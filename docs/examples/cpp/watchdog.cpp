// The watchdog: a slow task and a per-task timeout, reported to a callback
// (and, by default, as one line each on stderr).
#include "dftracer/watchdog/watchdog.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "dftracer/executor/executor.hpp"

using namespace dftracer;
using namespace std::chrono_literals;

int main() {
    executor ex({.threads = 2, .io_threads = 1});

    // Small thresholds so the example runs in a second; the defaults are
    // interval 250 ms, slow 10 s, stall 30 s, deadlock 5 s.
    watchdog_config config;
    config.interval = 20ms;
    config.slow_threshold = 100ms;
    config.stall_threshold = 0ms;  // 0 disables a check
    config.deadlock_threshold = 0ms;
    watchdog wd(config);  // starts its sampling thread
    wd.watch(ex);         // unwatch(ex) before ex dies, or destroy wd first (as here)

    std::mutex mutex;
    std::vector<watchdog_report> seen;
    wd.add_callback([&](const watchdog_report& report) {  // runs on the watchdog thread
        std::lock_guard<std::mutex> lock(mutex);
        seen.push_back(report);
    });

    // A slow task: reported when it reaches 100 ms, again at 200 ms (doubling).
    ex.submit([] { std::this_thread::sleep_for(300ms); }, {.name = "slow read"}).get();

    // A task with a timeout: at 100 ms its handle fails with task_timeout and
    // it is asked to stop; the body is never killed, it returns by itself.
    auto parse = ex.submit(
        [] {
            while (!this_task::stop_requested()) std::this_thread::sleep_for(1ms);
            return 0;
        },
        {.name = "parse", .timeout = 100ms});
    try {
        parse.get();
    } catch (const task_timeout& e) {
        std::printf("parse: task_timeout: %s\n", e.what());
    }

    // Callbacks run after the handle failed; give the last one a moment.
    bool slow = false, timeout = false;
    for (int i = 0; i < 500 && !(slow && timeout); ++i) {
        std::this_thread::sleep_for(10ms);
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& r : seen) {
            slow = slow || (r.kind == report_kind::slow && r.task_name == "slow read");
            timeout =
                timeout || (r.kind == report_kind::timeout && r.task_name == "parse");
        }
    }
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& r : seen) std::printf("callback: %s\n", format_report(r).c_str());
    return slow && timeout ? 0 : 1;
}
