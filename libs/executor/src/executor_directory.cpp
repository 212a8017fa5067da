// executor_directory: a mutex and a map from serial to executor.
#include "executor_directory.hpp"

#include <mutex>
#include <unordered_map>

#include "dftracer/executor/executor.hpp"

namespace dftracer::detail {

namespace {

struct directory_state {
    std::mutex lock;
    std::unordered_map<std::uint64_t, const executor*> live;
};

directory_state& state() {
    // Never destroyed: executors with static storage may outlive any order
    // of static destruction.
    static auto* s = new directory_state;
    return *s;
}

}  // namespace

void executor_directory::add(const executor& ex) {
    auto& s = state();
    std::lock_guard<std::mutex> guard(s.lock);
    s.live.emplace(ex.serial(), &ex);
}

void executor_directory::remove(const executor& ex) noexcept {
    auto& s = state();
    std::lock_guard<std::mutex> guard(s.lock);
    s.live.erase(ex.serial());
}

bool executor_directory::visit(std::uint64_t serial, const std::function<void(const executor&)>& visit) {
    auto& s = state();
    std::lock_guard<std::mutex> guard(s.lock);
    auto it = s.live.find(serial);
    if (it == s.live.end()) return false;
    visit(*it->second);
    return true;
}

}  // namespace dftracer::detail

namespace dftracer {

bool visit_executor(std::uint64_t serial, const std::function<void(const executor&)>& visit) {
    return detail::executor_directory::visit(serial, visit);
}

}  // namespace dftracer
