// A growable double-ended ring of trivially copyable values. Push/pop at both
// ends in O(1) without per-operation allocation (std::deque allocates and
// frees blocks as it moves). Not thread-safe: callers hold the queue lock.
#pragma once

#include <cstddef>
#include <vector>

namespace dftracer::detail {

template <class T>
class ring_queue {
public:
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }

    /// Makes room for one more value (the next push_back() cannot throw).
    void reserve_one() {
        if (size_ == slots_.size()) grow();
    }
    /// Makes room for n more values (the next n push_back() cannot throw).
    void reserve(std::size_t n) {
        while (slots_.size() - size_ < n) grow();
    }
    void push_back(T value) {
        reserve_one();
        slots_[(head_ + size_) & mask()] = value;
        ++size_;
    }
    /// Appends the n values that `values(push)` passes to push(value), in
    /// reverse: the first one given ends up at the back. Call reserve(n)
    /// first.
    template <class Values>
    void push_back_reversed(std::size_t n, Values&& values) {
        std::size_t at = size_ + n;
        values([&](T value) { slots_[(head_ + --at) & mask()] = value; });
        size_ += n;
    }
    T pop_back() noexcept {
        --size_;
        return slots_[(head_ + size_) & mask()];
    }
    T pop_front() noexcept {
        T value = slots_[head_];
        head_ = (head_ + 1) & mask();
        --size_;
        return value;
    }
    T back() const noexcept { return slots_[(head_ + size_ - 1) & mask()]; }
    T front() const noexcept { return slots_[head_]; }

    template <class Fn>
    void for_each(Fn&& fn) const {
        for (std::size_t i = 0; i < size_; ++i) fn(slots_[(head_ + i) & mask()]);
    }

private:
    std::size_t mask() const noexcept { return slots_.size() - 1; }
    [[gnu::noinline]] void grow() {
        std::vector<T> bigger(slots_.empty() ? 64 : slots_.size() * 2);
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) & mask()];
        slots_.swap(bigger);
        head_ = 0;
    }

    std::vector<T> slots_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace dftracer::detail
