// The views a pass reads: the watched executor's (pass_view) and, for waits
// that lead elsewhere, other executors' (foreign_view).
#include "monitor.hpp"
#include "text.hpp"

namespace dftracer::watchdog_detail {

const task_info* executor_view::find(std::uint64_t id) {
    auto it = cache_.find(id);
    if (it == cache_.end()) it = cache_.emplace(id, lookup(id)).first;
    return it->second ? &*it->second : nullptr;
}

std::string executor_view::name_of(std::uint64_t id) {
    const task_info* info = find(id);
    return info != nullptr ? info->name : std::string();
}

std::string executor_view::label(std::uint64_t id) {
    auto text = task_label(id, name_of(id));
    if (foreign()) text.append(" of executor ").append(std::to_string(serial));
    return text;
}

std::string executor_view::worker_name(const worker_sample& s) const {
    auto text = worker_label(s.id, s.pool);
    if (foreign()) text.append(" of executor ").append(std::to_string(serial));
    return text;
}

const worker_sample* executor_view::worker(int id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= samples.size()) return nullptr;
    const auto& s = samples[static_cast<std::size_t>(id)];
    return s.id == id ? &s : nullptr;
}

std::unique_ptr<foreign_view> foreign_view::read(std::uint64_t serial) {
    auto view = std::make_unique<foreign_view>();
    view->serial = serial;
    if (!visit_executor(serial, [&](const executor& e) { view->samples = e.sample_workers(); })) return nullptr;
    return view;
}

std::optional<task_info> foreign_view::lookup(std::uint64_t id) {
    std::optional<task_info> found;
    visit_executor(serial, [&](const executor& e) { found = e.find_task(id); });
    return found;
}

pass_view::pass_view(executor& e, clock::time_point t) : ex(e), now(t) {
    serial = e.serial();
    samples = e.sample_workers();
}

executor_view* pass_view::view_of(std::uint64_t other) {
    if (other == serial) return this;
    auto it = others_.find(other);
    if (it == others_.end()) it = others_.emplace(other, foreign_view::read(other)).first;
    return it->second.get();
}

}  // namespace dftracer::watchdog_detail
