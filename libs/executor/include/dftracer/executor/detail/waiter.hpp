// Parties blocked on something that finishes once (a task, a group's
// tasks): an intrusive list of waiters, notified together.
//
// Not part of the public API.
#pragma once

#include <utility>

namespace dftracer::detail {

/// A party blocked on a record or a group. notify() is called exactly once,
/// with the owner's waiter lock held, when what it waits for finishes
/// (unless the waiter removed itself first). It must be short and must not
/// touch the waiter list.
struct waiter {
    waiter* prev = nullptr;
    waiter* next = nullptr;
    bool linked = false;
    virtual void notify() noexcept = 0;

protected:
    ~waiter() = default;
};

/// The list itself. Not thread-safe: its owner holds a lock around every
/// call.
class waiter_list {
public:
    void link(waiter& w) noexcept {
        w.prev = nullptr;
        w.next = head_;
        if (head_) head_->prev = &w;
        head_ = &w;
        w.linked = true;
    }
    /// Unlinks w if it is still linked.
    void unlink(waiter& w) noexcept {
        if (!w.linked) return;
        if (w.prev) {
            w.prev->next = w.next;
        } else {
            head_ = w.next;
        }
        if (w.next) w.next->prev = w.prev;
        w.linked = false;
    }
    /// Notifies and unlinks every waiter.
    void notify_all() noexcept {
        for (waiter* w = std::exchange(head_, nullptr); w != nullptr;) {
            waiter* next = w->next;
            w->linked = false;
            w->notify();
            w = next;
        }
    }
    bool empty() const noexcept { return head_ == nullptr; }

private:
    waiter* head_ = nullptr;
};

}  // namespace dftracer::detail
