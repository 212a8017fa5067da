// Structured waiting: a task group, a join over handles, a batch and
// fire-and-forget tasks.
#include <dftracer/executor/executor.hpp>
#include <dftracer/executor/task_group.hpp>

#include <atomic>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <vector>

int main() {
    dftracer::executor ex(dftracer::executor_config{.threads = 2});

    // A group waits for its own tasks only; wait() rethrows the first
    // failure, and that failure cancels the group's queued tasks.
    std::atomic<int> parsed{0};
    dftracer::task_group files(ex);
    for (int i = 0; i < 8; ++i) files.run([&] { parsed.fetch_add(1); });
    files.wait();
    std::printf("parsed %d files\n", parsed.load());

    dftracer::task_group failing(ex);
    failing.run([] { throw std::runtime_error("bad header"); });
    try {
        failing.wait();
    } catch (const std::runtime_error& e) {
        std::printf("group failed: %s\n", e.what());
    }

    // A batch of callables, joined from ordinary code.
    std::vector<std::function<int()>> sizes;
    for (int i = 1; i <= 4; ++i) sizes.emplace_back([i] { return i * 100; });
    auto handles = ex.submit_batch(std::move(sizes), {.name = "size"});
    int total = 0;
    for (int s : dftracer::when_all(handles).get()) total += s;
    std::printf("total size %d\n", total);

    // Fire and forget: counted and waited for, no handle.
    for (int i = 0; i < 100; ++i) ex.post([&] { parsed.fetch_add(1); });
    ex.wait_all();
    std::printf("%llu tasks, %llu completed, %llu failed\n",
                static_cast<unsigned long long>(ex.counts().total),
                static_cast<unsigned long long>(ex.counts().completed),
                static_cast<unsigned long long>(ex.counts().failed));
    return parsed.load() == 108 && total == 1000 ? 0 : 1;
}
