// Reading the executor from outside: counts, worker samples, snapshots and
// task lookup. Nothing here blocks a worker for longer than a list copy.
#include <algorithm>
#include <unordered_map>

#include "scheduler.hpp"

namespace dftracer::detail {

task_info info_of(const record& rec) {
    history_entry entry;
    entry.assign(rec, rec.state());
    return info_of(entry);
}

task_info info_of(const history_entry& entry) {
    task_info info;
    info.id = entry.id;
    info.name = entry.name;
    info.state = entry.state;
    info.pool = entry.pool;
    info.kind = entry.kind;
    info.worker = entry.worker;
    info.queued_at = from_ticks(entry.queued_ticks);
    info.started_at = from_ticks(entry.started_ticks);
    info.finished_at = from_ticks(entry.finished_ticks);
    info.error = entry.error;
    return info;
}

task_counts scheduler::counts() const noexcept {
    // Read order matters: finished counters, then started, then withdrawn,
    // then unstarted finishes, then submitted. Each later read can only have
    // grown (a withdrawn task was counted cancelled first), so no part goes
    // negative and the parts add up to total.
    task_counts c;
    const auto completed = sum(task_counters::completed);
    const auto failed_started = sum(task_counters::failed_started);
    const auto cancelled_started = sum(task_counters::cancelled_started);
    const auto started = sum(task_counters::started);
    const auto withdrawn = sum(task_counters::withdrawn);
    const auto failed_unstarted = sum(task_counters::failed_unstarted);
    const auto cancelled_unstarted = sum(task_counters::cancelled_unstarted);
    const auto submitted = sum(task_counters::submitted);

    c.total = submitted - withdrawn;
    c.completed = completed;
    c.failed = failed_started + failed_unstarted;
    c.cancelled = cancelled_started + cancelled_unstarted - withdrawn;
    c.running = started - (completed + failed_started + cancelled_started);
    c.queued = submitted - started - (failed_unstarted + cancelled_unstarted);
    return c;
}

std::vector<worker_sample> scheduler::sample_workers() const {
    std::vector<worker_sample> out;
    out.reserve(all_workers_.size());
    for (const worker* w : all_workers_) {
        worker_sample s;
        s.id = w->id;
        s.pool = w->home->kind;
        s.task_id = w->task_id.load(std::memory_order_acquire);
        s.running_since = from_ticks(w->since_ticks.load(std::memory_order_relaxed));
        s.waiting_for = w->waiting_for.load(std::memory_order_acquire);
        s.waiting_for_executor = w->waiting_in.load(std::memory_order_relaxed);
        s.tasks_run = w->tasks_run.load(std::memory_order_relaxed);
        s.queue_depth = w->queue.size();
        s.native_thread = w->native_thread.load(std::memory_order_relaxed);
        s.os_thread = w->os_thread.load(std::memory_order_relaxed);
        out.push_back(s);
    }
    return out;
}

executor_snapshot scheduler::snapshot(const snapshot_options& options) const {
    executor_snapshot snap;
    snap.counts = counts();
    const auto samples = sample_workers();

    // Tasks move queue -> live list -> history; reading in that order never
    // misses one, and duplicates keep the most advanced state.
    std::unordered_map<std::uint64_t, task_info> tasks;
    auto keep = [&](task_info info) {
        auto [it, inserted] = tasks.try_emplace(info.id, info);
        if (!inserted && static_cast<int>(info.state) > static_cast<int>(it->second.state)) {
            it->second = std::move(info);
        }
    };
    std::size_t queued_listed = 0;
    if (options.include_tasks) {
        for (worker* w : all_workers_) {
            w->for_each_queued([&](const record& rec) {
                if (queued_listed < options.max_queued_tasks && rec.state() == task_state::queued) {
                    keep(info_of(rec));
                    ++queued_listed;
                }
            });
        }
    }
    std::unordered_map<std::uint64_t, std::string> live_names;
    auto read_shard = [&](registry_shard& s) {
        std::lock_guard<spin_lock> guard(s.lock);
        s.for_each_live([&](const record& rec) {
            live_names[rec.id] = rec.name;
            if (options.include_tasks) keep(info_of(rec));
        });
        if (options.include_tasks) s.history.for_each([&](const history_entry& entry) { keep(info_of(entry)); });
    };
    for_each_shard(read_shard);

    for (const auto& s : samples) {
        worker_info info;
        info.id = s.id;
        info.pool = s.pool;
        info.task_id = s.task_id;
        info.idle = s.task_id == 0;
        info.running_since = s.running_since;
        info.waiting_for = s.waiting_for;
        info.waiting_for_executor = s.waiting_for_executor;
        info.queue_depth = s.queue_depth;
        info.tasks_run = s.tasks_run;
        info.native_thread = s.native_thread;
        info.os_thread = s.os_thread;
        if (auto it = live_names.find(s.task_id); it != live_names.end()) info.task_name = it->second;
        snap.workers.push_back(std::move(info));
    }

    // Keep all live tasks plus the most recent finished ones.
    std::vector<task_info> finished;
    for (auto& [id, info] : tasks) {
        if (is_terminal(info.state)) {
            finished.push_back(std::move(info));
        } else {
            snap.tasks.push_back(std::move(info));
        }
    }
    const auto limit = static_cast<std::size_t>(config_.history_size);
    if (finished.size() > limit) {
        std::nth_element(finished.begin(), finished.begin() + static_cast<std::ptrdiff_t>(limit), finished.end(),
                         [](const task_info& a, const task_info& b) { return a.finished_at > b.finished_at; });
        finished.resize(limit);
    }
    snap.tasks.insert(snap.tasks.end(), std::make_move_iterator(finished.begin()),
                      std::make_move_iterator(finished.end()));
    std::sort(snap.tasks.begin(), snap.tasks.end(), [](const task_info& a, const task_info& b) { return a.id < b.id; });
    return snap;
}

record* scheduler::find_live_record(std::uint64_t id, bool* started, bool include_finished) const {
    if (started != nullptr) *started = true;
    record* found = nullptr;
    for_each_shard([&](registry_shard& s) {
        std::lock_guard<spin_lock> guard(s.lock);
        s.for_each_live([&](record& rec) {
            if (found != nullptr || rec.id != id || (!include_finished && rec.done())) return;
            rec.add_ref();  // under the shard's lock (task_registry.hpp)
            found = &rec;
        });
    });
    if (found != nullptr) return found;
    if (started != nullptr) *started = false;
    for (worker* w : all_workers_) {
        w->for_each_queued([&](record& rec) {
            if (found != nullptr || rec.id != id) return;
            rec.add_ref();  // under the queue lock, which keeps the entry's reference
            found = &rec;
        });
        if (found != nullptr) return found;
    }
    return nullptr;
}

std::vector<task_deadline> scheduler::deadlines() const {
    std::vector<task_deadline> out;
    if (timed_live_.load(std::memory_order_relaxed) == 0) return out;
    for_each_shard([&](registry_shard& s) {
        std::lock_guard<spin_lock> guard(s.lock);
        s.for_each_live([&](const record& rec) {
            if (rec.timeout_ns <= 0 || rec.done()) return;
            task_deadline d;
            d.id = rec.id;
            d.name = rec.name;
            d.worker = rec.worker.load(std::memory_order_relaxed);
            d.started_at = from_ticks(rec.started_ticks.load(std::memory_order_relaxed));
            d.timeout = std::chrono::nanoseconds(rec.timeout_ns);
            out.push_back(std::move(d));
        });
    });
    return out;
}

std::optional<task_info> scheduler::find_task(std::uint64_t id) const {
    if (record* rec = find_live_record(id, nullptr, true)) {
        record_ref ref(rec);
        return info_of(*rec);
    }
    std::optional<task_info> found;
    auto search = [&](registry_shard& s) {
        std::lock_guard<spin_lock> guard(s.lock);
        s.history.for_each([&](const history_entry& entry) {
            if (entry.id == id) found = info_of(entry);
        });
    };
    for_each_shard(search);
    return found;
}

}  // namespace dftracer::detail
