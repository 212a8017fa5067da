// Submitting callables: results, errors, names, pools, handle operations.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

TEST(Config, NegativeSizesThrowInvalidArgument) {
    EXPECT_THROW(executor(executor_config{.threads = -1}), std::invalid_argument);
    EXPECT_THROW(executor(executor_config{.threads = 1, .io_threads = -2}), std::invalid_argument);
    EXPECT_THROW(executor(executor_config{.threads = 1, .io_threads = 1, .history_size = -1}), std::invalid_argument);
}

TEST(Config, ZeroMeansAutoSize) {
    executor ex;
    EXPECT_GE(ex.threads(), 1);
    EXPECT_GE(ex.io_threads(), 2);
    EXPECT_LE(ex.io_threads(), 8);
    executor sized(executor_config{.threads = 3, .io_threads = 2});
    EXPECT_EQ(sized.threads(), 3);
    EXPECT_EQ(sized.io_threads(), 2);
}

TEST(Submit, ReturnsValue) {
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto h = ex.submit([] { return 6 * 7; });
    EXPECT_EQ(h.get(), 42);
    EXPECT_TRUE(h.done());
    EXPECT_EQ(h.state(), task_state::completed);
    EXPECT_EQ(h.exception(), nullptr);
}

TEST(Submit, VoidTask) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    std::atomic<int> hits{0};
    auto h = ex.submit([&] { hits++; });
    h.get();
    EXPECT_EQ(hits.load(), 1);
}

TEST(Submit, RethrowsTheTasksOwnException) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([]() -> int { throw std::out_of_range("index 7"); });
    h.wait();
    EXPECT_EQ(h.state(), task_state::failed);
    EXPECT_THROW(h.get(), std::out_of_range);
    try {
        h.get();
    } catch (const std::out_of_range& e) {
        EXPECT_STREQ(e.what(), "index 7");
    }
    EXPECT_NE(h.exception(), nullptr);
}

namespace {
/// A result that cannot be moved into the task's record.
struct throws_when_moved {
    throws_when_moved() = default;
    throws_when_moved(const throws_when_moved&) = default;
    throws_when_moved(throws_when_moved&&) { throw std::length_error("result lost in the move"); }
};
}  // namespace

TEST(Submit, ResultThatThrowsWhenStoredFailsTheTask) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([] { return throws_when_moved{}; });
    ASSERT_TRUE(h.wait_for(test::generous)) << "the task never finished";
    EXPECT_EQ(h.state(), task_state::failed);
    EXPECT_THROW(h.get(), std::length_error);
    ex.wait_all();
    EXPECT_EQ(ex.counts().failed, 1u);
}

TEST(Submit, NameIdAndPool) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto a = ex.submit([] { return this_task::worker_id(); }, {.name = "compute-task"});
    auto b = ex.submit([] { return this_task::worker_id(); }, {.name = "io-task", .pool = pool_kind::io});
    EXPECT_EQ(a.name(), "compute-task");
    EXPECT_EQ(b.name(), "io-task");
    EXPECT_LT(a.id(), b.id());
    EXPECT_EQ(a.get(), 0);  // compute workers come first
    EXPECT_EQ(b.get(), 1);  // then io workers
    EXPECT_EQ(b.pool(), pool_kind::io);
}

TEST(Submit, ThisTaskIdInsideAndOutside) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([] { return this_task::id(); });
    EXPECT_EQ(h.get(), h.id());
    EXPECT_EQ(this_task::id(), 0u);
    EXPECT_EQ(this_task::worker_id(), -1);
}

TEST(Submit, HandlesAreCopyableAcrossThreads) {
    test::event release;
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto h = ex.submit([&] {
        release.wait();
        return std::string("shared");
    });
    std::vector<std::thread> readers;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
        readers.emplace_back([h, &ok] {
            if (h.get() == "shared") ok++;
        });
    }
    release.set();
    for (auto& t : readers) t.join();
    EXPECT_EQ(ok.load(), 4);
}

TEST(Submit, WaitForTimesOutThenSucceeds) {
    test::event release;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.submit([&] { release.wait(); });
    EXPECT_FALSE(h.wait_for(std::chrono::milliseconds(20)));
    release.set();
    EXPECT_TRUE(h.wait_for(test::generous));
}

TEST(Submit, CancelOnlyWhileQueued) {
    test::gate gate;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto blocker = ex.submit([&] { gate.hold(); });
    ASSERT_TRUE(gate.wait_held());
    std::atomic<bool> ran{false};
    auto queued = ex.submit([&] { ran = true; });
    EXPECT_FALSE(blocker.cancel());
    EXPECT_TRUE(queued.cancel());
    EXPECT_FALSE(queued.cancel());
    EXPECT_EQ(queued.state(), task_state::cancelled);
    EXPECT_THROW(queued.get(), task_cancelled);
    gate.open();
    ex.wait_all();
    EXPECT_FALSE(ran.load());
    EXPECT_EQ(ex.counts().cancelled, 1u);
}

TEST(Submit, EmptyHandleThrowsLogicError) {
    task_handle<int> h;
    EXPECT_FALSE(h.valid());
    EXPECT_THROW(h.get(), std::logic_error);
}

TEST(Submit, CallableIsDestroyedBeforeWaitersWake) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto token = std::make_shared<int>(1);
    std::weak_ptr<int> watch = token;
    auto h = ex.submit([t = std::move(token)] { return *t; });
    EXPECT_EQ(h.get(), 1);
    EXPECT_TRUE(watch.expired());
}

TEST(Submit, MoveOnlyCallable) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto p = std::make_unique<int>(5);
    auto h = ex.submit([p = std::move(p)] { return *p + 1; });
    EXPECT_EQ(h.get(), 6);
}

TEST(ErrorHook, CalledOncePerFailureAfterHandleFailed) {
    std::atomic<int> calls{0};
    std::atomic<bool> handle_was_failed{true};
    std::vector<std::string> messages;
    std::mutex m;
    executor_config cfg{.threads = 2, .io_threads = 1};
    executor* self = nullptr;
    cfg.on_error = [&](const task_info& info, std::exception_ptr e) {
        calls++;
        auto seen = self->find_task(info.id);  // what any handle would see now
        if (!e || !seen || seen->state != task_state::failed) handle_was_failed = false;
        std::lock_guard<std::mutex> g(m);
        messages.push_back(info.name + ":" + info.error);
    };
    executor ex(cfg);
    self = &ex;
    for (int i = 0; i < 10; ++i) {
        ex.submit(
            [i] {
                if (i % 2) throw std::runtime_error("odd " + std::to_string(i));
            },
            {.name = "t" + std::to_string(i)});
    }
    ex.wait_all();
    EXPECT_EQ(calls.load(), 5);  // wait_all returns after the hooks ran
    EXPECT_TRUE(handle_was_failed.load());
    std::lock_guard<std::mutex> g(m);
    EXPECT_EQ(messages.size(), 5u);
}

TEST(ErrorHook, ThrowingHookIsContained) {
    executor_config cfg{.threads = 1, .io_threads = 1};
    cfg.on_error = [](const task_info&, std::exception_ptr) { throw std::runtime_error("hook broke"); };
    executor ex(cfg);
    auto h = ex.submit([] { throw std::invalid_argument("task broke"); });
    EXPECT_THROW(h.get(), std::invalid_argument);
    auto ok = ex.submit([] { return 1; });
    EXPECT_EQ(ok.get(), 1);
}
