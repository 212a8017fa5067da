// Helpers for watchdog tests: a manual-clock watchdog (no thread; passes run
// by check_at), a log sink that records lines, and bounded polling of worker
// samples for states that a test has caused but cannot be told about.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "dftracer/watchdog/watchdog.hpp"
#include "test_support.hpp"

namespace dftracer::test {

using namespace std::chrono_literals;

/// Log lines captured from a watchdog (thread-safe).
class log_capture {
public:
    struct entry {
        log_level level;
        std::string line;
        bool has_report;
    };
    log_sink_fn sink() {
        return [this](log_level level, const std::string& line, const watchdog_report* report) {
            std::lock_guard<std::mutex> guard(m_);
            entries_.push_back({level, line, report != nullptr});
        };
    }
    std::vector<entry> entries() {
        std::lock_guard<std::mutex> guard(m_);
        return entries_;
    }

private:
    std::mutex m_;
    std::vector<entry> entries_;
};

/// A watchdog without a thread, for check_at(): every check enabled with the
/// documented defaults unless the test changes them.
inline watchdog_config manual_config(log_sink_fn sink = nullptr) {
    watchdog_config c;
    c.start_thread = false;
    c.log_sink = std::move(sink);
    return c;
}

inline std::vector<watchdog_report> of_kind(const std::vector<watchdog_report>& reports, report_kind kind) {
    std::vector<watchdog_report> out;
    for (const auto& r : reports) {
        if (r.kind == kind) out.push_back(r);
    }
    return out;
}

/// Polls sample_workers() until `pred` holds for the samples (bounded by
/// `generous`). Used only for states the test itself brought about, such as
/// "both workers are now parked in their waits".
inline bool wait_for_samples(const executor& ex, const std::function<bool(const std::vector<worker_sample>&)>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + generous;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred(ex.sample_workers())) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

/// The sample of the worker running task `id` (innermost), after waiting for
/// it to appear.
inline worker_sample sample_running(const executor& ex, std::uint64_t id) {
    worker_sample found;
    wait_for_samples(ex, [&](const std::vector<worker_sample>& samples) {
        for (const auto& s : samples) {
            if (s.task_id == id) {
                found = s;
                return true;
            }
        }
        return false;
    });
    return found;
}

/// A count of events with a waitable threshold.
class counter {
public:
    void add() {
        {
            std::lock_guard<std::mutex> guard(m_);
            ++n_;
        }
        cv_.notify_all();
    }
    bool wait_at_least(int n, std::chrono::milliseconds timeout = generous) {
        std::unique_lock<std::mutex> guard(m_);
        return cv_.wait_for(guard, timeout, [&] { return n_ >= n; });
    }
    int value() {
        std::lock_guard<std::mutex> guard(m_);
        return n_;
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    int n_ = 0;
};

}  // namespace dftracer::test
