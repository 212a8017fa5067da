#include "harness.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <thread>

namespace bench {
namespace {

using bench_clock = std::chrono::steady_clock;

double elapsed_ms(bench_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(bench_clock::now() - start).count();
}

ratio_result compare(const side_result& ours, const side_result& anchor) {
    ratio_result r{ours.name, anchor.name, {}, 0, 0, 0};
    for (std::size_t i = 0; i < ours.rounds_ms.size(); ++i) {
        r.rounds.push_back(anchor.rounds_ms[i] / ours.rounds_ms[i]);
    }
    r.median = median(r.rounds);
    r.min = *std::min_element(r.rounds.begin(), r.rounds.end());
    r.max = *std::max_element(r.rounds.begin(), r.rounds.end());
    return r;
}

}  // namespace

double median(std::vector<double> samples) {
    if (samples.empty()) return 0;
    std::sort(samples.begin(), samples.end());
    const std::size_t mid = samples.size() / 2;
    return samples.size() % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
}

workload_result measure(const workload_spec& spec, const std::vector<contender>& contenders, const plan& p) {
    const std::string& id = spec.id;
    std::vector<const contender*> sides;
    for (const auto& c : contenders) {
        if (c.runs.count(id)) sides.push_back(&c);
    }
    workload_result result{spec, {}, {}};
    for (const auto* c : sides) result.sides.push_back({c->name, c->ours, {}, 0});
    if (sides.empty()) return result;

    std::optional<long> reference = spec.expected;
    auto run_once = [&](std::size_t i, bool timed) {
        const auto start = bench_clock::now();
        const long check = sides[i]->runs.at(id)();
        const double ms = elapsed_ms(start);
        if (reference && check != *reference) {
            throw std::runtime_error("workload " + id + ": " + sides[i]->name + " computed " + std::to_string(check) +
                                     ", expected " + std::to_string(*reference));
        }
        reference = check;
        if (timed) result.sides[i].rounds_ms.push_back(ms);
        std::this_thread::sleep_for(p.pause);
    };
    for (int w = 0; w < p.warmup; ++w) {
        for (std::size_t i = 0; i < sides.size(); ++i) run_once(i, false);
    }
    for (int r = 0; r < p.rounds; ++r) {
        for (std::size_t k = 0; k < sides.size(); ++k) run_once((static_cast<std::size_t>(r) + k) % sides.size(), true);
    }
    for (auto& s : result.sides) s.median_ms = median(s.rounds_ms);
    for (const auto& ours : result.sides) {
        if (!ours.ours) continue;
        for (const auto& anchor : result.sides) {
            if (!anchor.ours) result.ratios.push_back(compare(ours, anchor));
        }
    }
    return result;
}

overhead_result measure_overhead(const std::string& feature, const std::function<void()>& off,
                                 const std::function<void()>& on, const plan& p) {
    contender without{"off", false, {{feature, [&] { return off(), 0L; }}}};
    contender with{"on", true, {{feature, [&] { return on(), 0L; }}}};
    const auto w = measure({feature, "", feature, 0}, {without, with}, p);
    return {feature,
            w.sides[0].rounds_ms,
            w.sides[1].rounds_ms,
            w.sides[0].median_ms,
            w.sides[1].median_ms,
            w.ratios.at(0).median};
}

}  // namespace bench
