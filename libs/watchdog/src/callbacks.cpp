// Callback registration and the bookkeeping that lets remove() promise the
// callback is neither running nor alive when it returns.
#include "callbacks.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace dftracer::watchdog_detail {

namespace {
// Entries whose call is in progress on this thread, so a callback that
// removes itself (or one below it on the stack) does not wait for itself.
thread_local std::vector<const void*> calling_here;
}  // namespace

std::size_t callback_registry::add(report_callback fn) {
    if (!fn) throw std::invalid_argument("watchdog callback must not be empty");
    auto e = std::make_shared<entry>();
    e->fn = std::move(fn);
    std::lock_guard<std::mutex> guard(mutex_);
    e->id = next_id_++;
    entries_.push_back(e);
    return e->id;
}

bool callback_registry::remove(std::size_t id) {
    std::shared_ptr<entry> victim;  // destroyed after the lock is released
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [id](const auto& e) { return e->id == id; });
    if (it == entries_.end()) return false;
    victim = *it;
    entries_.erase(it);
    victim->removed = true;
    const auto own = std::count(calling_here.begin(), calling_here.end(), victim.get());
    idle_.wait(lock, [&] { return victim->running == own; });
    report_callback doomed;
    if (own == 0) {
        doomed = std::move(victim->fn);
    } else {
        victim->self_removed = true;  // our own leave() destroys it
    }
    lock.unlock();
    return true;
}

bool callback_registry::enter(entry& e) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (e.removed) return false;
    ++e.running;
    calling_here.push_back(&e);
    return true;
}

void callback_registry::leave(entry& e) {
    calling_here.pop_back();
    report_callback doomed;  // destroyed after the lock is released
    {
        std::lock_guard<std::mutex> guard(mutex_);
        --e.running;
        if (e.self_removed && e.running == 0) doomed = std::move(e.fn);
    }
    idle_.notify_all();
}

void callback_registry::clear() {
    std::vector<std::shared_ptr<entry>> gone;
    {
        std::lock_guard<std::mutex> guard(mutex_);
        gone.swap(entries_);
    }
}

std::string callback_registry::describe_current_exception() {
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace dftracer::watchdog_detail
