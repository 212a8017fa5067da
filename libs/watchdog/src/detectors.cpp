// The per-kind checks of one pass: timeouts, slow tasks, stalls, and the
// episode tracking that gates the deadlock analysis (deadlock.cpp).
#include <algorithm>

#include "monitor.hpp"
#include "text.hpp"

namespace dftracer::watchdog_detail {

namespace {

nanoseconds since(clock::time_point now, clock::time_point then) {
    const auto d = std::chrono::duration_cast<nanoseconds>(now - then);
    return d.count() < 0 ? nanoseconds(0) : d;
}

bool is_epoch(clock::time_point t) { return t.time_since_epoch().count() == 0; }

/// Next level of a doubling schedule after `elapsed`, for the message.
nanoseconds next_level(nanoseconds elapsed, nanoseconds threshold) {
    auto level = threshold;
    while (level <= elapsed && level.count() < std::numeric_limits<std::int64_t>::max() / 2) level *= 2;
    return level;
}

std::vector<const worker_sample*> pool_workers(const pass_view& view, pool_kind pool) {
    std::vector<const worker_sample*> out;
    for (const auto& s : view.samples) {
        if (s.pool == pool) out.push_back(&s);
    }
    return out;
}

std::string busy_workers(std::size_t n) {
    return n == 1 ? std::string("its only worker busy") : "all " + std::to_string(n) + " workers busy";
}

void add_worker(watchdog_report& r, const worker_sample& s) {
    if (std::find(r.workers.begin(), r.workers.end(), s.id) != r.workers.end()) return;
    r.workers.push_back(s.id);
    r.native_threads.push_back(s.native_thread);
}

}  // namespace

// ------------------------------------------------------------------ pass_view

watchdog_report pass_view::make_report(report_kind kind, pool_kind pool, std::uint64_t task, int worker_id,
                                       const std::string* name) {
    watchdog_report r;
    r.kind = kind;
    r.source = &ex;
    r.pool = pool;
    r.task_id = task;
    if (name != nullptr) {
        r.task_name = *name;
    } else if (task != 0) {
        r.task_name = name_of(task);
    }
    r.worker = worker_id;
    if (const worker_sample* s = worker(worker_id)) {
        r.native_thread = s->native_thread;
        add_worker(r, *s);
    }
    return r;
}

// ---------------------------------------------------------------- the pass

void executor_monitor::run(executor& ex, const pass_settings& settings, clock::time_point now,
                           std::vector<watchdog_report>& out, const bool& dropped) {
    pass_view view(ex, now);
    if (settings.timeouts) check_timeouts(view, out, dropped);
    if (dropped) return;
    check_slow(view, settings.slow, out);
    for (pool_kind pool : {pool_kind::compute, pool_kind::io}) {
        check_stall(view, pool, settings.stall, out);
        check_deadlock(view, pool, settings.deadlock, out);
    }
}

void executor_monitor::check_timeouts(pass_view& view, std::vector<watchdog_report>& out, const bool& dropped) {
    for (const task_deadline& d : view.ex.deadlines()) {  // empty and lock-free while no timed task is live
        if (d.timeout.count() <= 0 || is_epoch(d.started_at)) continue;
        if (view.now < d.started_at + std::chrono::duration_cast<clock::duration>(d.timeout)) continue;
        const auto elapsed = since(view.now, d.started_at);
        const std::string what = task_label(d.id, d.name) + " exceeded its timeout of " + seconds(d.timeout);
        const worker_sample* s = view.worker(d.worker);
        auto r = view.make_report(report_kind::timeout, s != nullptr ? s->pool : pool_kind::compute, d.id, d.worker,
                                  &d.name);
        r.elapsed = elapsed;
        r.message = what + " (running for " + seconds(elapsed) +
                    (d.worker >= 0 ? " on " + worker_label(d.worker, r.pool) : std::string()) +
                    "); its handle failed with task_timeout and the task was asked to stop";
        // fail_task loses to a task that finished meanwhile: nothing to report.
        // It may run the executor's on_error hook here, which may unwatch it.
        if (!view.ex.fail_task(d.id, std::make_exception_ptr(task_timeout(what)))) continue;
        out.push_back(std::move(r));
        if (dropped) return;
    }
}

void executor_monitor::check_slow(pass_view& view, nanoseconds threshold, std::vector<watchdog_report>& out) {
    if (threshold.count() <= 0) {
        slow_.clear();
        return;
    }
    for (const auto& s : view.samples) {
        if (s.task_id == 0 || is_epoch(s.running_since)) continue;
        const auto elapsed = since(view.now, s.running_since);
        auto it = slow_.find(s.task_id);
        escalation schedule = it != slow_.end() ? it->second : escalation{};
        if (!schedule.due(elapsed, threshold)) continue;
        schedule.advance(elapsed, threshold);
        slow_[s.task_id] = schedule;

        auto r = view.make_report(report_kind::slow, s.pool, s.task_id, s.id);
        r.elapsed = elapsed;
        r.message = task_label(s.task_id, r.task_name) + " has been running for " + seconds(elapsed) + " on " +
                    worker_label(s.id, s.pool);
        if (s.waiting_for != 0) r.message += ", blocked waiting for " + view.label(s.waiting_for);
        if (const task_info* info = view.find(s.task_id); info != nullptr && is_terminal(info->state)) {
            r.message += std::string("; its handle already ") + to_string(info->state) +
                         (info->error.empty() ? std::string() : " (" + info->error + ")") +
                         " but its code is still running";
        }
        r.message += " (slow threshold " + seconds(threshold) + ", next report at " +
                     seconds(next_level(elapsed, threshold)) + ")";
        out.push_back(std::move(r));
    }
    // Forget reported tasks that finished. One that is only out of sight (its
    // worker is running a helped task on top of it) keeps its schedule.
    for (auto it = slow_.begin(); it != slow_.end();) {
        const auto id = it->first;
        const bool on_top = std::any_of(view.samples.begin(), view.samples.end(),
                                        [id](const worker_sample& s) { return s.task_id == id; });
        const task_info* info = on_top ? nullptr : view.find(id);
        if (!on_top && (info == nullptr || is_terminal(info->state))) {
            it = slow_.erase(it);
        } else {
            ++it;
        }
    }
}

void executor_monitor::check_stall(pass_view& view, pool_kind pool, nanoseconds threshold,
                                   std::vector<watchdog_report>& out) {
    episode& ep = stall_[static_cast<int>(pool)];
    const auto workers = pool_workers(view, pool);
    std::size_t queued = 0;
    bool all_busy = !workers.empty();
    bool all_waiting = !workers.empty();
    std::vector<std::uint64_t> signature;
    for (const worker_sample* s : workers) {
        queued += s->queue_depth;
        all_busy = all_busy && s->task_id != 0;
        all_waiting = all_waiting && s->waiting_for != 0;
        signature.push_back(s->task_id);
        signature.push_back(s->tasks_run);
    }
    // All waiting is the deadlock check's business (waiting workers help
    // with queued work, so queued work next to them does not last).
    const bool condition = threshold.count() > 0 && queued > 0 && all_busy && !all_waiting;
    const auto elapsed = ep.observe(condition, signature, view.now);
    if (!condition || !ep.schedule().due(elapsed, threshold)) return;
    ep.schedule().advance(elapsed, threshold);

    const worker_sample* oldest = workers.front();
    for (const worker_sample* s : workers) {
        if (s->running_since < oldest->running_since) oldest = s;
    }
    auto r = view.make_report(report_kind::stall, pool, oldest->task_id, oldest->id);
    r.elapsed = elapsed;
    r.message = std::string("the ") + to_string(pool) + " pool is stalled: " + std::to_string(queued) + " queued, " +
                busy_workers(workers.size()) + ", and no task started or finished for " + seconds(elapsed) +
                " (stall threshold " + seconds(threshold) +
                "); longest running: " + task_label(oldest->task_id, r.task_name) + " on " +
                worker_label(oldest->id, pool) + " for " + seconds(since(view.now, oldest->running_since));
    for (const worker_sample* s : workers) add_worker(r, *s);
    out.push_back(std::move(r));
}

void executor_monitor::check_deadlock(pass_view& view, pool_kind pool, nanoseconds threshold,
                                      std::vector<watchdog_report>& out) {
    episode& ep = deadlock_[static_cast<int>(pool)];
    const auto workers = pool_workers(view, pool);
    bool all_waiting = !workers.empty();
    std::vector<std::uint64_t> signature;
    for (const worker_sample* s : workers) {
        all_waiting = all_waiting && s->waiting_for != 0;
        signature.push_back(s->task_id);
        signature.push_back(s->waiting_for);
        signature.push_back(s->tasks_run);
    }
    const bool condition = threshold.count() > 0 && all_waiting;
    const auto elapsed = ep.observe(condition, signature, view.now);
    if (!condition || !ep.schedule().due(elapsed, threshold)) return;
    // Analysed only once the picture has been frozen for the threshold; a
    // wait that can still end is re-examined on the next pass.
    auto finding = find_deadlock(view, pool);
    if (!finding) return;
    ep.schedule().advance(elapsed, threshold);

    const worker_sample* lead = view.worker(finding->lead_worker);
    auto r = view.make_report(report_kind::deadlock, pool, lead != nullptr ? lead->task_id : 0, finding->lead_worker);
    r.elapsed = elapsed;
    r.cycle = std::move(finding->cycle);
    r.cycle_executors = std::move(finding->cycle_executors);
    for (const worker_sample* s : workers) add_worker(r, *s);
    for (int w : finding->workers) {
        if (const worker_sample* s = view.worker(w)) add_worker(r, *s);
    }
    r.message = (workers.size() == 1 ? std::string("the only ") : "all " + std::to_string(workers.size()) + " ") +
                to_string(pool) + (workers.size() == 1 ? " worker is" : " workers are") +
                " blocked waiting and none of the waits can end, unchanged for " + seconds(elapsed) +
                " (deadlock threshold " + seconds(threshold) + "): " + finding->chains;
    out.push_back(std::move(r));
}

}  // namespace dftracer::watchdog_detail
