#include "workloads.hpp"

#include <chrono>
#include <cstdint>

namespace bench {

sizes sizes::quick() {
    sizes s;
    s.empty_tasks = 100'000;
    s.fib_n = 22;
    s.chain = 10'000;
    s.when_all = 2'000;
    s.per_producer = 25'000;
    s.nested_fib_n = 18;
    s.imbalanced = 2'000;
    return s;
}

namespace {

long fib_value(int n) {
    long a = 0, b = 1;
    for (int i = 0; i < n; ++i) {
        const long next = a + b;
        a = b;
        b = next;
    }
    return a;
}

}  // namespace

std::vector<workload_spec> workload_specs(const sizes& s) {
    auto n = [](int v) { return std::to_string(v); };
    const long leaves = s.when_all;
    return {
        {"empty", "a", n(s.empty_tasks) + " empty tasks, submit + wait", 0},
        {"fib", "b", "fib(" + n(s.fib_n) + ") as coroutines", fib_value(s.fib_n)},
        {"fib_spawn", "i", "fib(" + n(s.fib_n) + "), coroutines spawning", fib_value(s.fib_n)},
        {"chain", "c", "chain of " + n(s.chain) + " dependent tasks", s.chain},
        {"when_all", "e", "when_all over " + n(s.when_all) + " coroutines", leaves * (leaves - 1) / 2},
        {"producers", "f", n(s.producers) + " outside threads x " + n(s.per_producer) + " empty tasks", 0},
        {"producer_bodies", "j", n(s.producers) + " threads hand a body of " + n(s.per_producer) + " tasks to the pool",
         0},
        {"nested_get", "g", "fib(" + n(s.nested_fib_n) + "), nested submit + blocking get", fib_value(s.nested_fib_n)},
        {"imbalanced", "h", n(s.imbalanced) + " tasks of 1-40 us busy work", std::nullopt},
    };
}

long busy_work(long units) {
    std::uint64_t x = 0x9E3779B97F4A7C15ULL ^ static_cast<std::uint64_t>(units);
    for (long i = 0; i < units; ++i) {  // xorshift64: no closed form to fold the loop into
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return static_cast<long>(x & 0xFFFF);
}

namespace {

double units_per_us() {
    using clock = std::chrono::steady_clock;
    for (long units = 1 << 12;; units *= 2) {
        const auto start = clock::now();
        volatile long sink = busy_work(units);
        (void)sink;
        const double us = std::chrono::duration<double, std::micro>(clock::now() - start).count();
        if (us >= 20'000) return static_cast<double>(units) / us;
    }
}

}  // namespace

std::vector<long> imbalanced_units(int tasks) {
    const double rate = units_per_us();
    std::uint64_t state = 20'240'601;  // fixed seed: splitmix64, the same on every platform
    std::vector<long> units;
    units.reserve(static_cast<std::size_t>(tasks));
    for (int i = 0; i < tasks; ++i) {
        state += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        const double micros = 1.0 + static_cast<double>(z % 40);  // 1..40 us
        units.push_back(static_cast<long>(micros * rate) + 1);
    }
    return units;
}

}  // namespace bench
