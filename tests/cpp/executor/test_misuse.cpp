// Bad input and impossible requests are refused at the call, with a clear
// error, instead of failing later on a worker or hanging.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>

#include "dftracer/executor/executor.hpp"
#include "dftracer/executor/task_group.hpp"
#include "test_support.hpp"

using namespace dftracer;
using namespace std::chrono_literals;

namespace {
int answer() { return 42; }
}  // namespace

TEST(Misuse, EmptyCallablesAreRefusedAtTheCall) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    std::function<int()> empty;
    int (*null_fn)() = nullptr;
    EXPECT_THROW(ex.submit(empty), std::invalid_argument);
    EXPECT_THROW(ex.submit(null_fn), std::invalid_argument);
    EXPECT_THROW(ex.post(std::function<void()>{}), std::invalid_argument);
    std::vector<std::function<int()>> batch{[] { return 1; }, {}};
    EXPECT_THROW(ex.submit_batch(batch), std::invalid_argument);
    task_group g(ex);
    EXPECT_THROW(g.run(empty), std::invalid_argument);
    // Nothing was queued or counted.
    ex.wait_all();
    EXPECT_EQ(ex.counts().total, 0U);
    // Non-empty ones of the same types run.
    EXPECT_EQ(ex.submit(std::function<int()>(answer)).get(), 42);
    EXPECT_EQ(ex.submit(&answer).get(), 42);
}

TEST(Misuse, APoolOutsideTheEnumIsRefusedAtTheCall) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    const auto bad = static_cast<pool_kind>(7);
    EXPECT_THROW(ex.submit([] {}, {.pool = bad}), std::invalid_argument);
    EXPECT_THROW(ex.post([] {}, {.pool = bad}), std::invalid_argument);
    std::vector<std::function<void()>> batch{[] {}};
    EXPECT_THROW(ex.submit_batch(batch, {.pool = bad}), std::invalid_argument);
    auto hop = [](pool_kind to) -> task<int> {
        co_await resume_on(to);
        co_return 1;
    };
    EXPECT_THROW(ex.spawn(hop(bad)).get(), std::invalid_argument);
    EXPECT_EQ(ex.spawn(hop(pool_kind::io)).get(), 1);
}

TEST(Misuse, FailTaskRefusesANullError) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    test::gate gate;
    auto h = ex.submit([&] { gate.hold(); });
    ASSERT_TRUE(gate.wait_held());
    EXPECT_THROW(ex.fail_task(h.id(), nullptr), std::invalid_argument);
    EXPECT_EQ(h.state(), task_state::running);
    gate.open();
    h.get();
}

TEST(Misuse, RequestStopIsFalseForATaskFinishedWhileQueued) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    test::gate gate;
    auto blocker = ex.submit([&] { gate.hold(); });
    ASSERT_TRUE(gate.wait_held());
    auto cancelled = ex.submit([] {});
    auto failed = ex.submit([] {});
    auto queued = ex.submit([] {});
    ASSERT_TRUE(cancelled.cancel());
    ASSERT_TRUE(ex.fail_task(failed.id(), std::make_exception_ptr(std::runtime_error("no"))));
    // Their queue entries remain until the worker skips them.
    EXPECT_FALSE(ex.request_stop(cancelled.id()));
    EXPECT_FALSE(ex.request_stop(failed.id()));
    EXPECT_TRUE(ex.request_stop(queued.id()));
    EXPECT_TRUE(ex.request_stop(blocker.id()));
    gate.open();
    ex.wait_all();
}

TEST(Misuse, ATaskWaitingForItselfIsRefused) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto self = std::make_shared<task_handle<void>>();
    test::event ready;
    auto h = ex.submit([&] {
        ready.wait();
        // A bounded wait on itself just times out.
        EXPECT_FALSE(self->wait_for(1ms));
        self->wait();
    });
    *self = h;
    ready.set();
    EXPECT_THROW(h.get(), std::logic_error);
}

TEST(Misuse, ATaskWaitingForItsOwnGroupIsRefused) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    task_group g(ex);
    test::event ready;
    auto h = g.run([&] {
        ready.wait();
        EXPECT_FALSE(g.wait_for(1ms));
        g.wait();
    });
    ready.set();
    EXPECT_THROW(h.get(), std::logic_error);
    EXPECT_THROW(g.wait(), std::logic_error);  // the group's first failure
}

TEST(Misuse, AGroupDestroyedByItsOwnTaskDoesNotHang) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto group = std::make_unique<task_group>(ex);
    test::event ready;
    auto h = group->run([&] {
        ready.wait();
        group.reset();
    });
    ready.set();
    ASSERT_TRUE(h.wait_for(test::generous));
    h.get();
    EXPECT_EQ(group, nullptr);
}
