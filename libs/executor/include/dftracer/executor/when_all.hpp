// when_all: wait for many tasks at once.
//
//  - `co_await when_all(std::move(tasks))` over task<T>: runs every task as
//    part of the awaiting coroutine's task (a strand each, detail/strand.hpp:
//    no record, no handle, no id of their own; progress shows the awaiting
//    task on each worker running one), on that coroutine's executor and
//    pool, and returns the results in order.
//  - `co_await when_all(a(), b())` over a fixed set of task<T>: the same,
//    returning a tuple, with no allocation: a fork-join step.
//  - `when_all(handles)` over task_handle<T>: an awaitable that also works
//    from ordinary code: `co_await when_all(hs)` suspends once (no thread
//    blocks); `when_all(hs).get()` blocks (helping, on a worker) and
//    returns the results.
// Either way the first failure (by position) is rethrown once every task
// has finished; the other results are dropped.
//
// Cost over tasks: the first task runs at once on the awaiting worker, the
// others are queued there (under one lock) for other workers to take, and
// taken back to run there while nobody did; the awaiting coroutine
// suspends only if some task is still running elsewhere (the last to
// finish requeues it). Over handles: one completion callback per task and
// one requeue.
// Thread-safety: a join is used by one awaiting coroutine or thread.
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/strand.hpp"
#include "dftracer/executor/detail/submit.hpp"
#include "dftracer/executor/task.hpp"
#include "dftracer/executor/task_handle.hpp"

namespace dftracer {

namespace detail {

/// The awaiting coroutine's place; throws std::logic_error for a
/// coroutine not spawned on an executor.
inline coroutine_place checked_place(coroutine_place place) {
    if (place.root == nullptr) throw std::logic_error("co_await when_all needs a coroutine spawned on an executor");
    return place;
}

/// Makes task t (not started) the first frame of a strand of fork `join`
/// in task `root`; the strand lives in t's promise.
template <class X>
strand* fork_child(task<X>& t, record* root, fork_join& join) noexcept {
    return &t.handle().promise().start_strand(t.handle(), root, join);
}

/// Counts the unfinished tasks of a join; the last one to finish requeues
/// the suspended coroutine. Lives in the awaiting coroutine's frame until
/// it resumes.
class join_counter {
public:
    /// Registers a callback on every record; true if the coroutine must
    /// suspend (some task is unfinished: the last one resumes it).
    bool suspend(record* const* records, std::size_t n, coroutine_place place, std::coroutine_handle<> continuation) {
        place_ = checked_place(place);
        continuation_ = continuation;
        pool_ = suspension_pool(place_.root);
        nodes_ = std::make_unique<node[]>(n);
        // One count per task plus this call's own, dropped last: no task can
        // resume the coroutine before it is allowed to suspend.
        remaining_.store(n + 1, std::memory_order_relaxed);
        hold_root(place_);  // the requeue's, if a task resumes it
        begin_suspension(place_);
        for (std::size_t i = 0; i < n; ++i) {
            nodes_[i].join = this;
            if (!records[i]->add_callback(nodes_[i])) remaining_.fetch_sub(1, std::memory_order_acq_rel);
        }
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            end_suspension(place_);
            drop_root(place_);
            return false;
        }
        return true;
    }

private:
    struct node final : completion_callback {
        join_counter* join = nullptr;
        void run(record&) noexcept override { join->one_done(); }
        void discard() noexcept override {}
    };
    void one_done() noexcept {
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        // The last: the coroutine may run (and free this) once requeued.
        resume_after_wait(place_, continuation_, pool_);
    }

