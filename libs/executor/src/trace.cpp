#include "dftracer/executor/trace.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <system_error>

#if defined(DFTRACER_HAVE_ZLIB)
#include <zlib.h>
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace dftracer {

namespace {

void append_escaped(std::string& out, const std::string& text) {
    out += '"';
    for (const unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buffer[8];
                    std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                    out += buffer;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

int process_id() {
#if defined(__unix__) || defined(__APPLE__)
    return static_cast<int>(getpid());
#else
    return 0;
#endif
}

/// Steady-clock time points to microseconds of the system clock.
struct clock_bridge {
    clock::time_point steady_now = clock::now();
    std::chrono::system_clock::time_point system_now = std::chrono::system_clock::now();

    long long micros(clock::time_point t) const {
        auto system = system_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_now);
        return std::chrono::duration_cast<std::chrono::microseconds>(system.time_since_epoch()).count();
    }
};

void append_event(std::string& out, const task_info& t, const clock_bridge& bridge, int pid) {
    const bool finished = t.finished_at.time_since_epoch().count() != 0;
    const auto end = finished ? t.finished_at : bridge.steady_now;
    const long long ts = bridge.micros(t.started_at);
    const long long dur = std::max(0LL, bridge.micros(end) - ts);
    out += "{\"id\":" + std::to_string(t.id) + ",\"name\":";
    append_escaped(out, t.name.empty() ? std::string("task-") + std::to_string(t.id) : t.name);
    out += ",\"cat\":\"";
    out += trace_category(t);
    out += "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(t.worker) +
           ",\"ts\":" + std::to_string(ts) + ",\"dur\":" + std::to_string(dur) +
           ",\"ph\":\"X\",\"args\":{\"task_id\":" + std::to_string(t.id) + ",\"state\":\"" + to_string(t.state) +
           "\",\"pool\":\"" + to_string(t.pool) + "\",\"error\":";
    append_escaped(out, t.error);
    out += "}}";
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const char* trace_category(const task_info& task) noexcept {
    switch (task.kind) {
        case task_kind::python:
            return "python";
        case task_kind::coroutine:
            return "coroutine";
        case task_kind::callable:
            break;
    }
    return to_string(task.pool);
}

std::string render_trace(const std::vector<task_info>& tasks, trace_format format) {
    const clock_bridge bridge;
    const int pid = process_id();
    std::string out;
    out.reserve(64 + tasks.size() * 200);
    out += format == trace_format::chrome_json ? "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" : "[\n";
    bool first = true;
    for (const auto& t : tasks) {
        if (t.started_at.time_since_epoch().count() == 0) continue;  // never ran: no interval
        if (format == trace_format::chrome_json && !first) out += ",\n";
        append_event(out, t, bridge, pid);
        if (format == trace_format::pfw) out += '\n';
        first = false;
    }
    out += format == trace_format::chrome_json ? "\n]}\n" : "]\n";
    return out;
}

void write_trace(const std::filesystem::path& path, const std::vector<task_info>& tasks) {
    const std::string name = path.filename().string();
    const bool gz = ends_with(name, ".pfw.gz");
    trace_format format;
    if (ends_with(name, ".json")) {
        format = trace_format::chrome_json;
    } else if (gz || ends_with(name, ".pfw")) {
        format = trace_format::pfw;
    } else {
        throw std::invalid_argument("trace path must end in .json, .pfw or .pfw.gz: " + path.string());
    }
    const std::string text = render_trace(tasks, format);
    if (gz) {
#if defined(DFTRACER_HAVE_ZLIB)
        gzFile file = gzopen(path.string().c_str(), "wb");
        if (file == nullptr) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
        const int written = gzwrite(file, text.data(), static_cast<unsigned>(text.size()));
        const int closed = gzclose(file);
        if (written != static_cast<int>(text.size()) || closed != Z_OK) {
            throw std::runtime_error("cannot write " + path.string());
        }
        return;
#else
        throw std::runtime_error("this build has no zlib: .pfw.gz export is unavailable");
#endif
    }
    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
    out << text;
    if (!out.flush()) throw std::system_error(errno, std::generic_category(), "cannot write " + path.string());
}

}  // namespace dftracer
