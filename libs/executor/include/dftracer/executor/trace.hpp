// Exporting what an executor ran as a timeline that lines up with the
// application's own DFTracer trace.
//
// Two formats: Chrome trace events (a JSON document that Perfetto and
// chrome://tracing open) and DFTracer's JSON-lines layout (.pfw: one JSON
// object per line, no enclosing brackets, as DFTracer 2.x writes it). Each
// started task is one complete event ("ph":"X") with
//   pid  = this process's OS pid,
//   tid  = the OS thread id (Linux gettid()) of the worker that ran it, the
//          same number DFTracer records for the I/O calls made on that thread,
//   cat  = compute | io | python | coroutine,
//   ts, dur = microseconds since the Unix epoch (system clock), DFTracer's
//          clock base,
//   args = task id, worker index, pool, state and error.
// Metadata events ("ph":"M") come first: one process_name for the process
// and one thread_name per worker naming the worker and its pool, so a viewer
// shows "dftracer-c0 (compute worker 0)" instead of a bare number.
//
// .pfw.gz is the .pfw text compressed as a series of gzip members (one per
// ~1 MiB of lines, each ending on a line boundary), which is how DFTracer
// writes its traces and what the field's tools (dftracer_validate, the
// dftracer-utils indexers) read. Plain .pfw is a convenience for reading by
// eye or with grep; the field's tools reject it ("not a gzip trace").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "dftracer/executor/introspection.hpp"

namespace dftracer {

enum class trace_format { chrome_json, pfw };

/// "compute", "io", "python" or "coroutine" (static storage).
const char* trace_category(const task_info& task) noexcept;

/// Renders the started tasks among `tasks` (others are skipped); running
/// tasks end at the time of the call. `workers` (executor::sample_workers())
/// maps a task's worker index to its OS thread id and pool; a task whose
/// worker is not listed, or has not started yet, gets tid = its worker index.
/// Pure function; thread-safe.
std::string render_trace(const std::vector<task_info>& tasks, const std::vector<worker_sample>& workers,
                         trace_format format);

/// Gzip-compresses `text` as one gzip member per `member_bytes` of input,
/// each cut after a newline (a line longer than member_bytes stays whole).
/// Throws std::runtime_error if this build has no zlib.
std::string gzip_members(const std::string& text, std::size_t member_bytes = std::size_t{1} << 20);

/// Writes `tasks` to `path`: ".json" -> chrome_json, ".pfw" -> pfw,
/// ".pfw.gz" -> pfw as gzip members (needs zlib at build time; otherwise
/// throws std::runtime_error). Throws std::invalid_argument for other
/// extensions and std::system_error if the file cannot be written.
void write_trace(const std::filesystem::path& path, const std::vector<task_info>& tasks,
                 const std::vector<worker_sample>& workers);

}  // namespace dftracer
