// Report values as text: kind names, the logged line, the default sink.
#include "dftracer/watchdog/report.hpp"

#include <cstdio>

#include "text.hpp"

namespace dftracer {

const char* to_string(report_kind kind) noexcept {
    switch (kind) {
        case report_kind::slow:
            return "slow";
        case report_kind::timeout:
            return "timeout";
        case report_kind::stall:
            return "stall";
        case report_kind::deadlock:
            return "deadlock";
    }
    return "unknown";
}

const char* to_string(log_level level) noexcept { return level == log_level::error ? "error" : "warning"; }

log_level level_of(report_kind kind) noexcept {
    return kind == report_kind::deadlock ? log_level::error : log_level::warning;
}

std::string format_report(const watchdog_report& report) {
    std::string line = to_string(report.kind);
    line += ": ";
    line += report.message;
    return line;
}

void stderr_log_sink(log_level level, const std::string& line, const watchdog_report*) noexcept {
    try {
        std::string text = "dftracer watchdog ";
        text += to_string(level);
        text += ": ";
        text += line;
        text += '\n';
        std::fwrite(text.data(), 1, text.size(), stderr);
    } catch (...) {
        std::fputs("dftracer watchdog: out of memory while logging\n", stderr);
    }
}

namespace watchdog_detail {

std::string seconds(std::chrono::nanoseconds d) {
    if (d.count() < 0) d = std::chrono::nanoseconds(0);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(d).count());
    return buf;
}

std::string task_label(std::uint64_t id, const std::string& name) {
    std::string out = "task " + std::to_string(id);
    if (!name.empty()) out += " '" + name + "'";
    return out;
}

std::string worker_label(int worker, pool_kind pool) {
    return "worker " + std::to_string(worker) + " (" + to_string(pool) + ")";
}

}  // namespace watchdog_detail
}  // namespace dftracer
