// Small text helpers shared by the detectors and the report formatting.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "dftracer/executor/types.hpp"

namespace dftracer::watchdog_detail {

/// "12.345s" (never negative).
std::string seconds(std::chrono::nanoseconds d);

/// "task 12 'parse'" or "task 12" when the name is empty.
std::string task_label(std::uint64_t id, const std::string& name);

/// "worker 3 (io)".
std::string worker_label(int worker, pool_kind pool);

}  // namespace dftracer::watchdog_detail
