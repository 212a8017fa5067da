// The block pool: a thread's consecutive blocks come from one slab in address
// order; blocks freed anywhere go back to the slab they came from; memory
// goes back to the system after a burst; heaps outlive their threads; the
// pool works during thread exit and in a child after fork(). The tests call
// the pool itself (block_pool::allocate), which allocate() bypasses
// under AddressSanitizer.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "dftracer/executor/detail/block_pool.hpp"

#if DFTRACER_POOL_BYPASS
#include <sanitizer/asan_interface.h>
#endif

using namespace dftracer::detail;
using block_pool::allocate;
using block_pool::deallocate;

namespace {

/// Slabs held by heaps (mapped and not spare).
std::size_t slabs_in_use() {
    const auto s = block_pool::stats();
    return s.mapped_slabs - s.spare_slabs;
}

constexpr std::size_t record_size = 192;

std::uintptr_t slab_of(const void* p) {
    return reinterpret_cast<std::uintptr_t>(p) & ~(std::uintptr_t{block_pool::slab_bytes} - 1);
}

/// Runs body on a new thread and joins it (the thread's exit returns its
/// private blocks and flushes its return chains).
template <typename F>
void on_new_thread(F body) {
    std::thread t(body);
    t.join();
}

}  // namespace

TEST(BlockPool, ConsecutiveBlocksComeFromOneSlabInAddressOrder) {
    pool_trim();  // earlier tests' slabs, all free again, are spare now
    on_new_thread([] {
        // A new thread starts on an empty slab: its never-used run.
        std::vector<void*> blocks;
        for (int i = 0; i < 100; ++i) blocks.push_back(allocate(record_size));
        for (std::size_t i = 1; i < blocks.size(); ++i) {
            EXPECT_EQ(slab_of(blocks[i]), slab_of(blocks[0]));
            EXPECT_EQ(static_cast<char*>(blocks[i]) - static_cast<char*>(blocks[i - 1]),
                      static_cast<std::ptrdiff_t>(record_size));
        }
        for (void* b : blocks) EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % 64, 0u);
        for (void* b : blocks) deallocate(b, record_size);
    });
}

TEST(BlockPool, BlocksFreedOnAnotherThreadGoBackToTheirSlabs) {
    on_new_thread([] {
        constexpr int n = 5000;
        std::vector<void*> blocks;
        for (int i = 0; i < n; ++i) blocks.push_back(allocate(record_size));
        std::set<std::uintptr_t> slabs;
        for (void* b : blocks) slabs.insert(slab_of(b));
        // Another thread frees every block; its exit sends the last chain.
        on_new_thread([&] {
            for (void* b : blocks) deallocate(b, record_size);
        });
        // The owner's next blocks come from the same slabs: nothing was
        // carved from new memory while the old blocks were all free again.
        for (int i = 0; i < n; ++i) {
            void* b = allocate(record_size);
            EXPECT_TRUE(slabs.count(slab_of(b))) << "block " << i << " came from a new slab";
            blocks[static_cast<std::size_t>(i)] = b;
        }
        for (void* b : blocks) deallocate(b, record_size);
    });
}

TEST(BlockPool, MemoryGoesBackToTheSystemAfterABurst) {
    pool_trim();
    const std::size_t before = block_pool::stats().mapped_slabs;
    constexpr int n = 300000;  // about 900 slabs of records
    std::vector<void*> blocks(n);
    on_new_thread([&] {
        for (auto& b : blocks) b = allocate(record_size);
    });
    EXPECT_GE(block_pool::stats().mapped_slabs, before + 800);
    on_new_thread([&] {
        for (void* b : blocks) deallocate(b, record_size);
    });
    pool_trim();
    // The allocating thread's heap is an orphan now; trim settled it and
    // kept only a small reserve of spare slabs.
    EXPECT_LE(block_pool::stats().mapped_slabs, before + 64);
}

TEST(BlockPool, EveryClassKeepsItsBlocksApart) {
    std::vector<std::pair<void*, std::size_t>> blocks;
    for (std::size_t size = 1; size <= 2048; size += 61) {
        for (int i = 0; i < 50; ++i) {
            void* b = allocate(size);
            std::memset(b, static_cast<int>(size & 0xff), size);
            blocks.emplace_back(b, size);
        }
    }
    for (auto [b, size] : blocks) {
        const auto* bytes = static_cast<const unsigned char*>(b);
        for (std::size_t i = 0; i < size; ++i) ASSERT_EQ(bytes[i], size & 0xff) << "size " << size;
    }
    for (auto [b, size] : blocks) deallocate(b, size);
    deallocate(nullptr, record_size);  // ignored
}

namespace {
/// A pthread key whose destructor runs `fn(value)` at thread exit.
struct exit_hook {
    pthread_key_t key{};
    explicit exit_hook(void (*fn)(void*)) { EXPECT_EQ(::pthread_key_create(&key, fn), 0); }
    ~exit_hook() { ::pthread_key_delete(key); }
};
}  // namespace

