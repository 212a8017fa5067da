#include "dftracer/executor/trace.hpp"

#include <algorithm>
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

/// Where each worker index runs: OS thread id and pool (tid 0 = unknown).
struct worker_thread {
    long long tid = 0;
    pool_kind pool = pool_kind::compute;
};

std::vector<worker_thread> worker_threads(const std::vector<worker_sample>& workers) {
    std::vector<worker_thread> out;
    for (const auto& w : workers) {
        if (w.id < 0) continue;
        if (static_cast<std::size_t>(w.id) >= out.size()) out.resize(static_cast<std::size_t>(w.id) + 1);
        out[static_cast<std::size_t>(w.id)] = {static_cast<long long>(w.os_thread), w.pool};
    }
    return out;
}

long long tid_of(const std::vector<worker_thread>& threads, int worker) {
    if (worker >= 0 && static_cast<std::size_t>(worker) < threads.size() &&
        threads[static_cast<std::size_t>(worker)].tid > 0) {
        return threads[static_cast<std::size_t>(worker)].tid;
    }
    return worker;
}

void append_metadata(std::string& out, const char* what, int pid, long long tid, const std::string& name) {
    out += "{\"name\":\"";
    out += what;
    out +=
        "\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":";
    append_escaped(out, name);
    out += "}}";
}

void append_event(std::string& out, const task_info& t, const clock_bridge& bridge, int pid, long long tid) {
    const bool finished = t.finished_at.time_since_epoch().count() != 0;
    const auto end = finished ? t.finished_at : bridge.steady_now;
    const long long ts = bridge.micros(t.started_at);
    const long long dur = std::max(0LL, bridge.micros(end) - ts);
    out += "{\"id\":" + std::to_string(t.id) + ",\"name\":";
    append_escaped(out, t.name.empty() ? std::string("task-") + std::to_string(t.id) : t.name);
    out += ",\"cat\":\"";
    out += trace_category(t);
    out += "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"ts\":" + std::to_string(ts) +
           ",\"dur\":" + std::to_string(dur) + ",\"ph\":\"X\",\"args\":{\"task_id\":" + std::to_string(t.id) +
           ",\"worker\":" + std::to_string(t.worker) + ",\"state\":\"" + to_string(t.state) + "\",\"pool\":\"" +
           to_string(t.pool) + "\",\"error\":";
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

std::string render_trace(const std::vector<task_info>& tasks, const std::vector<worker_sample>& workers,
                         trace_format format) {
    const clock_bridge bridge;
    const int pid = process_id();
    const auto threads = worker_threads(workers);
    const bool chrome = format == trace_format::chrome_json;
    std::string out;
    out.reserve(256 + threads.size() * 96 + tasks.size() * 220);
    out += chrome ? "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" : "";
    // Chrome JSON separates events with ",\n"; .pfw ends every line with "\n".
    bool first = true;
    auto next = [&] {
        if (chrome && !first) out += ",\n";
        first = false;
    };
    auto done = [&] {
        if (!chrome) out += '\n';
    };
    next();
    append_metadata(out, "process_name", pid, pid, "dftracer-utils runtime (pid " + std::to_string(pid) + ")");
    done();
    for (std::size_t i = 0; i < threads.size(); ++i) {
        if (threads[i].tid <= 0) continue;
        next();
        append_metadata(out, "thread_name", pid, threads[i].tid,
                        "dftracer worker " + std::to_string(i) + " (" + to_string(threads[i].pool) + " pool)");
        done();
    }
    for (const auto& t : tasks) {
        if (t.started_at.time_since_epoch().count() == 0) continue;  // never ran: no interval
        next();
        append_event(out, t, bridge, pid, tid_of(threads, t.worker));
        done();
    }
    out += chrome ? "\n]}\n" : "";
    return out;
}

std::string gzip_members(const std::string& text, std::size_t member_bytes) {
#if defined(DFTRACER_HAVE_ZLIB)
    std::string out;
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = std::min(text.size(), begin + std::max<std::size_t>(member_bytes, 1));
        if (end < text.size()) {
            const auto newline = text.find('\n', end - 1);
            end = newline == std::string::npos ? text.size() : newline + 1;
        }
        z_stream z{};
        // windowBits 15 + 16: a gzip header and trailer around the deflate data.
        if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            throw std::runtime_error("zlib: deflateInit2 failed");
        }
        const auto input = static_cast<uLong>(end - begin);
        const std::size_t offset = out.size();
        out.resize(offset + deflateBound(&z, input));
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data() + begin));
        z.avail_in = static_cast<uInt>(input);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + offset);
        z.avail_out = static_cast<uInt>(out.size() - offset);
        const int status = deflate(&z, Z_FINISH);
        const auto produced = z.total_out;
        deflateEnd(&z);
        if (status != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
        out.resize(offset + produced);
        begin = end;
    }
    return out;
#else
    (void)text;
    (void)member_bytes;
    throw std::runtime_error("this build has no zlib: .pfw.gz export is unavailable");
#endif
}

void write_trace(const std::filesystem::path& path, const std::vector<task_info>& tasks,
                 const std::vector<worker_sample>& workers) {
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
    std::string text = render_trace(tasks, workers, format);
    if (gz) text = gzip_members(text);
    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
    out << text;
    if (!out.flush()) throw std::system_error(errno, std::generic_category(), "cannot write " + path.string());
}

}  // namespace dftracer
