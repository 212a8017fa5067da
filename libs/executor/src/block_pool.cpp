// The block pool's slabs, heaps and spare stack (detail/block_pool.hpp).
//
// Locks, in the order they nest: the registry's (heaps, orphans), a heap's,
// the spare stack's. A heap's lock guards its slabs' free lists and counts
// and its partial lists; its owner takes it once per slab's worth of blocks,
// and pool_trim() takes it (try_lock) to settle the heap from outside. The
// returned-blocks list (heap::returned) takes no lock.
//
// A block freed on a thread other than its owner's joins that thread's
// outgoing chain: blocks of one slab, at most 64. The chain's first block
// carries its tail, its length and the link to the next chain, so the owner
// puts a whole chain back into its slab touching two blocks, not 64 (the
// blocks were last written on another core: each first touch is a miss).
#include "dftracer/executor/detail/block_pool.hpp"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>

namespace dftracer::detail {

namespace block_pool {

thread_local constinit thread_cache cache{};

namespace {

constexpr std::size_t header_bytes = 128;     // a slab's header: two lines
constexpr std::size_t segment_slabs = 16;     // slabs mapped at once
constexpr std::size_t heap_reserve = 2;       // empty slabs a heap keeps
constexpr std::size_t idle_spare_slabs = 16;  // spare slabs kept by pool_trim()
constexpr std::uint32_t return_chain = 64;    // blocks sent back per push

struct slab {
    // Line 0: read by any thread freeing a block of this slab.
    heap* owner;  // first: owner_of() reads it; null while spare
    std::uint32_t cls;
    std::uint32_t capacity;
    char pad0[64 - sizeof(heap*) - 2 * sizeof(std::uint32_t)];
    // Line 1: the owner heap's lock guards these.
    free_block* free;    // blocks returned to this slab
    char* bump;          // never-used blocks: [bump, limit())
    std::uint32_t used;  // blocks out of `free` and the bump run
    bool in_partial;
    slab* prev;  // in the owner's partial list of cls, or the spare stack
    slab* next;

    /// Sets up this empty slab for blocks of class cls owned by `by`: no
    /// block out, all of them in the never-used run.
    void start(heap* by, std::size_t cls_) noexcept {
        owner = by;
        cls = static_cast<std::uint32_t>(cls_);
        capacity = static_cast<std::uint32_t>((slab_bytes - header_bytes) / class_bytes(cls_));
        free = nullptr;
        bump = first();
        used = 0;
        in_partial = false;
        prev = next = nullptr;
    }
    char* first() noexcept { return reinterpret_cast<char*>(this) + header_bytes; }
    char* limit() noexcept { return first() + std::size_t{capacity} * class_bytes(cls); }
    std::uint32_t unused() noexcept {
        return static_cast<std::uint32_t>(static_cast<std::size_t>(limit() - bump) / class_bytes(cls));
    }
};
static_assert(sizeof(slab) <= header_bytes);
static_assert(header_bytes % granule == 0);

slab* slab_of(const void* block) noexcept {
    return reinterpret_cast<slab*>(reinterpret_cast<std::uintptr_t>(block) & ~(std::uintptr_t{slab_bytes} - 1));
}

/// What the first block of a returned chain carries (see the top of this
/// file), stored after its link word.
struct chain_fields {
    free_block* tail;
    std::uint32_t count;
    free_block* next_chain;
};
static_assert(sizeof(free_block) + sizeof(chain_fields) <= granule);

void write_chain(free_block* head, const chain_fields& f) noexcept {
    std::memcpy(reinterpret_cast<char*>(head) + sizeof(free_block), &f, sizeof f);
}
chain_fields read_chain(const free_block* head) noexcept {
    chain_fields f;
    std::memcpy(&f, reinterpret_cast<const char*>(head) + sizeof(free_block), sizeof f);
    return f;
}

/// Empty slabs owned by no heap, and the count of slabs mapped.
class spare_stack {
public:
    /// An empty slab set up for (owner, cls). Throws std::bad_alloc.
    slab* take(heap* owner, std::size_t cls) {
        slab* s = nullptr;
        {
            std::lock_guard<std::mutex> guard(mutex_);
            if (top_ == nullptr) map_segment();
            s = top_;
            top_ = s->next;
            --count_;
        }
        s->start(owner, cls);
        return s;
    }
    void give(slab* s) noexcept {
        s->owner = nullptr;
        std::lock_guard<std::mutex> guard(mutex_);
        s->next = top_;
        top_ = s;
        ++count_;
    }
    /// Unmaps spare slabs beyond `keep`.
    void trim(std::size_t keep) noexcept {
        slab* excess = nullptr;
        {
            std::lock_guard<std::mutex> guard(mutex_);
            while (count_ > keep) {
                slab* s = top_;
                top_ = s->next;
                --count_;
                s->next = excess;
                excess = s;
            }
        }
        while (excess != nullptr) {
            slab* next = excess->next;
            ::munmap(excess, slab_bytes);
            mapped_.fetch_sub(1, std::memory_order_relaxed);
            excess = next;
        }
    }
    statistics stats() noexcept {
        std::lock_guard<std::mutex> guard(mutex_);
        return {mapped_.load(std::memory_order_relaxed), count_};
    }
    std::mutex& mutex() noexcept { return mutex_; }

private:
    /// Maps segment_slabs slabs, aligned to slab_bytes, onto the stack.
    void map_segment() {
        const std::size_t bytes = segment_slabs * slab_bytes;
        void* raw = ::mmap(nullptr, bytes + slab_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) throw std::bad_alloc();
        const auto start = reinterpret_cast<std::uintptr_t>(raw);
        const auto aligned = (start + slab_bytes - 1) & ~(std::uintptr_t{slab_bytes} - 1);
        if (aligned != start) ::munmap(raw, aligned - start);
        const std::size_t tail = start + bytes + slab_bytes - (aligned + bytes);
        if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + bytes), tail);
        for (std::size_t i = 0; i < segment_slabs; ++i) {
            auto* s = reinterpret_cast<slab*>(aligned + i * slab_bytes);
            s->owner = nullptr;
            s->next = top_;
            top_ = s;
        }
        count_ += segment_slabs;
        mapped_.fetch_add(segment_slabs, std::memory_order_relaxed);
    }

