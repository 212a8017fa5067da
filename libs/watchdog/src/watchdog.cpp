// The watchdog object: registration of executors, the sampling thread, passes
// and delivery of their reports. Detection itself lives in detectors.cpp and
// deadlock.cpp.
#include "dftracer/watchdog/watchdog.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#if defined(__linux__)
#include <pthread.h>
#endif

#include "callbacks.hpp"
#include "monitor.hpp"

namespace dftracer {

namespace {

using watchdog_detail::nanoseconds;

struct watched {
    executor* raw = nullptr;
    std::weak_ptr<executor> weak;  // set by watch(shared_ptr)
    bool shared = false;
    bool removed = false;  // guarded by pass_mutex (or set by the pass's own thread)
    watchdog_detail::executor_monitor monitor;
};

void validate(const watchdog_config& c) {
    auto check = [](std::chrono::milliseconds v, const char* name) {
        if (v.count() < 0) throw std::invalid_argument(std::string("watchdog ") + name + " must be >= 0");
    };
    check(c.interval, "interval");
    check(c.slow_threshold, "slow_threshold");
    check(c.stall_threshold, "stall_threshold");
    check(c.deadlock_threshold, "deadlock_threshold");
}

void name_this_thread(const std::string& name) {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
#else
    (void)name;
#endif
}

}  // namespace

struct watchdog::impl {
    explicit impl(watchdog_config c) : config(std::move(c)) {
        settings.slow = config.slow_threshold;
        settings.stall = config.stall_threshold;
        settings.deadlock = config.deadlock_threshold;
        settings.timeouts = config.enforce_timeouts;
    }

    const watchdog_config config;
    watchdog_detail::pass_settings settings;
    watchdog_detail::callback_registry callbacks;

    // Passes and the watched list. A pass holds pass_mutex while it touches
    // executors, never while it logs or calls callbacks.
    mutable std::mutex pass_mutex;
    std::atomic<std::thread::id> pass_owner{};
    std::vector<std::shared_ptr<watched>> entries;

    // The sampling thread. lifecycle_mutex serialises start()/stop() from
    // outside; thread_mutex guards stop_requested for the thread's sleep.
    std::mutex lifecycle_mutex;
    std::mutex thread_mutex;
    std::condition_variable wake;
    bool stop_requested = true;
    bool thread_live = false;  // guarded by thread_mutex; `thread` by lifecycle_mutex
    std::thread thread;
    std::atomic<std::thread::id> thread_id{};

    bool in_pass_here() const { return pass_owner.load() == std::this_thread::get_id(); }
    bool on_watchdog_thread() const { return thread_id.load() == std::this_thread::get_id(); }

    clock::time_point now() const { return config.now ? config.now() : clock::now(); }

    // The watched list may be changed from inside a pass only by the pass's
    // own thread (an executor hook run by fail_task); pass_mutex is held then.
    template <class Fn>
    auto with_entries(Fn&& fn) -> decltype(fn()) {
        if (in_pass_here()) return fn();
        std::lock_guard<std::mutex> guard(pass_mutex);
        return fn();
    }

    // An expired shared entry is ignored: a new executor may live at its address.
    std::vector<std::shared_ptr<watched>>::iterator find_entry(const executor& ex) {
        return std::find_if(entries.begin(), entries.end(), [&](const auto& e) {
            return !e->removed && e->raw == &ex && !(e->shared && e->weak.expired());
        });
    }

    bool add(executor* raw, std::shared_ptr<executor> owner) {
        return with_entries([&] {
            if (find_entry(*raw) != entries.end()) return false;
            if (!in_pass_here()) {  // a pass erases these too; a stopped watchdog relies on this
                entries.erase(
                    std::remove_if(entries.begin(), entries.end(),
                                   [](const auto& e) { return e->removed || (e->shared && e->weak.expired()); }),
                    entries.end());
            }
            auto e = std::make_shared<watched>();
            e->raw = raw;
            if (owner) {
                e->weak = owner;
                e->shared = true;
            }
            entries.push_back(std::move(e));
            return true;
        });
    }

    void log(log_level level, const std::string& line, const watchdog_report* report) const {
        if (!config.log_sink) return;
        try {
            config.log_sink(level, line, report);
        } catch (...) {
            stderr_log_sink(log_level::error, "the watchdog log sink threw; its line was: " + line, nullptr);
        }
    }

