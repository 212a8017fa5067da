// Wait-for analysis for a pool whose workers all wait: follow each worker's
// "waits for task X" to whoever holds X, until the chain reaches a task that
// can run (no deadlock), a worker already on the chain (a cycle), or a task
// nobody can pick up. A wait for another executor's task (a task of one
// runtime waiting on another's) is followed into that executor, so a cycle
// through several executors is found by each one's watchdog.
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

/// A worker of some executor, on a wait-for chain.
struct node {
    executor_view* view;
    const worker_sample* sample;
    /// The awaited task by which the chain reached this worker when it is
    /// not the worker's innermost task but one under it on the worker's
    /// stack (it cannot go on until the innermost returns); else 0.
    std::uint64_t under = 0;
    bool same_worker(const node& o) const { return view == o.view && sample == o.sample; }
};

const worker_sample* innermost_holder(const executor_view& view, std::uint64_t task) {
    for (const auto& s : view.samples) {
        if (s.task_id == task) return &s;
    }
    return nullptr;
}

bool has_unblocked_worker(const executor_view& view, pool_kind pool) {
    return std::any_of(view.samples.begin(), view.samples.end(),
                       [pool](const worker_sample& s) { return s.pool == pool && s.waiting_for == 0; });
}

bool runs_unblocked(const worker_sample& s) { return s.task_id != 0 && s.waiting_for == 0; }

enum class chain_end { can_proceed, blocked };

struct chain {
    chain_end end = chain_end::can_proceed;
    bool uncertain = false;
    std::vector<node> path;           // workers, in wait order
    std::ptrdiff_t cycle_start = -1;  // index into path, if a cycle closed
    std::uint64_t closing_under = 0;  // the closing step's `under` (see node)
    std::string text;
};

/// The executor that owns what `s` waits for (0: an older sampler's "own").
executor_view* awaited_view(pass_view& home, const node& at) {
    const auto owner = at.sample->waiting_for_executor;
    return owner == 0 ? at.view : home.view_of(owner);
}

chain follow(pass_view& home, const worker_sample& start) {
    chain c;
    node cur{&home, &start};
    c.path.push_back(cur);
    c.text = home.worker_name(start) + " runs " + home.label(start.task_id);
    // Each step adds a distinct worker of a view read once per pass, so the
    // loop ends.
    for (;;) {
        const std::uint64_t awaited = cur.sample->waiting_for;
        executor_view* in = awaited_view(home, cur);
        if (in == nullptr) return c;  // its executor is gone: the wait is ending
        c.text += " and waits for " + in->label(awaited);
        const worker_sample* next = innermost_holder(*in, awaited);
        if (next != nullptr) {
            c.text += ", which runs on " + in->worker_name(*next);
        } else {
            const task_info* info = in->find(awaited);
            if (info == nullptr || is_terminal(info->state)) return c;  // the wait is ending
            if (info->state == task_state::queued) {
                if (has_unblocked_worker(*in, info->pool)) return c;
                c.text += std::string(", queued on the ") + to_string(info->pool) + " pool whose workers all wait";
                c.end = chain_end::blocked;
                return c;
            }
            c.uncertain = true;
            next = in->worker(info->worker);
            if (next == nullptr || next->task_id == 0) {
                c.text += ", a suspended coroutine";
                c.end = chain_end::blocked;
                return c;
            }
            c.text += ", which started on " + in->worker_name(*next) + " and is under " + in->label(next->task_id) +
                      " there (or suspended)";
        }
        if (next->waiting_for == 0) return c;  // ends in a task that runs
        const node step{in, next, next->task_id != awaited ? awaited : 0};
        auto seen = std::find_if(c.path.begin(), c.path.end(), [&](const node& n) { return n.same_worker(step); });
        if (seen != c.path.end()) {
            c.cycle_start = seen - c.path.begin();
            c.closing_under = step.under;
            c.text += " (cycle)";
            c.end = chain_end::blocked;
            return c;
        }
        c.path.push_back(step);
        cur = step;
    }
}

bool on_chains(const deadlock_finding& found, int worker) {
    return std::find(found.workers.begin(), found.workers.end(), worker) != found.workers.end();
}

}  // namespace

std::optional<deadlock_finding> find_deadlock(pass_view& view, pool_kind pool) {
    deadlock_finding found;
    bool uncertain = false;
    std::vector<std::string> described;
    for (const auto& start : view.samples) {
        if (start.pool != pool) continue;
        if (start.waiting_for == 0) return std::nullopt;
        const bool covered = on_chains(found, start.id);
        chain c = follow(view, start);
        if (c.end != chain_end::blocked) return std::nullopt;
        uncertain = uncertain || c.uncertain;
        if (found.lead_worker < 0) found.lead_worker = start.id;
        if (c.cycle_start >= 0 && found.cycle.empty()) {
            const auto first = c.path.begin() + c.cycle_start;
            // The cycle's first worker of this executor leads the report.
            auto own = std::find_if(first, c.path.end(), [&](const node& n) { return n.view == &view; });
            if (own != c.path.end()) found.lead_worker = own->sample->id;
            // In wait order: each worker's innermost task, preceded by the
            // task the chain found under it (that one waits for the
            // innermost to return); the closing step's comes last.
            auto add = [&](std::uint64_t task, const node& n) {
                found.cycle.push_back(task);
                found.cycle_executors.push_back(n.view->serial);
            };
            for (auto it = first; it != c.path.end(); ++it) {
                if (it != first && it->under != 0) add(it->under, *it);
                add(it->sample->task_id, *it);
            }
            if (c.closing_under != 0) add(c.closing_under, *first);
        }
        // Only this executor's workers: report.workers are its worker ids.
        for (const node& n : c.path) {
            if (n.view == &view && !on_chains(found, n.sample->id)) found.workers.push_back(n.sample->id);
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
