#pragma once

// The write path's metrics (salesforce_write_path.h lists them), for the immediate
// (immediate_write_path.h) and held (held_write_path.h) writes alike, and what one write did for
// them (WriteRun).
//
// Thread-safe (the registry's series are).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/core/metrics.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/statement_analysis.h"

namespace sfbridge::proxy::writes {

// What one write (a statement, or a unit of held ones) did, for its metrics.
struct WriteRun {
  std::string table = "unknown";
  std::string outcome = "ok";              // ok | salesforce_error | refused | unavailable
  std::chrono::nanoseconds salesforce{0};  // Salesforce's time, budget waits excluded
};

class WriteMetrics {
 public:
  // `registry` must outlive it.
  WriteMetrics(core::MetricsRegistry& registry, std::string org_id);

  // sfbridge_proxy_mutations_total{org,table,operation,outcome}.
  void CountMutation(std::string_view table, std::string_view operation, std::string_view outcome);
  // sfbridge_proxy_salesforce_seconds (when Salesforce was called) and
  // sfbridge_proxy_added_seconds of a write that took `elapsed`, `salesforce` of it Salesforce's.
  void ObserveTimes(std::chrono::nanoseconds elapsed, std::chrono::nanoseconds salesforce);
  // The client's error for a Salesforce call of `operation` on `table` that failed with
  // `status` (MapCallFailure), counted in sfbridge_proxy_salesforce_errors_total{code};
  // run.outcome says what it was.
  PgError CountCallFailure(const absl::Status& status, Operation operation,
                           const SyncedTable& table, size_t accepted_before, WriteRun& run);

 private:
  const std::string org_id_;
  core::Family<core::Counter>& mutations_;
  core::Family<core::Counter>& salesforce_errors_;
  core::Family<core::Histogram>& salesforce_seconds_;
  core::Family<core::Histogram>& added_seconds_;
};

}  // namespace sfbridge::proxy::writes
