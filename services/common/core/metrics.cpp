#include "common/core/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/core/strings.h"

namespace sfbridge::core {
namespace {

void AtomicAdd(std::atomic<double>& target, double v) {
  double cur = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// {a="x",b="y"} with an optional extra label (le for histogram buckets).
std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ",";
    core::StrAppend(&out, names[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ",";
    core::StrAppend(&out, extra_name, "=\"", extra_value, "\"");
  }
  out += "}";
  return out;
}

[[noreturn]] void Die(std::string_view what) {
  fprintf(stderr, "metrics: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace

void Counter::Increment(double v) {
  if (v < 0) Die("a counter cannot decrease");
  AtomicAdd(value_, v);
}

void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i + 1 < bounds_.size(); ++i) {
    if (!(bounds_[i] < bounds_[i + 1])) Die("histogram bounds must increase strictly");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

template <typename Series>
Series& Family<Series>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != labels_.size()) {
    Die(core::StrCat(name_, ": expected ", labels_.size(), " label values, got ", values.size()));
  }
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    std::unique_ptr<Series> s;
    if constexpr (std::is_same_v<Series, Histogram>) {
      s = std::make_unique<Histogram>(bounds_);
    } else {
      s = std::make_unique<Series>();
    }
    it = series_.emplace(values, std::move(s)).first;
  }
  return *it->second;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

MetricsRegistry::Entry& MetricsRegistry::Declare(std::string_view name, Kind kind,
                                                 const std::vector<std::string>& labels) {
  auto it = families_.find(name);
  if (it != families_.end()) {
    const std::vector<std::string>* existing = nullptr;
    if (it->second.counter) existing = &it->second.counter->labels_;
    if (it->second.gauge) existing = &it->second.gauge->labels_;
    if (it->second.histogram) existing = &it->second.histogram->labels_;
    if (it->second.kind != kind || *existing != labels) {
      Die(core::StrCat(name, " declared twice with different types or labels"));
    }
    return it->second;
  }
  Entry& e = families_[std::string(name)];
  e.kind = kind;
  return e;
}

Family<Counter>& MetricsRegistry::CounterFamily(std::string_view name, std::string_view help,
                                                std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Declare(name, Kind::kCounter, labels);
  if (!e.counter) {
    e.counter.reset(new Family<Counter>(std::string(name), std::string(help), std::move(labels)));
  }
  return *e.counter;
}

Family<Gauge>& MetricsRegistry::GaugeFamily(std::string_view name, std::string_view help,
                                            std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Declare(name, Kind::kGauge, labels);
  if (!e.gauge) {
    e.gauge.reset(new Family<Gauge>(std::string(name), std::string(help), std::move(labels)));
  }
  return *e.gauge;
}

Family<Histogram>& MetricsRegistry::HistogramFamily(std::string_view name, std::string_view help,
                                                    std::vector<std::string> labels,
                                                    std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  Entry& e = Declare(name, Kind::kHistogram, labels);
  if (!e.histogram) {
    e.histogram.reset(new Family<Histogram>(std::string(name), std::string(help), std::move(labels),
                                            std::move(bounds)));
  }
  return *e.histogram;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return core::StrCat(static_cast<int64_t>(v));
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact round trip
  return std::string(buf, end);
}

std::string MetricsRegistry::RenderText() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, e] : families_) {
    auto header = [&](std::string_view help, std::string_view type) {
      core::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type,
                      "\n");
    };
    if (e.counter) {
      header(e.counter->help_, "counter");
      std::lock_guard family_lock(e.counter->mu_);
      for (const auto& [values, c] : e.counter->series_) {
        core::StrAppend(&out, name, LabelText(e.counter->labels_, values), " ",
                        FormatSampleValue(c->Value()), "\n");
      }
    } else if (e.gauge) {
      header(e.gauge->help_, "gauge");
      std::lock_guard family_lock(e.gauge->mu_);
      for (const auto& [values, g] : e.gauge->series_) {
        core::StrAppend(&out, name, LabelText(e.gauge->labels_, values), " ",
                        FormatSampleValue(g->Value()), "\n");
      }
    } else if (e.histogram) {
      header(e.histogram->help_, "histogram");
      std::lock_guard family_lock(e.histogram->mu_);
      const auto& labels = e.histogram->labels_;
      for (const auto& [values, h] : e.histogram->series_) {
        std::vector<uint64_t> counts = h->BucketCounts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le = i < h->bounds().size() ? FormatSampleValue(h->bounds()[i]) : "+Inf";
          core::StrAppend(&out, name, "_bucket", LabelText(labels, values, "le", le), " ",
                          cumulative, "\n");
        }
        core::StrAppend(&out, name, "_sum", LabelText(labels, values), " ",
                        FormatSampleValue(h->Sum()), "\n");
        core::StrAppend(&out, name, "_count", LabelText(labels, values), " ", cumulative, "\n");
      }
    }
  }
  return out;
}

}  // namespace sfbridge::core
