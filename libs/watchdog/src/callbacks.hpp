// The callback registry: add, remove (waiting out a call in progress on
// another thread), and delivery with exceptions contained.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dftracer/watchdog/report.hpp"

namespace dftracer::watchdog_detail {

class callback_registry {
public:
    std::size_t add(report_callback fn);
    bool remove(std::size_t id);
    /// Calls every registered callback with `report`, in registration order,
    /// without holding the registry lock. Each exception is passed to
    /// `on_error` as text.
    template <class OnError>
    void deliver(const watchdog_report& report, OnError&& on_error);
    /// Destroys every callback (no delivery may be in progress).
    void clear();

private:
    struct entry {
        std::size_t id = 0;
        report_callback fn;
        int running = 0;  // calls in progress, guarded by mutex_
        bool removed = false;
        bool self_removed = false;  // removed from inside its own call
    };
    bool enter(entry& e);
    void leave(entry& e);
    static std::string describe_current_exception();

    std::mutex mutex_;
    std::condition_variable idle_;
    std::vector<std::shared_ptr<entry>> entries_;
    std::size_t next_id_ = 1;
};

template <class OnError>
void callback_registry::deliver(const watchdog_report& report, OnError&& on_error) {
    std::vector<std::shared_ptr<entry>> current;
    {
        std::lock_guard<std::mutex> guard(mutex_);
        current = entries_;
    }
    for (const auto& e : current) {
        if (!enter(*e)) continue;
        try {
            e->fn(report);
        } catch (...) {
            on_error(e->id, describe_current_exception());
        }
        leave(*e);
    }
}

}  // namespace dftracer::watchdog_detail