    std::mutex mutex_;
    slab* top_ = nullptr;
    std::size_t count_ = 0;
    std::atomic<std::size_t> mapped_{0};
};

spare_stack& spares() {
    static spare_stack* s = new spare_stack();  // never destroyed: threads may exit late
    return *s;
}

}  // namespace

/// The slabs of one thread (or, after it exits, of the thread that adopts
/// them). Never destroyed.
struct heap {
    /// Blocks of this heap's slabs freed on other threads, pushed in chains.
    alignas(64) std::atomic<free_block*> returned{nullptr};

    alignas(64) std::mutex lock;
    // Under lock:
    std::array<slab*, classes> partial{};  // slabs with free or unused blocks, by class
    slab* empty = nullptr;                 // up to heap_reserve empty slabs
    std::size_t empty_count = 0;
    // Under the registry's lock:
    heap* next_in_registry = nullptr;
    heap* next_orphan = nullptr;

    /// Puts every returned chain back into its slab.
    void settle_returned() noexcept {
        free_block* c = returned.exchange(nullptr, std::memory_order_acquire);
        while (c != nullptr) {
            const chain_fields f = read_chain(c);
            slab* s = slab_of(c);
            f.tail->next = s->free;
            s->free = c;
            settle(s, f.count);
            c = f.next_chain;
        }
    }

    /// Puts a list of this heap's blocks back into their slabs.
    void give_back(free_block* list) noexcept {
        while (list != nullptr) {
            free_block* block = list;
            list = list->next;
            slab* s = slab_of(block);
            block->next = s->free;
            s->free = block;
            settle(s, 1);
        }
    }

    /// Puts the run [bump, bump_end) of never-used blocks back into its slab.
    void give_back_run(char* bump, char* bump_end) noexcept {
        if (bump == bump_end) return;
        slab* s = slab_of(bump);
        s->bump = bump;
        settle(s, static_cast<std::uint32_t>(static_cast<std::size_t>(bump_end - bump) / class_bytes(s->cls)));
    }

    /// Moves one slab's free blocks and unused run into `out` (empty).
    void fill(std::size_t cls, private_list& out) {
        slab* s = slab_with_blocks(cls);
        unlink(s);
        out.bump = s->bump;
        out.bump_end = s->limit();
        out.count = s->capacity - s->used - s->unused();
        out.limit = std::max(max_private, out.count + max_private / 2);
        out.head = s->free;
        s->free = nullptr;
        s->bump = s->limit();
        s->used = s->capacity;
    }

    /// One block of class cls (for a thread without a private list).
    void* take_one(std::size_t cls) {
        slab* s = slab_with_blocks(cls);
        void* block = s->free;
        if (block != nullptr) {
            s->free = s->free->next;
        } else {
            block = s->bump;
            s->bump += class_bytes(cls);
        }
        if (++s->used == s->capacity) unlink(s);
        return block;
    }

