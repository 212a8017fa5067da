// Runs one task on each pool through the installed or embedded library,
// under a watchdog.
#include <cstdio>

#include "dftracer/executor/executor.hpp"
#include "dftracer/watchdog/watchdog.hpp"

int main() {
    dftracer::executor ex(dftracer::executor_config{.threads = 1, .io_threads = 1});
    dftracer::watchdog wd;
    wd.watch(ex);
    auto compute = ex.submit([] { return 20; }, {.name = "compute"});
    auto io = ex.submit([] { return 22; }, {.name = "io", .pool = dftracer::pool_kind::io});
    const int answer = compute.get() + io.get();
    wd.unwatch(ex);
    std::printf("consumer: %d\n", answer);
    return answer == 42 ? 0 : 1;
}
