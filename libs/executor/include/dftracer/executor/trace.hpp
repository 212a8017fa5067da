// Exporting what an executor ran as a timeline.
//
// Two formats: Chrome trace events (a JSON document that Perfetto and
// chrome://tracing open) and DFTracer's own JSON-lines trace (.pfw, gzip
// compressed as .pfw.gz). Each started task is one complete event ("ph":"X")
// with pid = this process, tid = the worker that ran it, cat = compute | io |
// python | coroutine, ts and dur in microseconds of the system clock, and
// args holding the task id, state and error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dftracer/executor/introspection.hpp"

namespace dftracer {

enum class trace_format { chrome_json, pfw };

/// "compute", "io", "python" or "coroutine" (static storage).
const char* trace_category(const task_info& task) noexcept;

/// Renders the started tasks among `tasks` (others are skipped). Running
/// tasks end at the time of the call. Pure function; thread-safe.
std::string render_trace(const std::vector<task_info>& tasks, trace_format format);

/// Writes `tasks` to `path`: ".json" -> chrome_json, ".pfw" -> pfw,
/// ".pfw.gz" -> gzip-compressed pfw (needs zlib at build time; otherwise
/// throws std::runtime_error). Throws std::invalid_argument for other
/// extensions and std::system_error if the file cannot be written.
void write_trace(const std::filesystem::path& path, const std::vector<task_info>& tasks);

}  // namespace dftracer
