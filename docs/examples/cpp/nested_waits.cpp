// Waiting inside a task never deadlocks the pool: a worker that waits for an
// unfinished task runs other queued work meanwhile. One compute thread,
// fifty levels of tasks that each submit a child and wait for it.
#include <cstdio>

#include "dftracer/executor/executor.hpp"

using namespace dftracer;

int depth(executor& ex, int level) {
    if (level == 0) return 0;
    auto child = ex.submit([&ex, level] { return depth(ex, level - 1); });
    return child.get() + 1;  // the only worker runs `child` itself while it waits
}

int main() {
    executor ex({.threads = 1, .io_threads = 1});
    int levels = ex.submit([&ex] { return depth(ex, 50); }).get();
    std::printf("nested levels: %d\n", levels);
    return levels == 50 ? 0 : 1;
}