    std::atomic<std::size_t> remaining_{0};
    coroutine_place place_{};
    std::coroutine_handle<> continuation_{};
    pool_kind pool_ = pool_kind::compute;
    std::unique_ptr<node[]> nodes_;
};

/// The results of finished handles in order, or the first failure.
template <class T>
auto collect(const std::vector<task_handle<T>>& handles) {
    std::exception_ptr first_error;
    for (const auto& h : handles) {
        if (!first_error) first_error = h.exception();
    }
    if (first_error) std::rethrow_exception(first_error);
    if constexpr (std::is_void_v<T>) {
        return;
    } else {
        std::vector<T> results;
        results.reserve(handles.size());
        for (const auto& h : handles) results.push_back(h.get());
        return results;
    }
}

/// Awaitable: runs tasks as forked children of the awaiting coroutine (a
/// strand each) and resumes it once all have finished, with their results
/// in order or the first failure (by position).
template <class T>
class forked {
public:
    explicit forked(std::vector<task<T>> tasks) : tasks_(std::move(tasks)) {
        for (const auto& t : tasks_) {
            if (!t.valid()) throw std::invalid_argument("when_all: empty task");
        }
    }
    bool await_ready() const noexcept { return tasks_.empty(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        const coroutine_place place = checked_place(h.promise().place());
        const std::size_t n = tasks_.size();
        auto strands = std::make_unique_for_overwrite<strand*[]>(n);
        for (std::size_t i = 0; i < n; ++i) strands[i] = fork_child(tasks_[i], place.root, join_);
        return join_.run(place, h, strands.get(), n);
    }
    auto await_resume() {
        for (auto& t : tasks_) t.handle().promise().rethrow_if_failed();
        if constexpr (std::is_void_v<T>) {
            return;
        } else {
            std::vector<T> results;
            results.reserve(tasks_.size());
            for (auto& t : tasks_) results.push_back(t.handle().promise().take());
            return results;
        }
    }

private:
    std::vector<task<T>> tasks_;
    fork_join join_;
};

/// Awaitable: runs a fixed set of tasks as forked children of the awaiting
/// coroutine (as forked<T>, without allocating) and resumes it with a tuple
/// of their results, or the first failure (by position).
template <class... T>
class forked_tuple {
public:
    explicit forked_tuple(task<T>... tasks) : tasks_(std::move(tasks)...) {
        std::apply(
            [](const auto&... t) {
                if (!(t.valid() && ...)) throw std::invalid_argument("when_all: empty task");
            },
            tasks_);
    }
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        const coroutine_place place = checked_place(h.promise().place());
        std::array<strand*, sizeof...(T)> strands{};
        std::apply(
            [&](auto&... t) {
                std::size_t i = 0;
                ((strands[i++] = fork_child(t, place.root, join_)), ...);
            },
            tasks_);
        return join_.run(place, h, strands.data(), strands.size());
    }
    std::tuple<T...> await_resume() {
        return std::apply(
            [](auto&... t) {
                (t.handle().promise().rethrow_if_failed(), ...);
                return std::tuple<T...>{t.handle().promise().take()...};
            },
            tasks_);
    }

private:
    std::tuple<task<T>...> tasks_;
    fork_join join_;
};

}  // namespace detail

/// Runs a fixed set of tasks concurrently as parts of the awaiting
/// coroutine's task (as the vector form does) and returns a tuple of their
/// results: `auto [a, b] = co_await when_all(left(), right());`. The first
/// task runs at once on the awaiting worker; the others are queued there
/// for other workers to take, and run here too if nobody did. Allocates
/// nothing beyond the tasks' own frames. An awaitable: co_await it in a
/// coroutine. Tasks must return values (void tasks: the vector form).
/// Throws std::invalid_argument for an empty task.
template <class... T>
    requires(sizeof...(T) > 0 && (!std::is_void_v<T> && ...))
detail::forked_tuple<T...> when_all(task<T>... tasks) {
    return detail::forked_tuple<T...>(std::move(tasks)...);
}

/// Waits for a set of handles; see the file comment.
template <class T>
class [[nodiscard]] join {
public:
    explicit join(std::vector<task_handle<T>> handles) : handles_(std::move(handles)) {
        for (const auto& h : handles_) {
            if (!h.valid()) throw std::invalid_argument("when_all: empty task_handle");
        }
    }

    /// Blocks until every task finished (on a worker of an executor it runs
    /// queued work meanwhile), then returns the results in order or rethrows
    /// the first failure.
    auto get() const {
        wait();
        return detail::collect(handles_);
    }
    /// Blocks until every task finished; does not throw their errors.
    void wait() const {
        for (const auto& h : handles_) h.wait();
    }
    const std::vector<task_handle<T>>& handles() const noexcept { return handles_; }

    bool await_ready() const noexcept {
        for (const auto& h : handles_) {
            if (!h.done()) return false;
        }
        return true;
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        std::vector<detail::record*> records;
        records.reserve(handles_.size());
        for (const auto& handle : handles_) records.push_back(handle.raw());
        return counter_.suspend(records.data(), records.size(), h.promise().place(), h);
    }
    auto await_resume() const { return detail::collect(handles_); }

private:
    std::vector<task_handle<T>> handles_;
    detail::join_counter counter_;
};

/// A join over handles (any executor's): `co_await when_all(hs)` or
/// `when_all(hs).get()`.
template <class T>
join<T> when_all(std::vector<task_handle<T>> handles) {
    return join<T>(std::move(handles));
}

/// Runs every task concurrently as part of the awaiting coroutine's task,
/// on its executor and the pool it runs on, and returns their results in
/// order. The first failure (by position) is rethrown after all have
/// finished. Throws std::invalid_argument for an empty task.
template <class T>
task<std::vector<T>> when_all(std::vector<task<T>> tasks) {
    co_return co_await detail::forked<T>(std::move(tasks));
}

/// void tasks: waits for all, rethrows the first failure.
inline task<void> when_all(std::vector<task<void>> tasks) { co_await detail::forked<void>(std::move(tasks)); }

}  // namespace dftracer
