#include "report.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bench {
namespace {

std::string ratio_text(const ratio_result& q) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2fx [%.2f-%.2f]", q.median, q.min, q.max);
    return buf;
}

const side_result* find_side(const workload_result& w, const std::string& name) {
    for (const auto& s : w.sides) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

const ratio_result* find_ratio(const workload_result& w, const std::string& ours, const std::string& anchor) {
    for (const auto& q : w.ratios) {
        if (q.ours == ours && q.anchor == anchor) return &q;
    }
    return nullptr;
}

/// Every (ours, anchor) pair compared in some workload, in first-seen order.
std::vector<std::pair<std::string, std::string>> ratio_columns(const report& r) {
    std::vector<std::pair<std::string, std::string>> columns;
    for (const auto& w : r.workloads) {
        for (const auto& q : w.ratios) {
            const std::pair<std::string, std::string> key{q.ours, q.anchor};
            bool seen = false;
            for (const auto& c : columns) seen = seen || c == key;
            if (!seen) columns.push_back(key);
        }
    }
    return columns;
}

// ------------------------------------------------------------------- JSON

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (const char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string numbers(const std::vector<double>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + number(values[i]);
    return out + "]";
}

template <class T, class F>
std::string array(const std::vector<T>& items, F&& each) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + each(items[i]);
    return out + "]";
}

std::string strings(const std::vector<std::string>& items) { return array(items, quoted); }

std::string workload_json(const workload_result& w) {
    std::ostringstream o;
    o << "{\"id\": " << quoted(w.spec.id) << ", \"label\": " << quoted(w.spec.label)
      << ", \"title\": " << quoted(w.spec.title) << ",\n     \"sides\": "
      << array(w.sides,
               [](const side_result& s) {
                   return "{\"name\": " + quoted(s.name) + ", \"ours\": " + (s.ours ? "true" : "false") +
                          ", \"median_ms\": " + number(s.median_ms) + ", \"rounds_ms\": " + numbers(s.rounds_ms) + "}";
               })
      << ",\n     \"ratios\": "
      << array(w.ratios,
               [](const ratio_result& q) {
                   return "{\"ours\": " + quoted(q.ours) + ", \"anchor\": " + quoted(q.anchor) +
                          ", \"median\": " + number(q.median) + ", \"min\": " + number(q.min) +
                          ", \"max\": " + number(q.max) + ", \"rounds\": " + numbers(q.rounds) + "}";
               })
      << "}";
    return o.str();
}

std::string overhead_json(const overhead_result& o) {
    return "{\"feature\": " + quoted(o.feature) + ", \"off_ms\": " + number(o.off_median_ms) +
           ", \"on_ms\": " + number(o.on_median_ms) +
           ", \"throughput_on_over_off\": " + number(o.throughput_on_over_off) +
           ", \"off_rounds_ms\": " + numbers(o.off_ms) + ", \"on_rounds_ms\": " + numbers(o.on_ms) + "}";
}

}  // namespace

void print_table(const report& r) {
    const auto columns = ratio_columns(r);
    std::printf("\n%-48s", "workload (median ms over rounds)");
    for (const auto& name : r.contenders) std::printf(" %12s", name.c_str());
    for (const auto& [ours, anchor] : columns) {
        std::printf("  %-20s", (anchor + "/" + ours).c_str());
    }
    std::printf("\n");
    for (const auto& w : r.workloads) {
        std::printf("%-48s", ("(" + w.spec.label + ") " + w.spec.title).c_str());
        for (const auto& name : r.contenders) {
            const auto* s = find_side(w, name);
            if (s) {
                std::printf(" %12.2f", s->median_ms);
            } else {
                std::printf(" %12s", "-");
            }
        }
        for (const auto& [ours, anchor] : columns) {
            const auto* q = find_ratio(w, ours, anchor);
            std::printf("  %-20s", q ? ratio_text(*q).c_str() : "-");
        }
        std::printf("\n");
    }
    if (!columns.empty()) {
        std::printf("ratios: median of per-round ratios [min-max]; > 1 means ours is faster\n");
    }
    for (const auto& m : r.missing) std::printf("not compared: %s\n", m.c_str());
    if (!r.overheads.empty()) {
        std::printf("\n%-48s %12s %12s %10s\n", "feature cost on (a) (median ms)", "off", "on", "on/off");
        for (const auto& o : r.overheads) {
            std::printf("%-48s %12.2f %12.2f %9.3fx\n", o.feature.c_str(), o.off_median_ms, o.on_median_ms,
                        o.throughput_on_over_off);
        }
        std::printf("on/off: median of per-round throughput ratios (1 = no cost)\n");
    }
    if (r.idle) {
        std::printf("\n(d) idle executor: %.3f ms CPU over %.2f s (%.3f%% of one core)\n", r.idle->cpu_ms,
                    r.idle->wall_s, r.idle->percent_of_one_core());
    }
}

void write_json(const report& r, const std::string& path) {
    std::ostringstream o;
    o << "{\"schema\": \"executor_bench/2\", \"threads\": " << r.threads << ", \"rounds\": " << r.how.rounds
      << ", \"warmup\": " << r.how.warmup << ",\n \"contenders\": " << strings(r.contenders)
      << ", \"missing\": " << strings(r.missing) << ",\n \"workloads\": " << array(r.workloads, workload_json)
      << ",\n \"overheads\": " << array(r.overheads, overhead_json);
    if (r.idle) {
        o << ",\n \"idle\": {\"cpu_ms\": " << number(r.idle->cpu_ms) << ", \"wall_s\": " << number(r.idle->wall_s)
          << ", \"percent_of_one_core\": " << number(r.idle->percent_of_one_core()) << "}";
    }
    o << "}\n";
    std::ofstream file(path);
    file << o.str();
    if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace bench
