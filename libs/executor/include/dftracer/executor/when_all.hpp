// when_all: wait for many tasks at once.
//
//  - `co_await when_all(std::move(tasks))` over task<T>: spawns every task
//    on the awaiting coroutine's executor and pool, suspends once, and
//    resumes with the results in order.
//  - `when_all(handles)` over task_handle<T>: an awaitable that also works
//    from ordinary code: `co_await when_all(hs)` suspends once (no thread
//    blocks); `when_all(hs).get()` blocks (helping, on a worker) and
//    returns the results.
// Either way the first failure (by position) is rethrown once every task
// has finished; the other results are dropped.
//
// Cost: one completion callback per task (no extra record, no resumption
// per task): the last task to finish requeues the awaiting coroutine.
// Thread-safety: a join is used by one awaiting coroutine or thread.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "dftracer/executor/detail/record.hpp"
#include "dftracer/executor/detail/submit.hpp"
#include "dftracer/executor/task.hpp"
#include "dftracer/executor/task_handle.hpp"

namespace dftracer {

namespace detail {

/// Counts the unfinished tasks of a join; the last one to finish requeues
/// the suspended coroutine. Lives in the awaiting coroutine's frame until
/// it resumes.
class join_counter {
public:
    /// Registers a callback on every record; true if the coroutine must
    /// suspend (some task is unfinished: the last one resumes it).
    bool suspend(record* const* records, std::size_t n, record* root, std::coroutine_handle<> continuation) {
        if (root == nullptr) throw std::logic_error("co_await when_all needs a coroutine spawned on an executor");
        root_ = root;
        continuation_ = continuation;
        pool_ = suspension_pool(root);
        nodes_ = std::make_unique<node[]>(n);
        // One count per task plus this call's own, dropped last: no task can
        // resume the coroutine before it is allowed to suspend.
        remaining_.store(n + 1, std::memory_order_relaxed);
        root_->add_ref();  // the queue entry's, if a task resumes it
        for (std::size_t i = 0; i < n; ++i) {
            nodes_[i].join = this;
            if (!records[i]->add_callback(nodes_[i])) remaining_.fetch_sub(1, std::memory_order_acq_rel);
        }
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            root_->release();
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
        resume_later(root_, continuation_, pool_);
    }

    std::atomic<std::size_t> remaining_{0};
    record* root_ = nullptr;
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

}  // namespace detail

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
        return counter_.suspend(records.data(), records.size(), h.promise().root(), h);
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

/// Runs every task concurrently on the executor running the awaiting
/// coroutine (each is spawned on the current pool) and returns their results
/// in order. The first failure is rethrown after all have finished.
template <class T>
task<std::vector<T>> when_all(std::vector<task<T>> tasks) {
    detail::record* root = co_await detail::current_root{};
    auto& sched = detail::scheduler_of(root);
    std::vector<task_handle<T>> handles;
    handles.reserve(tasks.size());
    for (auto& t : tasks) {
        handles.push_back(detail::spawn_on(sched, std::move(t), {root->name, detail::current_pool_or(root->pool), {}}));
    }
    co_return co_await join<T>(std::move(handles));
}

/// void tasks: waits for all, rethrows the first failure.
inline task<void> when_all(std::vector<task<void>> tasks) {
    detail::record* root = co_await detail::current_root{};
    auto& sched = detail::scheduler_of(root);
    std::vector<task_handle<void>> handles;
    handles.reserve(tasks.size());
    for (auto& t : tasks) {
        handles.push_back(detail::spawn_on(sched, std::move(t), {root->name, detail::current_pool_or(root->pool), {}}));
    }
    co_await join<void>(std::move(handles));
}

}  // namespace dftracer
