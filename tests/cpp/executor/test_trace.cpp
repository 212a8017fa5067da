// Trace export: every finished task exactly once, with worker and times.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "dftracer/executor/executor.hpp"
#include "dftracer/executor/trace.hpp"

using namespace dftracer;

namespace {
std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct event {
    long long pid, tid, ts, dur;
    int worker;
};

/// task_id -> event, from rendered events.
std::map<std::uint64_t, event> events_of(const std::string& text) {
    std::map<std::uint64_t, event> out;
    std::regex pattern(
        R"re("pid":(\d+),"tid":(-?\d+),"ts":(\d+),"dur":(\d+),"ph":"X","args":\{"task_id":(\d+),"worker":(-?\d+))re");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
        auto id = std::stoull((*it)[5]);
        EXPECT_EQ(out.count(id), 0u) << "task " << id << " exported twice";
        out[id] = {std::stoll((*it)[1]), std::stoll((*it)[2]), std::stoll((*it)[3]), std::stoll((*it)[4]),
                   std::stoi((*it)[6])};
    }
    return out;
}
}  // namespace

TEST(Trace, ChromeAndPfwHoldEveryFinishedTaskOnce) {
    executor ex(executor_config{.threads = 2, .io_threads = 1, .history_size = 4096});
    std::vector<task_handle<int>> handles;
    for (int i = 0; i < 200; ++i) {
        handles.push_back(ex.submit([i] { return i; }, {.name = "t\"" + std::to_string(i),
                                                        .pool = i % 4 ? pool_kind::compute : pool_kind::io}));
    }
    ex.wait_all();
    const auto dir = std::filesystem::temp_directory_path() / ("dft-trace-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    // Sampled before the export: a worker that started by now is named in it
    // (one still starting has os_thread 0 and may or may not be).
    std::map<int, long long> os_tids;
    for (const auto& w : ex.sample_workers()) {
        if (w.os_thread > 0) os_tids[w.id] = w.os_thread;
    }
    ex.export_trace(dir / "run.json");
    ex.export_trace(dir / "run.pfw");

    const auto chrome = slurp(dir / "run.json");
    EXPECT_EQ(chrome.rfind("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0), 0u);
    auto events = events_of(chrome);
    ASSERT_EQ(events.size(), 200u);
    for (auto& h : handles) {
        auto info = ex.find_task(h.id());
        ASSERT_TRUE(info);
        const auto e = events.at(h.id());
        EXPECT_EQ(e.worker, info->worker);
        EXPECT_EQ(e.pid, static_cast<long long>(::getpid()));
        EXPECT_EQ(e.tid, os_tids.at(info->worker));  // the OS thread, as DFTracer records it
        const auto ts = e.ts;
        const auto dur = e.dur;
        auto exec_us =
            std::chrono::duration_cast<std::chrono::microseconds>(info->finished_at - info->started_at).count();
        EXPECT_NEAR(static_cast<double>(dur), static_cast<double>(exec_us), 1.0);
        EXPECT_GT(ts, 1'600'000'000'000'000LL);  // microseconds since the epoch
        (void)dur;
    }
    // Every worker is named, with its pool, by a metadata event.
    for (const auto& [id, tid] : os_tids) {
        EXPECT_NE(chrome.find("\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + std::to_string(::getpid()) +
                              ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":\"dftracer worker " +
                              std::to_string(id)),
                  std::string::npos);
    }
    EXPECT_NE(chrome.find("\"name\":\"process_name\""), std::string::npos);
    EXPECT_NE(chrome.find(R"("name":"t\"7")"), std::string::npos);  // escaped
    EXPECT_NE(chrome.find(R"("cat":"io")"), std::string::npos);
    EXPECT_NE(chrome.find(R"("cat":"compute")"), std::string::npos);

    const auto pfw = slurp(dir / "run.pfw");
    std::istringstream lines(pfw);
    std::string line;
    int objects = 0, metadata = 0;
    while (std::getline(lines, line)) {  // DFTracer 2.x layout: one object per line, no brackets
        EXPECT_EQ(line.front(), '{');
        EXPECT_EQ(line.back(), '}');
        (line.find("\"ph\":\"M\"") != std::string::npos ? metadata : objects) += 1;
    }
    EXPECT_EQ(objects, 200);
    EXPECT_GE(metadata, 1 + static_cast<int>(os_tids.size()));
    EXPECT_EQ(events_of(pfw).size(), 200u);
    std::filesystem::remove_all(dir);
}

TEST(Trace, CategoriesAndFailures) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.submit([] { throw std::runtime_error("bad\nline"); }, {.name = "fails"}).wait();
    ex.run([]() -> task<int> { co_return 1; }());
    ex.wait_all();
    auto text = render_trace(ex.recorded_tasks(), ex.sample_workers(), trace_format::chrome_json);
    EXPECT_NE(text.find(R"("state":"failed")"), std::string::npos);
    EXPECT_NE(text.find(R"("error":"bad\nline")"), std::string::npos);
    EXPECT_NE(text.find(R"("cat":"coroutine")"), std::string::npos);
}

TEST(Trace, GzipMembersEndOnLineBoundaries) {
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "{\"id\":" + std::to_string(i) + "}\n";
    const auto packed = gzip_members(text, 4096);
    // Each member starts with the gzip magic; there are several of them.
    int members = 0;
    for (std::size_t at = packed.find("\x1f\x8b\x08"); at != std::string::npos;
         at = packed.find("\x1f\x8b\x08", at + 3)) {
        ++members;
    }
    EXPECT_GE(members, 10);
}

TEST(Trace, RejectsUnknownExtensions) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_THROW(ex.export_trace("/tmp/x.txt"), std::invalid_argument);
}
