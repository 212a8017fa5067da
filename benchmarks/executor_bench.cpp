// Executor benchmark: our executor against oneTBB and Taskflow (each when
// built with it) on the workloads of workloads.hpp, interleaved round by round
// (harness.hpp); then, on ours alone, what the watchdog and task recording
// cost and (d) the CPU an idle executor uses.
//
// Usage: executor_bench [--threads N] [--repeat R] [--warmup W] [--quick]
//                       [--only NAME[,NAME...]] [--json PATH]
// NAME is a workload id or letter (see --list), "overheads" or "idle".
// Prints a table: per-side medians and, for ours against each anchor, the
// median of per-round ratios with their min-max (> 1 means ours is faster).
// --json also writes everything, every round included, for collect.py.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "overheads.hpp"
#include "report.hpp"
#include "sides.hpp"
#include "workloads.hpp"

namespace {

struct options {
    int threads = 2;
    bench::plan how;
    bench::sizes size;
    std::set<std::string> only;  ///< empty: everything
    std::string json;

    bool selected(const std::string& id, const std::string& label = "") const {
        return only.empty() || only.count(id) || (!label.empty() && only.count(label));
    }
};

const char* usage =
    "usage: executor_bench [--threads N] [--repeat R] [--warmup W] [--quick]\n"
    "                      [--only NAME[,NAME...]] [--json PATH] [--list]\n";

void list_names(const bench::sizes& s) {
    for (const auto& w : bench::workload_specs(s)) {
        std::printf("%-12s (%s) %s\n", w.id.c_str(), w.label.c_str(), w.title.c_str());
    }
    std::printf("%-12s (d) idle executor CPU\n%-12s     watchdog and task recording cost\n", "idle", "overheads");
}

/// Parses argv; exits with status 2 and the usage on bad input.
options parse(int argc, char** argv) {
    options opt;
    auto fail = [](const std::string& why) {
        std::fprintf(stderr, "executor_bench: %s\n%s", why.c_str(), usage);
        std::exit(2);
    };
    auto positive = [&](const char* flag, const char* text, int minimum) {
        char* end = nullptr;
        const long v = std::strtol(text, &end, 10);
        if (*text == '\0' || *end != '\0' || v < minimum || v > 1'000'000) {
            fail(std::string(flag) + " needs an integer >= " + std::to_string(minimum) + ", got '" + text + "'");
        }
        return static_cast<int>(v);
    };
    bool quick = false;
    bool list_only = false;
    std::optional<int> rounds, warmup;  // explicit values win over --quick's
    std::vector<std::string> names;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--quick") {
            quick = true;
        } else if (arg == "--list") {
            list_only = true;
        } else if (!has_value && (arg == "--threads" || arg == "--repeat" || arg == "--warmup" || arg == "--only" ||
                                  arg == "--json")) {
            fail(arg + " needs a value");
        } else if (arg == "--threads") {
            opt.threads = positive("--threads", argv[++i], 1);
        } else if (arg == "--repeat") {
            rounds = positive("--repeat", argv[++i], 1);
        } else if (arg == "--warmup") {
            warmup = positive("--warmup", argv[++i], 0);
        } else if (arg == "--only") {
            std::stringstream list(argv[++i]);
            for (std::string name; std::getline(list, name, ',');) names.push_back(name);
        } else if (arg == "--json") {
            opt.json = argv[++i];
        } else {
            fail("unknown argument '" + arg + "'");
        }
    }
    if (quick) {
        opt.size = bench::sizes::quick();
        opt.how.rounds = 1;
        opt.how.warmup = 0;
    }
    opt.how.rounds = rounds.value_or(opt.how.rounds);
    opt.how.warmup = warmup.value_or(opt.how.warmup);
    if (list_only) {
        list_names(opt.size);
        std::exit(0);
    }
    std::set<std::string> known = {"idle", "d", "overheads"};
    for (const auto& w : bench::workload_specs(opt.size)) known.insert({w.id, w.label});
    for (const auto& name : names) {
        if (!known.count(name)) fail("unknown name '" + name + "' for --only (see --list)");
        opt.only.insert(name);
    }
    return opt;
}

}  // namespace

int main(int argc, char** argv) {
    const options opt = parse(argc, argv);
    try {
        bench::report report;
        report.threads = opt.threads;
        report.how = opt.how;
        std::printf("executor_bench: %d compute threads, %d rounds (after %d warm-up) per workload\n", opt.threads,
                    opt.how.rounds, opt.how.warmup);
        std::fflush(stdout);

        dftracer::executor ex(dftracer::executor_config{.threads = opt.threads, .io_threads = 1});
        ex.submit([] {}).get();  // warm up

        bench::inputs in{opt.size, {}};
        if (opt.selected("imbalanced", "h")) in.imbalanced_units = bench::imbalanced_units(opt.size.imbalanced);
        {
            // The anchors' pools live only in this scope: their threads must
            // not count in (d), nor compete with ours below.
            std::vector<bench::contender> contenders{bench::ours_contender(ex, in)};
#if DFTRACER_BENCH_WITH_TBB
            contenders.push_back(bench::onetbb_contender(opt.threads, in));
#else
            report.missing.push_back("oneTBB (not found when configured)");
#endif
#if DFTRACER_BENCH_WITH_TASKFLOW
            contenders.push_back(bench::taskflow_contender(opt.threads, in));
#else
            report.missing.push_back("Taskflow (DFTRACER_TASKFLOW_DIR had no taskflow/taskflow.hpp)");
#endif
            for (const auto& c : contenders) report.contenders.push_back(c.name);
            for (const auto& spec : bench::workload_specs(opt.size)) {
                if (!opt.selected(spec.id, spec.label)) continue;
                report.workloads.push_back(bench::measure(spec, contenders, opt.how));
            }
        }
        if (opt.selected("overheads")) {
            report.overheads = bench::feature_overheads(ex, opt.threads, opt.size.empty_tasks, opt.how);
        }
        if (opt.selected("idle", "d")) report.idle = bench::measure_idle_cpu();

        bench::print_table(report);
        if (!opt.json.empty()) bench::write_json(report, opt.json);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "executor_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
