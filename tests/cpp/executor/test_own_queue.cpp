// A worker's own fast paths: the job it pushed last waits in a lock-free
// slot, and the task it finished last stays in its live list until the next
// one starts. Both must stay invisible to users: the slot's job can be
// stolen, listed, cancelled and shut down like any queued job, and a
// finished task is found as finished at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <thread>

#include "dftracer/executor/executor.hpp"
#include "test_support.hpp"

using namespace dftracer;

namespace {
/// Submits a parent task that submits one child (which waits in the
/// parent's slot) and then holds its worker until gate.open(). `child` is
/// set once gate.wait_held() returns.
template <class Handle, class Fn>
task_handle<void> parent_holding_child(executor& ex, test::gate& gate, std::optional<Handle>& child, Fn child_fn,
                                       submit_options options = {}) {
    return ex.submit([&ex, &gate, &child, child_fn, options]() mutable {
        child = ex.submit(std::move(child_fn), std::move(options));
        gate.hold();
    });
}

/// Counts live instances: results that records keep until they are freed.
struct counted {
    static inline std::atomic<int> alive{0};
    counted() { ++alive; }
    counted(const counted&) { ++alive; }
    counted(counted&&) noexcept { ++alive; }
    ~counted() { --alive; }
};

task<int> finish_on_io() {
    co_await resume_on(pool_kind::io);
    co_return this_task::worker_id();
}
}  // namespace

TEST(OwnQueue, NewestChildOfABlockedParentIsStolen) {
    // The parent blocks without helping: only the idle worker can run the
    // child it pushed last, by taking it out of the parent's slot.
    // Declared before the executor: they outlive its workers.
    test::event child_ran;
    int child_worker = -1;
    int parent_worker = -1;
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    auto parent = ex.submit([&] {
        parent_worker = this_task::worker_id();
        ex.submit([&] {
            child_worker = this_task::worker_id();
            child_ran.set();
        });
        return child_ran.wait();
    });
    ASSERT_TRUE(parent.get()) << "the child stayed in the blocked parent's slot";
    EXPECT_NE(child_worker, parent_worker);
}

namespace {
/// One step of a chain: spawns the next until `left` runs out; the last
/// step spawns `child` and blocks, without helping, until it has run.
struct chain_then_block {
    executor& ex;
    std::atomic<int>& left;
    test::event& child_ran;
    std::atomic<bool>& stolen;
    bool operator()() const {
        if (left.fetch_sub(1) > 1) {
            ex.submit(*this);
            return true;
        }
        const int parent_worker = this_task::worker_id();
        ex.submit([this, parent_worker] {
            stolen = this_task::worker_id() != parent_worker;
            child_ran.set();
        });
        return child_ran.wait();
    }
};
}  // namespace

