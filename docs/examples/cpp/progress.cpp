// Progress: exact counts, what every worker is doing, and recent tasks,
// copied out of a running executor without stopping it; then the recorded
// tasks written as a timeline.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "dftracer/executor/executor.hpp"

using namespace dftracer;
using namespace std::chrono_literals;

int main() {
    executor ex({.threads = 1, .io_threads = 2, .history_size = 64});

    std::atomic<bool> started{false}, release{false};
    ex.submit(
        [&] {
            started = true;
            while (!release) std::this_thread::sleep_for(1ms);
        },
        {.name = "iter_lines"});
    while (!started) std::this_thread::sleep_for(1ms);
    for (int i = 0; i < 3; ++i)
        ex.submit([] {}, {.name = "queued-" + std::to_string(i)});

    executor_snapshot snap =
        ex.snapshot({.include_tasks = true, .max_queued_tasks = 10});
    std::printf("total=%llu running=%llu queued=%llu\n",
                static_cast<unsigned long long>(snap.counts.total),
                static_cast<unsigned long long>(snap.counts.running),
                static_cast<unsigned long long>(snap.counts.queued));
    for (const worker_info& w : snap.workers) {
        std::printf("worker %d (%s): %s\n", w.id, to_string(w.pool),
                    w.idle ? "idle" : w.task_name.c_str());
    }
    for (const task_info& t : snap.tasks)
        std::printf("task %llu %s: %s\n", static_cast<unsigned long long>(t.id),
                    t.name.c_str(), to_string(t.state));

    const bool busy =
        snap.counts.running == 1 && snap.counts.queued == 3 && !snap.workers[0].idle;
    release = true;
    ex.wait_all();
    task_counts done = ex.counts();  // lock-free
    std::printf("completed=%llu of %llu\n",
                static_cast<unsigned long long>(done.completed),
                static_cast<unsigned long long>(done.total));

    // Chrome trace events: open in Perfetto or chrome://tracing.
    const auto trace =
        std::filesystem::temp_directory_path() /
        ("dftracer-docs-progress-" + std::to_string(::getpid()) + ".json");
    ex.export_trace(trace);
    std::printf("timeline: %s\n",
                std::filesystem::exists(trace) ? "written" : "missing");
    const bool written = std::filesystem::file_size(trace) > 0;
    std::filesystem::remove(trace);
    return busy && done.completed == 4 && written ? 0 : 1;
}
