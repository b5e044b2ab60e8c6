#pragma once

// The org's API allocations: DailyApiRequests (every REST call counts; over Max → 403
// REQUEST_LIMIT_EXCEEDED) and the concurrent long-running request limit (requests running
// ≥ 20 s; over the cap → 403 ConcurrentPerOrgLongTxn). Also counts calls by kind for the
// admin API. Thread-safe.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sfbridge::sfsim {

class ApiLimits {
 public:
  ApiLimits(int64_t daily_max, int long_running_max)
      : daily_max_(daily_max), long_running_max_(long_running_max) {}

  // Counts one call of `kind`. Returns false (and counts nothing) when the daily allocation is
  // spent.
  bool TryCount(const std::string& kind);
  // "api-usage=used/max" for the Sforce-Limit-Info header.
  std::string LimitInfoHeader() const;

  int64_t used() const { return used_.load(); }
  int64_t daily_max() const { return daily_max_.load(); }
  void Set(std::optional<int64_t> max, std::optional<int64_t> used);
  std::map<std::string, int64_t> CallsByKind() const;
  void ResetCounts();

  // Long-running requests: Begin when a request is known to run ≥ 20 s; false when the
  // concurrent cap is reached (the caller answers 403).
  bool BeginLongRunning();
  void EndLongRunning();
  int long_running_max() const { return long_running_max_; }

 private:
  std::atomic<int64_t> daily_max_;
  std::atomic<int64_t> used_{0};
  const int long_running_max_;
  std::atomic<int> long_running_{0};
  mutable std::mutex mu_;
  std::map<std::string, int64_t> by_kind_;
};

}  // namespace sfbridge::sfsim