TEST(OwnQueue, ChildLeftInASlotIsStolenByTheWorkerWatchingTheSlots) {
    // While a chain runs, its worker pushes into its slot at every step and
    // the idle worker, having spun in vain, watches the slots napping (slot
    // pushes no longer wake it). The chain's last step then leaves a child
    // there and blocks: only the watcher can take it.
    test::event child_ran;
    std::atomic<bool> stolen{false};
    std::atomic<int> left{200'000};
    executor ex(executor_config{.threads = 2, .io_threads = 1});
    ex.submit(chain_then_block{ex, left, child_ran, stolen});
    ASSERT_TRUE(child_ran.wait()) << "the child stayed in the blocked step's slot";
    ex.wait_all();
    EXPECT_TRUE(stolen.load());
}

TEST(OwnQueue, SnapshotListsAndCancelsTheNewestOwnJob) {
    test::gate gate;
    std::optional<task_handle<void>> child;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto parent = parent_holding_child(ex, gate, child, [] {}, {.name = "newest"});
    ASSERT_TRUE(gate.wait_held());

    auto snap = ex.snapshot();
    EXPECT_EQ(snap.workers[0].queue_depth, 1u);
    auto listed =
        std::find_if(snap.tasks.begin(), snap.tasks.end(), [](const task_info& t) { return t.name == "newest"; });
    ASSERT_NE(listed, snap.tasks.end()) << "the slot's job is missing from the snapshot";
    EXPECT_EQ(listed->state, task_state::queued);
    EXPECT_TRUE(ex.request_stop(child->id()));  // found while queued

    EXPECT_TRUE(child->cancel());
    gate.open();
    parent.get();
    ex.wait_all();
    EXPECT_EQ(child->state(), task_state::cancelled);
    auto c = ex.counts();
    EXPECT_EQ(c.completed, 1u);
    EXPECT_EQ(c.cancelled, 1u);
    EXPECT_EQ(c.total, 2u);
}

TEST(OwnQueue, ShutdownWithoutDrainCancelsTheNewestOwnJob) {
    test::gate gate;
    std::optional<task_handle<int>> child;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto parent = parent_holding_child(ex, gate, child, [] { return 7; });
    ASSERT_TRUE(gate.wait_held());
    std::thread stopper([&] { ex.shutdown(false); });
    EXPECT_TRUE(child->wait_for(test::generous));
    EXPECT_EQ(child->state(), task_state::cancelled);
    gate.open();
    stopper.join();
    parent.get();
    EXPECT_EQ(ex.counts().cancelled, 1u);
}

TEST(OwnQueue, FinishedTaskIsFinishedEverywhereAtOnce) {
    // Right after get() the task may still sit in its worker's live list:
    // every reader must already see it finished.
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    for (int i = 0; i < 200; ++i) {
        auto h = ex.submit([] {}, {.name = "step", .timeout = std::chrono::seconds(60)});
        h.get();
        ex.wait_all();
        auto info = ex.find_task(h.id());
        ASSERT_TRUE(info.has_value()) << "task " << i << " vanished between its wait and the history";
        EXPECT_EQ(info->state, task_state::completed);
        EXPECT_FALSE(ex.request_stop(h.id()));
        EXPECT_TRUE(ex.deadlines().empty());
        auto snap = ex.snapshot();
        EXPECT_EQ(snap.counts.running, 0u);
        for (const auto& t : snap.tasks) EXPECT_TRUE(is_terminal(t.state)) << "task " << t.id;
    }
}

TEST(OwnQueue, TaskFinishedInsideAnotherIsFinishedWhileItsWorkerIsBusy) {
    // The inner task runs inline in the outer one's wait and finishes; the
    // outer one then holds the worker, so the inner one stays in the live
    // list until the outer one is done: deterministically observable.
    test::gate gate;
    std::uint64_t inner_id = 0;
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto outer = ex.submit([&] {
        auto inner = ex.submit([] {}, {.name = "inner", .timeout = std::chrono::seconds(60)});
        inner_id = inner.id();
        inner.get();
        gate.hold();
    });
    ASSERT_TRUE(gate.wait_held());
    auto info = ex.find_task(inner_id);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->state, task_state::completed);
    EXPECT_FALSE(ex.request_stop(inner_id));
    EXPECT_TRUE(ex.deadlines().empty());
    auto snap = ex.snapshot();
    EXPECT_EQ(snap.counts.running, 1u);
    EXPECT_EQ(snap.counts.completed, 1u);
    std::size_t running_listed = 0;
    for (const auto& t : snap.tasks) {
        if (t.state == task_state::running) ++running_listed;
        if (t.id == inner_id) {
            EXPECT_EQ(t.state, task_state::completed);
        }
    }
    EXPECT_EQ(running_listed, 1u);
    gate.open();
    outer.get();
}

TEST(OwnQueue, HistoryOffKeepsNoFinishedTask) {
    executor ex(executor_config{.threads = 1, .io_threads = 1, .history_size = 0});
    auto h = ex.submit([] {});
    h.get();
    ex.wait_all();
    EXPECT_TRUE(ex.snapshot().tasks.empty());
    EXPECT_TRUE(ex.recorded_tasks().empty());
}

TEST(OwnQueue, EveryRecordIsFreedByTheTimeTheExecutorIsGone) {
    // Finished tasks wait in their worker's live list until the next task
    // or an idle moment: none may be kept past the executor.
    {
        executor ex(executor_config{.threads = 2, .io_threads = 1});
        std::atomic<int> remaining{2000};
        std::function<void()> step = [&] {
            if (remaining.fetch_sub(1) > 1)
                ex.submit([&] {
                    step();
                    return counted{};
                });
        };
        ex.submit(step);
        for (int i = 0; i < 200; ++i) ex.submit([] { return counted{}; });
        ex.wait_all();
        EXPECT_EQ(ex.counts().completed, 2200u);
    }
    EXPECT_EQ(counted::alive.load(), 0);
}

TEST(OwnQueue, CoroutineFinishingOnAnotherWorkerLeavesTheFirstWorkersList) {
    executor ex(executor_config{.threads = 1, .io_threads = 1});
    auto h = ex.spawn(finish_on_io(), {.name = "hops"});
    EXPECT_EQ(h.get(), 1);  // the io worker (compute is worker 0)
    ex.wait_all();
    auto info = ex.find_task(h.id());
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->state, task_state::completed);
    EXPECT_FALSE(ex.request_stop(h.id()));
    for (const auto& t : ex.snapshot().tasks) EXPECT_TRUE(is_terminal(t.state)) << "task " << t.id;
}
