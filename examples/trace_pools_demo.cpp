// C++ demo: synthesise trace files, then index them with both pools.
// The io pool reads each file; the compute pool parses and aggregates it as a
// coroutine that hops between pools. At the end it prints what every worker
// did and the aggregate of all files.
//
// Usage: trace_pools_demo [directory] [files]
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "dftracer/executor/executor.hpp"

using namespace dftracer;
namespace fs = std::filesystem;

namespace {

struct file_summary {
    std::size_t events = 0;
    std::map<std::string, std::size_t> by_name;
    double total_dur_us = 0;
};

std::string make_trace(int seed, int events) {
    static const char* names[] = {"read", "write", "open", "close", "seek", "fsync"};
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::ostringstream out;
    out << "[\n";
    long ts = 0;
    for (int i = 0; i < events; ++i) {
        ts += static_cast<long>(rng() % 50);
        out << R"({"id":)" << i << R"(,"name":")" << names[rng() % 6] << R"(","cat":"POSIX","pid":)" << seed
            << R"(,"tid":)" << rng() % 4 << R"(,"ts":)" << ts << R"(,"dur":)" << rng() % 200 << R"(,"ph":"X"})"
            << "\n";
    }
    return out.str();
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// Minimal field extraction for the demo's own well-formed lines.
std::string field(const std::string& line, const std::string& key) {
    auto at = line.find("\"" + key + "\":");
    if (at == std::string::npos) return {};
    at += key.size() + 3;
    if (line[at] == '"') {
        auto end = line.find('"', at + 1);
        return line.substr(at + 1, end - at - 1);
    }
    auto end = line.find_first_of(",}", at);
    return line.substr(at, end - at);
}

file_summary parse(const std::string& text) {
    file_summary s;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() < 3 || line[0] != '{') continue;
        ++s.events;
        ++s.by_name[field(line, "name")];
        s.total_dur_us += std::stod(field(line, "dur"));
    }
    return s;
}

task<file_summary> index_file(fs::path path) {
    co_await resume_on(pool_kind::io);  // blocking read on the io pool
    std::string text = read_file(path);
    co_await resume_on(pool_kind::compute);  // parsing is CPU work
    co_return parse(text);
}

}  // namespace

int main(int argc, char** argv) {
    const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "dftracer-cpp-demo";
    const int files = argc > 2 ? std::max(1, std::atoi(argv[2])) : 64;
    fs::create_directories(dir);

    executor ex(executor_config{.threads = 0, .io_threads = 0});
    std::printf("executor: %d compute threads, %d io threads\n", ex.threads(), ex.io_threads());

    // Write the synthetic traces on the io pool.
    std::vector<fs::path> paths;
    for (int i = 0; i < files; ++i) {
        paths.push_back(dir / ("trace-" + std::to_string(i) + ".pfw"));
        ex.submit([p = paths.back(), i] { std::ofstream(p) << make_trace(i, 2000 + i * 10); },
                  {.name = "write " + paths.back().filename().string(), .pool = pool_kind::io});
    }
    ex.wait_all();

    std::vector<task_handle<file_summary>> handles;
    for (const auto& p : paths) handles.push_back(ex.spawn(index_file(p), {.name = "index " + p.filename().string()}));
    file_summary total;
    for (auto& h : handles) {
        auto s = h.get();
        total.events += s.events;
        total.total_dur_us += s.total_dur_us;
        for (auto& [name, n] : s.by_name) total.by_name[name] += n;
    }

    auto snap = ex.snapshot();
    std::printf(
        "\ntasks: total=%llu completed=%llu failed=%llu cancelled=%llu\n",
        static_cast<unsigned long long>(snap.counts.total), static_cast<unsigned long long>(snap.counts.completed),
        static_cast<unsigned long long>(snap.counts.failed), static_cast<unsigned long long>(snap.counts.cancelled));
    std::printf("\n%-8s %-8s %10s\n", "worker", "pool", "tasks run");
    for (const auto& w : snap.workers) {
        std::printf("%-8d %-8s %10llu\n", w.id, to_string(w.pool), static_cast<unsigned long long>(w.tasks_run));
    }
    std::printf("\nindexed %d files, %zu events, %.1f ms of traced I/O\n", files, total.events,
                total.total_dur_us / 1000.0);
    for (const auto& [name, n] : total.by_name) std::printf("  %-6s %8zu\n", name.c_str(), n);
    return total.events > 0 ? 0 : 1;
}
