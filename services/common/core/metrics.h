#pragma once

// A metrics registry rendered in the Prometheus text exposition format (version 0.0.4).
//
// Names follow sfbridge_<service>_<what>_<unit>. A family is declared once with its label names;
// each distinct set of label values is one series, created on first use and alive as long as the
// registry. Returned references stay valid for the registry's lifetime. All operations are
// thread-safe; updating a series is lock-free.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::core {

class Counter {
 public:
  // Adds `v` (must be >= 0: a counter only goes up).
  void Increment(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: strictly increasing upper bounds; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts, the last one being +Inf.
  std::vector<uint64_t> BucketCounts() const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 1 ms to 60 s.
std::vector<double> DefaultLatencyBuckets();

template <typename Series>
class Family {
 public:
  // The series for these label values (as many as the family's label names, in order).
  Series& WithLabels(const std::vector<std::string>& values);
  // Without labels: the family must have been declared with none.
  Series& Get() { return WithLabels({}); }

 private:
  friend class MetricsRegistry;
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}

  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

class MetricsRegistry {
 public:
  // Declares (or returns the existing) family. Declaring one name twice with another type or
  // other label names is a programming error and aborts.
  Family<Counter>& CounterFamily(std::string_view name, std::string_view help,
                                 std::vector<std::string> labels = {});
  Family<Gauge>& GaugeFamily(std::string_view name, std::string_view help,
                             std::vector<std::string> labels = {});
  Family<Histogram>& HistogramFamily(std::string_view name, std::string_view help,
                                     std::vector<std::string> labels = {},
                                     std::vector<double> bounds = DefaultLatencyBuckets());

  // Every family and series, sorted by name, in the Prometheus text format.
  std::string RenderText() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Entry {
    Kind kind;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  Entry& Declare(std::string_view name, Kind kind, const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> families_;
};

// Escapes a label value for the text format: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);
// Formats a sample value: integers without a fraction, +Inf, -Inf, NaN.
std::string FormatSampleValue(double v);

}  // namespace sfbridge::core
