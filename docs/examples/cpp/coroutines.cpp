// Coroutines: a lazy task<T> starts when it is spawned or awaited; awaiting
// suspends the coroutine instead of blocking its worker thread.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "dftracer/executor/executor.hpp"

using namespace dftracer;

// One file: read on the io pool, then parse on the compute pool.
task<std::size_t> count_lines(std::string path) {
    co_await resume_on(pool_kind::io);  // blocking reads belong on the io pool
    std::string text = path + ":\nts=1\nts=2\n";  // stands in for reading `path`
    co_await resume_on(pool_kind::compute);       // parsing is CPU work
    co_return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Fan out over files and join: when_all runs the tasks concurrently and
// returns their results in order (rethrowing the first failure, if any).
task<std::size_t> count_all(std::vector<std::string> paths) {
    std::vector<task<std::size_t>> parts;
    for (auto& path : paths) parts.push_back(count_lines(path));
    std::vector<std::size_t> counts = co_await when_all(std::move(parts));
    co_return std::accumulate(counts.begin(), counts.end(), std::size_t{0});
}

// Recursive fork/join: spawn() starts a child concurrently and returns its
// handle; co_await on a task runs it inline; co_await on a handle suspends.
task<long> fib(int n) {
    if (n < 2) co_return n;
    task_handle<long> left = co_await spawn(fib(n - 1));
    long right = co_await fib(n - 2);
    co_return co_await left + right;
}

// A long loop that lets queued work run between chunks. yield() is also a
// cancellation point: it throws task_cancelled once a stop was requested.
task<int> crunch(int chunks) {
    int done = 0;
    for (int i = 0; i < chunks; ++i) {
        ++done;  // one chunk of work
        co_await yield();
    }
    co_return done;
}

int main() {
    executor ex({.threads = 2, .io_threads = 2});

    std::size_t lines =
        ex.run(count_all({"a.pfw", "b.pfw", "c.pfw"}));        // blocks for the result
    task_handle<long> f = ex.spawn(fib(20), {.name = "fib"});  // returns at once
    task_handle<int> c = ex.spawn(crunch(100), {.name = "crunch"});

    std::printf("lines=%zu fib(20)=%ld chunks=%d\n", lines, f.get(), c.get());
    return lines == 9 && f.get() == 6765 && c.get() == 100 ? 0 : 1;
}
