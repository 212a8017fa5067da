#include "dftracer/executor/detail/block_pool.hpp"

#include <array>
#include <mutex>
#include <new>
#include <vector>

namespace dftracer::detail {

namespace block_pool {

thread_local constinit thread_cache cache{};

namespace {

constexpr std::size_t batch_size = max_cached / 2;  // blocks moved per depot transfer
// While tasks flow, the depot keeps what bursts free (a million queued tasks
// free a million records on the workers while the submitter allocates anew;
// sending those through operator delete/new makes the threads contend on the
// system allocator). Idle threads trim it back to `idle_depot_batches`.
constexpr std::size_t max_depot_batches = std::size_t{1} << 14;  // per class
constexpr std::size_t idle_depot_batches = 64;                   // per class

constexpr std::size_t class_bytes(std::size_t cls) noexcept { return (cls + 1) * granule; }

// Pooled blocks start on a cache line, so a record of three lines' size
// occupies exactly three (it crosses cores whole).
constexpr std::align_val_t block_alignment{granule};

void* new_block(std::size_t cls) { return ::operator new(class_bytes(cls), block_alignment); }
void delete_block(void* block) noexcept { ::operator delete(block, block_alignment); }

void free_blocks(free_block* head) noexcept {
    while (head != nullptr) {
        free_block* next = head->next;
        delete_block(head);
        head = next;
    }
}

class depot {
public:
    bool take(std::size_t cls, free_list& out) {
        std::lock_guard<std::mutex> guard(mutex_);
        auto& shelf = shelves_[cls];
        if (shelf.empty()) return false;
        out = shelf.back();
        shelf.pop_back();
        return true;
    }
    void give(std::size_t cls, free_list b) noexcept {
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
        free_blocks(b.head);
    }
    void trim(std::size_t keep) noexcept {
        std::vector<free_list> excess;
        {
            std::lock_guard<std::mutex> guard(mutex_);
            for (auto& shelf : shelves_) {
                if (shelf.size() <= keep) continue;
                try {
                    excess.insert(excess.end(), shelf.begin() + static_cast<std::ptrdiff_t>(keep), shelf.end());
                } catch (...) {
                    break;  // this shelf and the rest stay whole; free what was taken
                }
                shelf.resize(keep);
            }
        }
        for (const free_list& b : excess) free_blocks(b.head);
    }

private:
    std::mutex mutex_;
    std::array<std::vector<free_list>, classes> shelves_;
};

depot& shared_depot() {
    static depot* d = new depot();  // never destroyed: threads may exit late
    return *d;
}

void flush_cache() noexcept {
    cache.gone = true;
    cache.flusher_registered = false;  // sends later frees to the slow path
    for (std::size_t cls = 0; cls < classes; ++cls) {
        if (cache.lists[cls].count != 0) shared_depot().give(cls, cache.lists[cls]);
        cache.lists[cls] = {};
    }
}

struct cache_flusher {
    ~cache_flusher() { flush_cache(); }
};

void register_flusher() {
    cache.flusher_registered = true;
    thread_local cache_flusher flusher;  // constructed here, destroyed at thread exit
    (void)flusher;
}

}  // namespace

void* allocate_slow(std::size_t size) {
    const std::size_t cls = class_of(size);
    if (cls >= classes) return ::operator new(size);
    if (cache.gone) return new_block(cls);
    if (!cache.flusher_registered) register_flusher();
    free_list& list = cache.lists[cls];
    if (!shared_depot().take(cls, list)) return new_block(cls);
    return list.pop();
}

void deallocate_slow(void* p, std::size_t size) noexcept {
    if (p == nullptr) return;
    const std::size_t cls = class_of(size);
    if (cls >= classes) {
        ::operator delete(p);
        return;
    }
    auto* block = static_cast<free_block*>(p);
    if (cache.gone) {
        delete_block(block);
        return;
    }
    if (!cache.flusher_registered) {
        try {
            register_flusher();
        } catch (...) {
            delete_block(block);
            return;
        }
    }
    free_list& list = cache.lists[cls];
    list.push(block);
    if (list.count < max_cached) return;
    free_list out;
    for (std::size_t i = 0; i < batch_size; ++i) out.push(list.pop());
    shared_depot().give(cls, out);
}

}  // namespace block_pool

void pool_trim() noexcept { block_pool::shared_depot().trim(block_pool::idle_depot_batches); }

}  // namespace dftracer::detail
