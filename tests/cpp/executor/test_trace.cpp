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

/// task_id -> (tid, ts, dur) from rendered events.
std::map<std::uint64_t, std::tuple<int, long long, long long>> events_of(const std::string& text) {
    std::map<std::uint64_t, std::tuple<int, long long, long long>> out;
    std::regex event(R"re("tid":(-?\d+),"ts":(\d+),"dur":(\d+),"ph":"X","args":\{"task_id":(\d+))re");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), event); it != std::sregex_iterator(); ++it) {
        auto id = std::stoull((*it)[4]);
        EXPECT_EQ(out.count(id), 0u) << "task " << id << " exported twice";
        out[id] = {std::stoi((*it)[1]), std::stoll((*it)[2]), std::stoll((*it)[3])};
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
    ex.export_trace(dir / "run.json");
    ex.export_trace(dir / "run.pfw");

    const auto chrome = slurp(dir / "run.json");
    EXPECT_EQ(chrome.rfind("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0), 0u);
    auto events = events_of(chrome);
    ASSERT_EQ(events.size(), 200u);
    for (auto& h : handles) {
        auto info = ex.find_task(h.id());
        ASSERT_TRUE(info);
        auto [tid, ts, dur] = events.at(h.id());
        EXPECT_EQ(tid, info->worker);
        auto exec_us =
            std::chrono::duration_cast<std::chrono::microseconds>(info->finished_at - info->started_at).count();
        EXPECT_NEAR(static_cast<double>(dur), static_cast<double>(exec_us), 1.0);
        EXPECT_GT(ts, 0);
    }
    EXPECT_NE(chrome.find(R"("name":"t\"7")"), std::string::npos);  // escaped
    EXPECT_NE(chrome.find(R"("cat":"io")"), std::string::npos);
    EXPECT_NE(chrome.find(R"("cat":"compute")"), std::string::npos);

    const auto pfw = slurp(dir / "run.pfw");
    std::istringstream lines(pfw);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "[");
    int objects = 0;
    while (std::getline(lines, line)) {
        if (line == "]") break;
        EXPECT_EQ(line.front(), '{');
        EXPECT_EQ(line.back(), '}');
        ++objects;
    }
    EXPECT_EQ(objects, 200);
    EXPECT_EQ(events_of(pfw).size(), 200u);
    std::filesystem::remove_all(dir);
}

TEST(Trace, CategoriesAndFailures) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    ex.submit([] { throw std::runtime_error("bad\nline"); }, {.name = "fails"}).wait();
    ex.run([]() -> task<int> { co_return 1; }());
    ex.wait_all();
    auto text = render_trace(ex.recorded_tasks(), trace_format::chrome_json);
    EXPECT_NE(text.find(R"("state":"failed")"), std::string::npos);
    EXPECT_NE(text.find(R"("error":"bad\nline")"), std::string::npos);
    EXPECT_NE(text.find(R"("cat":"coroutine")"), std::string::npos);
}

TEST(Trace, RejectsUnknownExtensions) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    EXPECT_THROW(ex.export_trace("/tmp/x.txt"), std::invalid_argument);
}
