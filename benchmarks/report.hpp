// What one run of the program found, as a table for people and as JSON for
// docs/perf/collect.py.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "overheads.hpp"

namespace bench {

struct report {
    int threads = 0;
    plan how;
    std::vector<std::string> contenders;  ///< names, ours first
    std::vector<std::string> missing;     ///< anchors this build lacks, with why
    std::vector<workload_result> workloads;
    std::vector<overhead_result> overheads;
    std::optional<idle_cpu> idle;
};

void print_table(const report& r);

/// Writes the report as JSON (schema "executor_bench/2"); throws
/// std::runtime_error if the file cannot be written.
void write_json(const report& r, const std::string& path);

}  // namespace bench