    std::vector<watchdog_report> pass(clock::time_point at) {
        std::vector<watchdog_report> reports;
        std::vector<std::string> errors;
        // Strong references taken for the pass; released after the lock so an
        // executor whose last owner let go is destroyed outside it.
        std::vector<std::shared_ptr<executor>> keep_alive;
        if (in_pass_here()) return reports;  // re-entered from an executor hook
        {
            std::lock_guard<std::mutex> guard(pass_mutex);
            pass_owner.store(std::this_thread::get_id());
            // Index loop: a hook may append to `entries` during the pass.
            for (std::size_t i = 0; i < entries.size(); ++i) {
                std::shared_ptr<watched> e = entries[i];
                if (e->removed) continue;
                if (e->shared) {
                    auto strong = e->weak.lock();
                    if (!strong) {
                        e->removed = true;
                        continue;
                    }
                    keep_alive.push_back(std::move(strong));
                }
                try {
                    e->monitor.run(*e->raw, settings, at, reports, e->removed);
                } catch (const std::exception& ex) {
                    errors.push_back(std::string("watchdog pass failed: ") + ex.what());
                } catch (...) {
                    errors.emplace_back("watchdog pass failed: unknown exception");
                }
            }
            entries.erase(std::remove_if(entries.begin(), entries.end(), [](const auto& e) { return e->removed; }),
                          entries.end());
            pass_owner.store(std::thread::id{});
        }
        keep_alive.clear();
        for (const auto& text : errors) log(log_level::error, text, nullptr);
        for (const auto& r : reports) {
            log(level_of(r.kind), format_report(r), &r);
            callbacks.deliver(r, [&](std::size_t id, const std::string& what) {
                log(log_level::error,
                    "watchdog callback " + std::to_string(id) + " threw while handling a " + to_string(r.kind) +
                        " report: " + what,
                    nullptr);
            });
        }
        return reports;
    }

    void thread_main() {
        thread_id.store(std::this_thread::get_id());
        name_this_thread(config.thread_name);
        std::unique_lock<std::mutex> lock(thread_mutex);
        auto next = std::chrono::steady_clock::now() + config.interval;
        while (!stop_requested) {
            if (wake.wait_until(lock, next, [this] { return stop_requested; })) break;
            lock.unlock();
            try {
                pass(now());
            } catch (...) {
                // pass() contains its own failures; this is a last resort
                // (e.g. out of memory) so the thread keeps watching.
                log(log_level::error, "watchdog pass failed", nullptr);
            }
            lock.lock();
            const auto current = std::chrono::steady_clock::now();
            next += config.interval;
            if (next <= current) next = current + config.interval;  // fell behind: do not burst
        }
        // Thread ids are reused: forget ours before exiting.
        thread_id.store(std::thread::id{});
    }

    void start() {
        if (on_watchdog_thread()) {
            std::lock_guard<std::mutex> guard(thread_mutex);
            stop_requested = false;
            return;
        }
        std::lock_guard<std::mutex> life(lifecycle_mutex);
        if (thread.joinable()) {
            {
                std::lock_guard<std::mutex> guard(thread_mutex);
                if (!stop_requested) return;
            }
            join();  // it was asked to exit (from a callback); restart
        }
        if (config.interval.count() == 0) return;
        std::lock_guard<std::mutex> guard(thread_mutex);
        stop_requested = false;
        thread = std::thread([this] { thread_main(); });
        thread_live = true;
    }

    void join() {
        thread.join();
        std::lock_guard<std::mutex> guard(thread_mutex);
        thread_live = false;
    }

    void stop() {
        {
            std::lock_guard<std::mutex> guard(thread_mutex);
            stop_requested = true;
        }
        wake.notify_all();
        if (on_watchdog_thread()) return;
        std::lock_guard<std::mutex> life(lifecycle_mutex);
        if (thread.joinable()) join();
    }
};

watchdog::watchdog(watchdog_config config) {
    validate(config);
    impl_ = std::make_unique<impl>(std::move(config));
    if (impl_->config.start_thread) impl_->start();
}

watchdog::~watchdog() {
    if (impl_->on_watchdog_thread()) {
        std::fputs("dftracer: watchdog destroyed from its own thread (a callback or log sink); aborting\n", stderr);
        std::abort();
    }
    impl_->stop();
    impl_->callbacks.clear();
}

bool watchdog::watch(executor& ex) { return impl_->add(&ex, nullptr); }

bool watchdog::watch(std::shared_ptr<executor> ex) {
    if (!ex) throw std::invalid_argument("watchdog::watch: null executor");
    executor* raw = ex.get();
    return impl_->add(raw, std::move(ex));
}

bool watchdog::unwatch(const executor& ex) {
    return impl_->with_entries([&] {
        auto it = impl_->find_entry(ex);
        if (it == impl_->entries.end()) return false;
        (*it)->removed = true;  // a pass on this thread skips it from now on
        if (!impl_->in_pass_here()) impl_->entries.erase(it);
        return true;
    });
}

bool watchdog::is_watching(const executor& ex) const {
    auto& self = *impl_;
    return self.with_entries([&] { return self.find_entry(ex) != self.entries.end(); });
}

std::size_t watchdog::add_callback(report_callback callback) { return impl_->callbacks.add(std::move(callback)); }

bool watchdog::remove_callback(std::size_t id) { return impl_->callbacks.remove(id); }

void watchdog::start() { impl_->start(); }

void watchdog::stop() { impl_->stop(); }

bool watchdog::running() const {
    std::lock_guard<std::mutex> guard(impl_->thread_mutex);
    return impl_->thread_live && !impl_->stop_requested;
}

std::vector<watchdog_report> watchdog::check_now() { return impl_->pass(impl_->now()); }

std::vector<watchdog_report> watchdog::check_at(clock::time_point now) { return impl_->pass(now); }

const watchdog_config& watchdog::config() const noexcept { return impl_->config; }

}  // namespace dftracer