    /// Returns every empty slab this heap keeps.
    void release_empty() noexcept {
        while (empty != nullptr) {
            slab* s = empty;
            empty = s->next;
            spares().give(s);
        }
        empty_count = 0;
    }

private:
    /// A slab of class cls with a free or unused block, listed as partial.
    slab* slab_with_blocks(std::size_t cls) {
        settle_returned();
        if (partial[cls] != nullptr) return partial[cls];
        slab* s = nullptr;
        if (empty != nullptr) {
            s = empty;
            empty = s->next;
            --empty_count;
            s->start(this, cls);
        } else {
            s = spares().take(this, cls);
        }
        link(s);
        return s;
    }

    /// `n` blocks of s came back: relist it, or let it go once empty.
    void settle(slab* s, std::uint32_t n) noexcept {
        s->used -= n;
        if (s->used == 0) {
            if (s->in_partial) unlink(s);
            if (empty_count < heap_reserve) {
                s->next = empty;
                empty = s;
                ++empty_count;
            } else {
                spares().give(s);
            }
        } else if (!s->in_partial) {
            link(s);
        }
    }
    void link(slab* s) noexcept {
        slab*& head = partial[s->cls];
        s->prev = nullptr;
        s->next = head;
        if (head != nullptr) head->prev = s;
        head = s;
        s->in_partial = true;
    }
    void unlink(slab* s) noexcept {
        if (s->prev != nullptr) {
            s->prev->next = s->next;
        } else {
            partial[s->cls] = s->next;
        }
        if (s->next != nullptr) s->next->prev = s->prev;
        s->in_partial = false;
    }
};

namespace {

/// Every heap ever made, and those whose thread has exited.
class registry {
public:
    /// An orphaned heap, or a new one.
    heap* adopt() {
        std::lock_guard<std::mutex> guard(mutex_);
        if (orphans_ != nullptr) {
            heap* h = orphans_;
            orphans_ = h->next_orphan;
            return h;
        }
        return new_heap();
    }
    void orphan(heap* h) noexcept {
        std::lock_guard<std::mutex> guard(mutex_);
        h->next_orphan = orphans_;
        orphans_ = h;
    }
    /// Settles every heap not busy now and returns its empty slabs.
    void settle_all() noexcept {
        std::lock_guard<std::mutex> guard(mutex_);
        for (heap* h = all_; h != nullptr; h = h->next_in_registry) {
            std::unique_lock<std::mutex> held(h->lock, std::try_to_lock);
            if (!held.owns_lock()) continue;
            h->settle_returned();
            h->release_empty();
        }
    }
    /// The heap of threads that allocate after their exit (used under its lock).
    heap& after_exit() noexcept { return *after_exit_; }
    std::mutex& mutex() noexcept { return mutex_; }

private:
    std::mutex mutex_;
    heap* all_ = nullptr;
    heap* orphans_ = nullptr;
    heap* after_exit_ = new_heap();

