#include "dftracer/executor/detail/block_pool.hpp"

#include <array>
#include <mutex>
#include <new>
#include <vector>

namespace dftracer::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 16;     // 64 .. 1024 bytes
constexpr std::size_t batch_size = 64;  // blocks moved per depot transfer
constexpr std::size_t max_depot_batches = 256;

struct free_block {
    free_block* next;
};

struct batch {
    free_block* head = nullptr;
    std::size_t count = 0;
};

std::size_t class_of(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }
std::size_t class_bytes(std::size_t cls) noexcept { return (cls + 1) * granule; }

void free_list(free_block* head) noexcept {
    while (head != nullptr) {
        free_block* next = head->next;
        ::operator delete(static_cast<void*>(head));
        head = next;
    }
}

class depot {
public:
    bool take(std::size_t cls, batch& out) {
        std::lock_guard<std::mutex> guard(mutex_);
        auto& shelf = shelves_[cls];
        if (shelf.empty()) return false;
        out = shelf.back();
        shelf.pop_back();
        return true;
    }
    void give(std::size_t cls, batch b) noexcept {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            auto& shelf = shelves_[cls];
            if (shelf.size() < max_depot_batches) {
                try {
                    shelf.push_back(b);
                    return;
                } catch (...) {
                }
            }
        }
        free_list(b.head);
    }

private:
    std::mutex mutex_;
    std::array<std::vector<batch>, classes> shelves_;
};

depot& shared_depot() {
    static depot* d = new depot();  // never destroyed: threads may exit late
    return *d;
}

// Set once this thread's cache is destroyed; later calls on the thread (from
// other thread_local destructors) fall back to operator new/delete.
thread_local bool cache_gone = false;

struct thread_cache {
    std::array<batch, classes> lists{};

    ~thread_cache() {
        cache_gone = true;
        for (std::size_t cls = 0; cls < classes; ++cls) {
            if (lists[cls].count != 0) shared_depot().give(cls, lists[cls]);
            lists[cls] = {};
        }
    }

    void* allocate(std::size_t cls) {
        batch& list = lists[cls];
        if (list.head == nullptr && !shared_depot().take(cls, list)) {
            return ::operator new(class_bytes(cls));
        }
        free_block* block = list.head;
        list.head = block->next;
        --list.count;
        return block;
    }

    void deallocate(std::size_t cls, void* p) noexcept {
        batch& list = lists[cls];
        auto* block = static_cast<free_block*>(p);
        block->next = list.head;
        list.head = block;
        if (++list.count >= 2 * batch_size) {
            batch out;
            for (std::size_t i = 0; i < batch_size; ++i) {
                free_block* b = list.head;
                list.head = b->next;
                b->next = out.head;
                out.head = b;
            }
            out.count = batch_size;
            list.count -= batch_size;
            shared_depot().give(cls, out);
        }
    }
};

thread_cache* local_cache() {
    if (cache_gone) return nullptr;
    thread_local thread_cache cache;
    return &cache;
}

}  // namespace

void* pool_allocate(std::size_t size) {
    const std::size_t cls = class_of(size == 0 ? 1 : size);
    if (cls >= classes) return ::operator new(size);
    thread_cache* cache = local_cache();
    return cache != nullptr ? cache->allocate(cls) : ::operator new(class_bytes(cls));
}

void pool_deallocate(void* block, std::size_t size) noexcept {
    if (block == nullptr) return;
    const std::size_t cls = class_of(size == 0 ? 1 : size);
    if (cls >= classes) {
        ::operator delete(block);
        return;
    }
    if (thread_cache* cache = local_cache()) {
        cache->deallocate(cls, block);
    } else {
        ::operator delete(block);
    }
}

}  // namespace dftracer::detail
