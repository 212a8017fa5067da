// The public executor facade and the free functions that headers declare.
#include "dftracer/executor/executor.hpp"

#include <algorithm>
#include <stdexcept>

#include "awaited_board.hpp"
#include "dftracer/executor/extension.hpp"
#include "dftracer/executor/task_group.hpp"
#include "dftracer/executor/trace.hpp"
#include "executor_directory.hpp"
#include "scheduler.hpp"
#include "thread_context.hpp"

namespace dftracer {

const char* to_string(task_state state) noexcept {
    switch (state) {
        case task_state::queued:
            return "queued";
        case task_state::running:
            return "running";
        case task_state::completed:
            return "completed";
        case task_state::failed:
            return "failed";
        case task_state::cancelled:
            return "cancelled";
    }
    return "unknown";
}

const char* to_string(pool_kind pool) noexcept { return pool == pool_kind::io ? "io" : "compute"; }

executor::executor(executor_config config) : impl_(std::make_unique<detail::scheduler>(*this, config)) {
    detail::executor_directory::add(*this);
}

executor::~executor() {
    detail::executor_directory::remove(*this);
    // Inherited across fork(): joining threads that do not exist crashed.
    // The engine is left as it is (its memory with it) instead.
    if (impl_->in_forked_child()) (void)impl_.release();
}

std::uint64_t executor::serial() const noexcept { return impl_->serial(); }

void executor::wait_all() { impl_->wait_all(nullptr); }

bool executor::wait_all_for(std::chrono::nanoseconds timeout) {
    auto deadline = clock::now() + std::chrono::ceil<clock::duration>(timeout);
    return impl_->wait_all(&deadline);
}

void executor::shutdown(bool drain, bool wait) { impl_->shutdown(drain, wait); }
bool executor::is_shut_down() const noexcept { return impl_->is_shut_down(); }
int executor::threads() const noexcept { return impl_->threads(); }
int executor::io_threads() const noexcept { return impl_->io_threads(); }
task_counts executor::counts() const noexcept { return impl_->counts(); }

executor_snapshot executor::snapshot(const snapshot_options& options) const { return impl_->snapshot(options); }

std::vector<worker_sample> executor::sample_workers() const { return impl_->sample_workers(); }

std::vector<task_info> executor::recorded_tasks() const {
    auto tasks = impl_->snapshot({true, 0}).tasks;
    std::erase_if(tasks, [](const task_info& t) { return t.started_at.time_since_epoch().count() == 0; });
    return tasks;
}

void executor::export_trace(const std::filesystem::path& path) const {
    write_trace(path, recorded_tasks(), sample_workers());
}

std::vector<task_deadline> executor::deadlines() const { return impl_->deadlines(); }

std::optional<task_info> executor::find_task(std::uint64_t id) const { return impl_->find_task(id); }

bool executor::request_stop(std::uint64_t id) {
    // A queue keeps a cancelled or failed task's entry until a worker skips
    // it: such a task is found but finished.
    bool asked = false;
    impl_->with_record(id, [&](detail::record& rec, bool) {
        if (rec.done()) return;
        rec.request_stop();
        asked = true;
    });
    return asked;
}

bool executor::fail_task(std::uint64_t id, std::exception_ptr error) {
    if (!error) throw std::invalid_argument("fail_task: the error must not be null");
    bool failed = false;
    impl_->with_record(id, [&](detail::record& rec, bool started) {
        rec.request_stop();
        // A record found in a queue may only be failed while still queued: a
        // worker that just claimed it has not linked it into the live list yet.
        if (started ? rec.begin_finish(true) : rec.begin_cancel()) {
            rec.finish_with(std::move(error));
            failed = true;
        }
    });
    return failed;
}

executor* executor::current() noexcept {
    auto* sched = detail::thread_context::get().sched;
    return sched != nullptr ? &sched->owner() : nullptr;
}

namespace this_task {
std::uint64_t id() noexcept {
    auto* rec = detail::thread_context::get().current;
    return rec != nullptr ? rec->id : 0;
}
bool stop_requested() noexcept {
    auto* rec = detail::thread_context::get().current;
    return rec != nullptr && rec->stop_requested();
}
int worker_id() noexcept {
    auto* w = detail::thread_context::get().self;
    return w != nullptr ? w->id : -1;
}
}  // namespace this_task

namespace detail {

void publish_finish(record& rec, task_state terminal) noexcept { rec.owner->publish_finish(rec, terminal); }

std::string describe_exception(const std::exception_ptr& error) {
    if (!error) return {};
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

scheduler& engine_of(executor& ex) noexcept { return *ex.impl_; }

void submit_record(scheduler& sched, record* rec, submit_options&& options, bool adopt_caller_ref) {
    sched.submit(rec, std::move(options), adopt_caller_ref);
}

void submit_records(scheduler& sched, record* const* recs, std::size_t n, const submit_options& options) {
    sched.submit_batch(recs, n, options);
}

bool wait_record(record& rec, const clock::time_point* deadline) {
    if (rec.done()) return true;
    if (rec.owner == nullptr) throw std::logic_error("task was never submitted");
    // A worker helps its own pool, whichever executor the task belongs to.
    scheduler* own = thread_context::get().sched;
    return (own != nullptr ? own : rec.owner)->wait(rec, deadline);
}

bool wait_group(executor& ex, group_state& group, const clock::time_point* deadline) {
    if (group.idle()) return true;
    scheduler* own = thread_context::get().sched;
    return (own != nullptr ? *own : engine_of(ex)).wait_group(group, deadline);
}

pool_kind suspension_pool(record* root) noexcept {
    worker* self = root->owner->current_worker();
    return self != nullptr ? self->home->kind : root->pool;
}

bool await_record(record& rec, coroutine_place place, std::coroutine_handle<> continuation) {
    return rec.owner->await(rec, place, continuation);
}

void rethrow_outcome(const record& rec) {
    if (rec.error()) std::rethrow_exception(rec.error());
    if (rec.state() == task_state::cancelled) throw task_cancelled();
    throw std::logic_error("task has not finished");
}

bool cancel_record(record& rec) noexcept { return rec.owner != nullptr && rec.owner->cancel(rec); }

bool reschedule(coroutine_place place, std::coroutine_handle<> h, pool_kind pool, bool always_hop) {
    if (place.root == nullptr) throw std::logic_error("resume_on() needs a coroutine spawned on an executor");
    return place.root->owner->reschedule(place, h, pool, always_hop);
}

bool yield_now(coroutine_place place, std::coroutine_handle<> h) {
    if (place.root == nullptr) throw std::logic_error("yield() needs a coroutine spawned on an executor");
    return place.root->owner->yield_now(place, h);
}

void check_stop(record* root) {
    if (root != nullptr && root->stop_requested()) throw task_cancelled("task was asked to stop");
}

scheduler& scheduler_of(record* root) {
    if (root == nullptr || root->owner == nullptr) {
        throw std::logic_error("needs a coroutine spawned on an executor");
    }
    return *root->owner;
}

pool_kind current_pool_or(pool_kind fallback) noexcept {
    auto* w = thread_context::get().self;
    return w != nullptr ? w->home->kind : fallback;
}

}  // namespace detail

void submit_record(executor& ex, task_record& rec, submit_options options) {
    detail::submit_record(detail::engine_of(ex), &rec, std::move(options));
}

bool wait_for_record(task_record& rec, const clock::time_point* deadline) { return detail::wait_record(rec, deadline); }

void note_awaited(task_record& rec) noexcept { detail::awaited_board::instance().note(rec); }

}  // namespace dftracer
