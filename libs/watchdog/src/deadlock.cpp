// Wait-for analysis for a pool whose workers all wait: follow each worker's
// "waits for task X" to whoever holds X, until the chain reaches a task that
// can run (no deadlock), a worker already on the chain (a cycle), or a task
// nobody can pick up.
//
// What a sample says: a worker's innermost task and the task it waits for. A
// task that is running but innermost on no worker sits under a helped task on
// some worker's stack, or is a suspended coroutine; the executor records only
// the worker that started it, so such an edge is uncertain and is trusted only
// when no worker anywhere runs un-blocked (then nothing can make progress).
#include <algorithm>

#include "monitor.hpp"
#include "text.hpp"

namespace dftracer::watchdog_detail {

namespace {

const worker_sample* innermost_holder(const pass_view& view, std::uint64_t task) {
    for (const auto& s : view.samples) {
        if (s.task_id == task) return &s;
    }
    return nullptr;
}

bool has_unblocked_worker(const pass_view& view, pool_kind pool) {
    return std::any_of(view.samples.begin(), view.samples.end(),
                       [pool](const worker_sample& s) { return s.pool == pool && s.waiting_for == 0; });
}

bool runs_unblocked(const worker_sample& s) { return s.task_id != 0 && s.waiting_for == 0; }

enum class chain_end { can_proceed, blocked };

struct chain {
    chain_end end = chain_end::can_proceed;
    bool uncertain = false;
    std::vector<const worker_sample*> path;  // workers, in wait order
    std::ptrdiff_t cycle_start = -1;         // index into path, if a cycle closed
    std::string text;
};

chain follow(pass_view& view, const worker_sample& start) {
    chain c;
    c.path.push_back(&start);
    c.text = worker_label(start.id, start.pool) + " runs " + view.label(start.task_id);
    const worker_sample* cur = &start;
    // Each step adds a distinct worker, so the loop ends within samples.size() steps.
    for (std::size_t step = 0; step <= view.samples.size(); ++step) {
        const std::uint64_t awaited = cur->waiting_for;
        c.text += " and waits for " + view.label(awaited);
        const worker_sample* next = innermost_holder(view, awaited);
        if (next != nullptr) {
            c.text += ", which runs on " + worker_label(next->id, next->pool);
        } else {
            const task_info* info = view.find(awaited);
            if (info == nullptr || is_terminal(info->state)) return c;  // the wait is ending
            if (info->state == task_state::queued) {
                if (has_unblocked_worker(view, info->pool)) return c;
                c.text += std::string(", queued on the ") + to_string(info->pool) + " pool whose workers all wait";
                c.end = chain_end::blocked;
                return c;
            }
            c.uncertain = true;
            next = view.worker(info->worker);
            if (next == nullptr || next->task_id == 0) {
                c.text += ", a suspended coroutine";
                c.end = chain_end::blocked;
                return c;
            }
            c.text += ", which started on " + worker_label(next->id, next->pool) + " and is under " +
                      view.label(next->task_id) + " there (or suspended)";
        }
        if (next->waiting_for == 0) return c;  // ends in a task that runs
        auto seen = std::find(c.path.begin(), c.path.end(), next);
        if (seen != c.path.end()) {
            c.cycle_start = seen - c.path.begin();
            c.text += " (cycle)";
            c.end = chain_end::blocked;
            return c;
        }
        c.path.push_back(next);
        cur = next;
    }
    return c;
}

}  // namespace

std::optional<deadlock_finding> find_deadlock(pass_view& view, pool_kind pool) {
    deadlock_finding found;
    bool uncertain = false;
    std::vector<std::string> described;
    for (const auto& start : view.samples) {
        if (start.pool != pool) continue;
        if (start.waiting_for == 0) return std::nullopt;
        const bool covered = std::find(found.workers.begin(), found.workers.end(), start.id) != found.workers.end();
        chain c = follow(view, start);
        if (c.end != chain_end::blocked) return std::nullopt;
        uncertain = uncertain || c.uncertain;
        if (found.lead_worker < 0) found.lead_worker = start.id;
        if (c.cycle_start >= 0 && found.cycle.empty()) {
            const auto first = c.path.begin() + c.cycle_start;
            found.lead_worker = (*first)->id;
            for (auto it = first; it != c.path.end(); ++it) found.cycle.push_back((*it)->task_id);
        }
        for (const worker_sample* s : c.path) {
            if (std::find(found.workers.begin(), found.workers.end(), s->id) == found.workers.end()) {
                found.workers.push_back(s->id);
            }
        }
        // A worker already on an earlier chain adds nothing new to the text.
        if (!covered) described.push_back(std::move(c.text));
    }
    if (found.lead_worker < 0) return std::nullopt;  // empty pool
    if (uncertain && std::any_of(view.samples.begin(), view.samples.end(), runs_unblocked)) return std::nullopt;

    constexpr std::size_t max_described = 4;
    for (std::size_t i = 0; i < described.size() && i < max_described; ++i) {
        if (i != 0) found.chains += "; ";
        found.chains += described[i];
    }
    // Appends, not `"literal" + std::string`: GCC 12 at -O3 warns falsely on
    // that form (-Wrestrict, GCC PR 105651).
    if (described.size() > max_described) {
        found.chains.append("; and ").append(std::to_string(described.size() - max_described)).append(" more chains");
    }
    if (!found.cycle.empty()) {
        found.chains.append("; cycle:");
        for (auto id : found.cycle) found.chains.append(" ").append(std::to_string(id)).append(" ->");
        found.chains.append(" ").append(std::to_string(found.cycle.front()));
    }
    return found;
}

}  // namespace dftracer::watchdog_detail
