// Errors and cancellation: exceptions come back from get() as thrown;
// cancel() works only before a task starts; stops are cooperative.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "dftracer/executor/executor.hpp"

using namespace dftracer;
using namespace std::chrono_literals;

int main() {
    int failures = 0;
    executor ex({
        .threads = 1,
        .io_threads = 1,
        // Runs once per failed task, on the worker, before wait_all() returns.
        .on_error =
            [&failures](const task_info& info, std::exception_ptr) {
                ++failures;  // one worker here; use an atomic with more threads
                std::printf("on_error: task '%s' failed: %s\n", info.name.c_str(),
                            info.error.c_str());
            },
    });

    // 1. The task's own exception, with its own type.
    auto parse = ex.submit([]() -> int { throw std::invalid_argument("bad header"); },
                           {.name = "parse"});
    parse.wait();  // wait() does not throw; get() does
    try {
        parse.get();
    } catch (const std::invalid_argument& e) {
        std::printf("get(): %s (state %s)\n", e.what(), to_string(parse.state()));
    }

    // 2. cancel() succeeds only while the task is still queued.
    std::atomic<bool> started{false}, release{false};
    auto busy = ex.submit([&] {
        started = true;
        while (!release) std::this_thread::sleep_for(1ms);
    });
    while (!started) std::this_thread::sleep_for(1ms);
    auto queued = ex.submit([] { return 1; }, {.name = "queued"});
    const bool cancelled = queued.cancel();  // the only worker is busy: still queued
    release = true;
    try {
        queued.get();
    } catch (const task_cancelled& e) {
        std::printf("cancel() = %d, get(): %s\n", cancelled, e.what());
    }

    // 3. request_stop(): the task sees this_task::stop_requested() and returns.
    auto loop = ex.submit([] {
        int chunks = 0;
        while (!this_task::stop_requested()) {
            ++chunks;
            std::this_thread::sleep_for(1ms);
        }
        return chunks;
    });
    std::this_thread::sleep_for(20ms);
    loop.request_stop();
    std::printf("loop stopped after %s chunks\n", loop.get() > 0 ? "some" : "no");

    // 4. After shutdown, submit() throws executor_shut_down.
    ex.wait_all();
    ex.shutdown();
    try {
        ex.submit([] {});
    } catch (const executor_shut_down& e) {
        std::printf("submit(): %s\n", e.what());
    }
    busy.get();
    return cancelled && failures == 1 ? 0 : 1;
}
