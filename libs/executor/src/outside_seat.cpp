// The seats that threads outside the pools hold (submit_seat.hpp): taken on
// a thread's first submit to an executor, given back when the thread exits.
// A thread remembers a few; the last one used is cached in thread_context,
// so a submit finds its seat with one compare.
#include <array>

#include "dftracer/executor/detail/submit.hpp"
#include "executor_directory.hpp"
#include "scheduler.hpp"

namespace dftracer::detail {

namespace {

/// The seats one thread holds, by executor serial. At the thread's exit,
/// each goes back through the executor directory, which finds only live
/// executors: a seat of an executor destroyed first is never touched.
class held_seats {
public:
    ~held_seats() {
        for (std::size_t i = 0; i < count_; ++i) give_back(held_[i]);
        thread_context::get().seat = nullptr;
        thread_context::get().seat_serial = 0;
    }
    submit_seat* find(std::uint64_t serial) const noexcept {
        for (std::size_t i = 0; i < count_; ++i) {
            if (held_[i].serial == serial) return held_[i].seat;
        }
        return nullptr;
    }
    /// Remembers a newly taken seat; past capacity the oldest goes back.
    void hold(std::uint64_t serial, submit_seat* seat) noexcept {
        if (count_ == held_.size()) {
            give_back(held_[0]);
            for (std::size_t i = 1; i < count_; ++i) held_[i - 1] = held_[i];
            --count_;
        }
        held_[count_++] = {serial, seat};
    }

private:
    struct entry {
        std::uint64_t serial = 0;
        submit_seat* seat = nullptr;
    };
    static void give_back(const entry& e) noexcept {
        try {
            executor_directory::visit(
                e.serial, [&](const executor& ex) { engine_of(const_cast<executor&>(ex)).give_back_seat(e.seat); });
        } catch (...) {
            // std::function's allocation failed: the seat stays taken, and
            // later threads use the others (or the shared seat).
        }
    }
    std::array<entry, 8> held_{};
    std::size_t count_ = 0;
};

held_seats& this_thread_seats() {
    thread_local held_seats seats;
    return seats;
}

}  // namespace

submit_seat& scheduler::first_outside_seat() noexcept {
    auto& ctx = thread_context::get();
    submit_seat* seat = take_outside_seat();
    if (seat == nullptr) return shared_seat_;
    ctx.seat_serial = serial_;
    ctx.seat = seat;
    return *seat;
}

submit_seat* scheduler::take_outside_seat() noexcept {
    auto& held = this_thread_seats();
    if (submit_seat* seat = held.find(serial_)) return seat;
    submit_seat* seat = outside_seats_.take();
    if (seat != nullptr) held.hold(serial_, seat);
    return seat;
}

}  // namespace dftracer::detail
