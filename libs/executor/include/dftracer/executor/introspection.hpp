// Snapshots of what an executor is doing. All are plain values copied out of
// the executor; holding one keeps nothing alive and blocks nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dftracer/executor/types.hpp"

namespace dftracer {

/// One task as recorded by the executor. Times are steady-clock time points;
/// a time that has not happened yet is the epoch (time_since_epoch() == 0).
struct task_info {
    std::uint64_t id = 0;
    std::string name;
    task_state state = task_state::queued;
    pool_kind pool = pool_kind::compute;
    task_kind kind = task_kind::callable;
    /// Global worker index that ran (or is running) the task; -1 if none yet.
    int worker = -1;
    clock::time_point queued_at{};
    clock::time_point started_at{};
    clock::time_point finished_at{};
    /// what() of the task's exception, for failed tasks.
    std::string error;
};

/// Exact task counts. total == queued + running + completed + failed + cancelled
/// holds in every snapshot.
struct task_counts {
    std::uint64_t total = 0;
    std::uint64_t queued = 0;
    std::uint64_t running = 0;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
    std::uint64_t cancelled = 0;
};

/// One worker thread. Worker ids are global: compute workers are
/// 0..threads-1, io workers follow.
struct worker_info {
    int id = 0;
    pool_kind pool = pool_kind::compute;
    bool idle = true;
    /// Innermost task the worker is running (a worker that waits may run
    /// other tasks meanwhile); 0 and "" when idle.
    std::uint64_t task_id = 0;
    std::string task_name;
    /// When that task started on this worker; epoch when idle.
    clock::time_point running_since{};
    /// Task the worker is blocked waiting for (0 if none).
    std::uint64_t waiting_for = 0;
    /// serial() of the executor that owns waiting_for (0 if none).
    std::uint64_t waiting_for_executor = 0;
    /// Entries in the worker's queues (may include already-cancelled tasks
    /// that have not been skipped yet).
    std::size_t queue_depth = 0;
    std::uint64_t tasks_run = 0;
    std::uint64_t native_thread = 0;  ///< see worker_sample
    std::int64_t os_thread = 0;       ///< see worker_sample
};

/// What snapshot() copies.
struct snapshot_options {
    bool include_tasks = true;
    /// Upper bound on queued tasks listed (counts stay exact). Running and
    /// recently finished tasks are always listed.
    std::size_t max_queued_tasks = 1000;
};

struct executor_snapshot {
    task_counts counts;
    std::vector<worker_info> workers;
    /// Queued (up to max_queued_tasks), running and recent finished tasks,
    /// ordered by id.
    std::vector<task_info> tasks;
};

/// Lock-free view of one worker, for samplers such as the watchdog. Reading
/// it takes no lock and never blocks the worker. Values are individually
/// atomic, not a consistent group: a sampler should treat a changed task id
/// as "a new task started".
struct worker_sample {
    int id = 0;
    pool_kind pool = pool_kind::compute;
    std::uint64_t task_id = 0;          ///< 0 when idle
    clock::time_point running_since{};  ///< epoch when idle
    std::uint64_t waiting_for = 0;      ///< task being waited on, 0 if none
    /// serial() of the executor that owns waiting_for (it may be another
    /// executor's task), 0 if none.
    std::uint64_t waiting_for_executor = 0;
    std::uint64_t tasks_run = 0;  ///< monotonic
    std::size_t queue_depth = 0;
    /// The worker thread's pthread_self() value (what Python's
    /// threading.get_ident() reports for it); 0 where unavailable.
    std::uint64_t native_thread = 0;
    /// The kernel's thread id (Linux gettid(): what DFTracer records as
    /// `tid`, and threading.get_native_id() in Python); 0 where unavailable
    /// or before the worker started.
    std::int64_t os_thread = 0;
};

/// A started task that has a timeout (see submit_options::timeout).
struct task_deadline {
    std::uint64_t id = 0;
    std::string name;
    int worker = -1;
    clock::time_point started_at{};
    std::chrono::nanoseconds timeout{0};
};

}  // namespace dftracer
