// A first program: an executor with both pools auto-sized, one task on each
// pool, and a look at what ran.
#include <cstdio>
#include <string>

#include "dftracer/executor/executor.hpp"

int main() {
    // 0 = auto-size: compute = CPUs this process may use, io = half, in [2, 8].
    dftracer::executor ex({.threads = 0, .io_threads = 0});

    auto answer = ex.submit([] { return 6 * 7; }, {.name = "answer"});
    auto header = ex.submit([] { return std::string("[{\"name\":\"read\"}]"); },
                            {.name = "read header", .pool = dftracer::pool_kind::io});

    int value = answer.get();  // blocks; rethrows the task's own exception on failure
    std::printf("%s = %d, %s: %zu bytes\n", answer.name().c_str(), value,
                header.name().c_str(), header.get().size());

    ex.wait_all();
    auto counts = ex.counts();
    std::printf("%d compute + %d io threads ran %llu tasks\n", ex.threads(),
                ex.io_threads(), static_cast<unsigned long long>(counts.completed));
    return value == 42 && counts.completed == 2 ? 0 : 1;
}