    /// A new heap, listed (the caller holds mutex_, or is the constructor).
    heap* new_heap() {
        auto* h = new heap();
        h->next_in_registry = all_;
        all_ = h;
        return h;
    }
};

registry& heaps() {
    static registry* r = new registry();  // never destroyed: threads may exit late
    return *r;
}

/// Blocks of one slab of another heap on their way back to it.
struct outgoing_chain {
    slab* from;
    free_block* head;
    free_block* tail;
    std::uint32_t count;
    bool leaver_set;  ///< leave_thread() will run at this thread's exit
};
thread_local constinit outgoing_chain outgoing{};

/// Pushes the chain head..tail (count blocks of one slab) onto its owner.
void push_chain(free_block* head, free_block* tail, std::uint32_t count) noexcept {
    heap* to = slab_of(head)->owner;
    free_block* old = to->returned.load(std::memory_order_relaxed);
    do {
        write_chain(head, {tail, count, old});
    } while (!to->returned.compare_exchange_weak(old, head, std::memory_order_release, std::memory_order_relaxed));
}

void flush_outgoing() noexcept {
    if (outgoing.count == 0) return;
    push_chain(outgoing.head, outgoing.tail, outgoing.count);
    outgoing.from = nullptr;
    outgoing.head = outgoing.tail = nullptr;
    outgoing.count = 0;
}

/// Gives the calling thread's private lists back to their slabs.
void give_back_private(heap& h) noexcept {
    for (private_list& list : cache.lists) {
        h.give_back(list.head);
        h.give_back_run(list.bump, list.bump_end);
        list = {};
    }
}

void leave_thread(void*) noexcept {
    flush_outgoing();
    heap* h = cache.home;
    cache.home = nullptr;
    cache.gone = true;
    if (h == nullptr) return;
    {
        std::lock_guard<std::mutex> guard(h->lock);
        give_back_private(*h);
    }
    heaps().orphan(h);
}

// fork(): the child's only thread must not find a lock of the pool held by
// a thread that no longer exists there. The locks it may need (the
// registry's, its own heap's, the exited threads' heap's, the spare
// stack's) are taken across the fork in the nesting order and released on
// both sides.
void before_fork() noexcept {
    heaps().mutex().lock();
    if (cache.home != nullptr) cache.home->lock.lock();
    heaps().after_exit().lock.lock();
    spares().mutex().lock();
}
void after_fork() noexcept {
    spares().mutex().unlock();
    heaps().after_exit().lock.unlock();
    if (cache.home != nullptr) cache.home->lock.unlock();
    heaps().mutex().unlock();
}

/// The key whose destructor runs leave_thread(); its fork handlers are set
/// up with it. A pthread key rather than a thread_local object: a key set
/// while the thread's keys are being destroyed still gets its destructor
/// (a later round), so a block freed in another key's destructor still
/// goes home.
struct exit_key {
    pthread_key_t key{};
    bool usable = false;
    exit_key() {
        (void)heaps();
        (void)spares();
        usable = ::pthread_key_create(&key, leave_thread) == 0;
        ::pthread_atfork(before_fork, after_fork, after_fork);
    }
};

/// Arranges leave_thread() at this thread's exit; false if it cannot.
bool set_leaver() noexcept {
    if (outgoing.leaver_set) return true;
    static const exit_key* k = new exit_key();  // never destroyed: threads may exit late
    if (!k->usable || ::pthread_setspecific(k->key, &outgoing) != 0) return false;
    outgoing.leaver_set = true;
    return true;
}

/// One block from the shared heap of threads that have exited.
void* allocate_after_exit(std::size_t cls) {
    heap& h = heaps().after_exit();
    std::lock_guard<std::mutex> guard(h.lock);
    return h.take_one(cls);
}

}  // namespace

void* allocate_slow(std::size_t size) {
    const std::size_t cls = class_of(size);
    if (cls >= classes) return ::operator new(size);
    heap* h = cache.home;
    if (h == nullptr) {
        if (cache.gone || !set_leaver()) return allocate_after_exit(cls);
        h = cache.home = heaps().adopt();
    }
    private_list& list = cache.lists[cls];
    {
        std::lock_guard<std::mutex> guard(h->lock);
        h->fill(cls, list);
    }
    return allocate(size);  // from the list just filled
}

void deallocate_slow(void* p, std::size_t size) noexcept {
    if (p == nullptr) return;
    const std::size_t cls = class_of(size);
    if (cls >= classes) {
        ::operator delete(p);
        return;
    }
    auto* block = static_cast<free_block*>(p);
    heap* owner = owner_of(p);
    if (owner == cache.home) {
        private_list& list = cache.lists[cls];
        if (list.count >= max_private) {
            // The list is full: all but its latest max_private / 2 blocks
            // (the warmest) go back to their slabs.
            free_block* last_kept = list.head;
            for (std::uint32_t i = 1; i < max_private / 2; ++i) last_kept = last_kept->next;
            free_block* rest = last_kept->next;
            last_kept->next = nullptr;
            list.count = max_private / 2;
            std::lock_guard<std::mutex> guard(owner->lock);
            owner->give_back(rest);
        }
        // Also here: a list this thread never filled (or gave back) whose
        // blocks are freed here, e.g. those of an adopted heap.
        list.limit = max_private;
        block->next = list.head;
        list.head = block;
        ++list.count;
        return;
    }
    if (cache.gone || !set_leaver()) {
        block->next = nullptr;
        push_chain(block, block, 1);  // nothing would flush a chain
        return;
    }
    if (outgoing.from != slab_of(block)) {
        flush_outgoing();
        outgoing.from = slab_of(block);
        outgoing.tail = block;
    }
    block->next = outgoing.head;
    outgoing.head = block;
    if (++outgoing.count == return_chain) flush_outgoing();
}

statistics stats() noexcept { return spares().stats(); }

}  // namespace block_pool

void pool_trim() noexcept {
    using namespace block_pool;
    flush_outgoing();
    if (heap* h = cache.home) {
        std::lock_guard<std::mutex> guard(h->lock);
        give_back_private(*h);
    }
    heaps().settle_all();
    spares().trim(idle_spare_slabs);
}

}  // namespace dftracer::detail