TEST(BlockPool, ThreadsAllocateAndFreeAfterThePoolLetThemGo) {
    (void)allocate(record_size);  // the pool's own exit key exists (a lower index: it runs first)
    static std::atomic<bool> ran{false};
    exit_hook late([](void*) {
        // Runs after the pool's key: the blocks come from the heap of
        // exited threads, and go back to it.
        void* a = allocate(record_size);
        void* b = allocate(64);
        std::memset(a, 1, record_size);
        deallocate(a, record_size);
        deallocate(b, 64);
        ran.store(true);
    });
    void* from_dead_thread = nullptr;
    on_new_thread([&] {
        ASSERT_EQ(::pthread_setspecific(late.key, &late), 0);
        from_dead_thread = allocate(record_size);
    });
    EXPECT_TRUE(ran.load());
    // A block of a thread that has exited is freed later, elsewhere, and a
    // new thread (which may adopt that heap) keeps working.
    deallocate(from_dead_thread, record_size);
    on_new_thread([] {
        void* b = allocate(record_size);
        deallocate(b, record_size);
    });
}

TEST(BlockPool, BlockFreedInAKeyDestructorOfAThreadNewToThePoolGoesHome) {
    pool_trim();
    const std::size_t in_use = slabs_in_use();
    static std::vector<void*> blocks;
    on_new_thread([] {
        for (int i = 0; i < 2000; ++i) blocks.push_back(allocate(record_size));
    });
    EXPECT_GT(slabs_in_use(), in_use);
    exit_hook frees([](void*) {
        // This thread never used the pool before: its return chain must
        // still be sent before it is gone.
        for (void* b : blocks) deallocate(b, record_size);
        blocks.clear();
    });
    on_new_thread([&] { ASSERT_EQ(::pthread_setspecific(frees.key, &frees), 0); });
    EXPECT_TRUE(blocks.empty());
    pool_trim();
    EXPECT_EQ(slabs_in_use(), in_use) << "a slab still holds a block that never came home";
}

TEST(BlockPool, ConcurrentCrossThreadTrafficLosesAndSharesNoBlock) {
    // Each thread allocates blocks stamped with its id and passes them to the
    // next thread, which checks the stamp and frees them.
    pool_trim();
    const std::size_t in_use = slabs_in_use();
    constexpr int threads = 4;
    constexpr int rounds = 20000;
    std::vector<std::vector<std::atomic<void*>>> mailboxes(threads);
    for (auto& m : mailboxes) m = std::vector<std::atomic<void*>>(64);
    std::atomic<int> stamp_errors{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            auto& outbox = mailboxes[static_cast<std::size_t>((t + 1) % threads)];
            auto& inbox = mailboxes[static_cast<std::size_t>(t)];
            for (int r = 0; r < rounds; ++r) {
                const std::size_t size = 64 * (1 + rng() % 16);
                auto* b = static_cast<std::uint64_t*>(allocate(size));
                b[0] = size;
                b[size / 8 - 1] = size;
                void* previous = outbox[rng() % outbox.size()].exchange(b);
                if (previous == nullptr) previous = inbox[rng() % inbox.size()].exchange(nullptr);
                if (previous != nullptr) {
                    auto* p = static_cast<std::uint64_t*>(previous);
                    const std::size_t psize = p[0];
                    if (psize % 64 != 0 || psize == 0 || psize > 1024 || p[psize / 8 - 1] != psize) {
                        stamp_errors.fetch_add(1);
                        continue;
                    }
                    p[0] = p[psize / 8 - 1] = 0;
                    deallocate(previous, psize);
                }
            }
        });
    }
    for (auto& t : pool) t.join();
    for (auto& m : mailboxes) {
        for (auto& slot : m) {
            if (void* b = slot.load()) deallocate(b, static_cast<std::uint64_t*>(b)[0]);
        }
    }
    EXPECT_EQ(stamp_errors.load(), 0);
    pool_trim();
    EXPECT_EQ(slabs_in_use(), in_use) << "a block was lost: its slab never emptied";
}

TEST(BlockPool, ChildOfForkAllocatesWhileParentThreadsWereBusy) {
    std::atomic<bool> stop{false};
    std::thread busy([&] {
        std::vector<void*> blocks;
        while (!stop.load()) {
            for (int i = 0; i < 1000; ++i) blocks.push_back(allocate(record_size));
            for (void* b : blocks) deallocate(b, record_size);
            blocks.clear();
            // Trims take the registry's and every heap's lock, the parent's
            // included: most forks land while one of them is held.
            for (int i = 0; i < 100; ++i) pool_trim();
        }
    });
    deallocate(allocate(record_size), record_size);  // this thread has a heap
    for (int round = 0; round < 20; ++round) {
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::alarm(20);  // a child stuck on a lock dies instead of hanging the test
            // No operator new in the child: under ThreadSanitizer its own
            // allocator's lock may have been held by the busy thread at
            // the fork (a limit of the sanitizer, not of the pool).
            static void* blocks[20000];
            for (void*& b : blocks) b = allocate(record_size);
            for (void* b : blocks) deallocate(b, record_size);
            pool_trim();
            ::_exit(0);
        }
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
    }
    stop.store(true);
    busy.join();
}

#if DFTRACER_POOL_BYPASS
TEST(BlockPool, RecordsBypassThePoolUnderAddressSanitizer) {
    void* block = pool_allocate(record_size);
    const std::size_t in_use = slabs_in_use();
    EXPECT_FALSE(__asan_address_is_poisoned(block));
    pool_deallocate(block, record_size);
    EXPECT_TRUE(__asan_address_is_poisoned(block)) << "freed records must stay visible to the sanitizer";
    EXPECT_EQ(slabs_in_use(), in_use);
}
#endif
