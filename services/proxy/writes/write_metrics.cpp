#include "proxy/writes/write_metrics.h"

#include <utility>

#include "proxy/writes/error_mapping.h"

namespace sfbridge::proxy::writes {

WriteMetrics::WriteMetrics(core::MetricsRegistry& r, std::string org_id)
    : org_id_(std::move(org_id)),
      mutations_(r.CounterFamily("sfbridge_proxy_mutations_total",
                                 "Writes to synced tables by table, operation and outcome",
                                 {"org", "table", "operation", "outcome"})),
      salesforce_errors_(r.CounterFamily("sfbridge_proxy_salesforce_errors_total",
                                         "Salesforce errors returned to clients, by code",
                                         {"code"})),
      salesforce_seconds_(
          r.HistogramFamily("sfbridge_proxy_salesforce_seconds",
                            "Time a write spent in Salesforce calls (budget waits excluded)")),
      added_seconds_(r.HistogramFamily(
          "sfbridge_proxy_added_seconds",
          "Time the proxy added to a write besides Salesforce's: Execute minus Salesforce")) {}

void WriteMetrics::CountMutation(std::string_view table, std::string_view operation,
                                 std::string_view outcome) {
  mutations_.WithLabels({org_id_, std::string(table), std::string(operation), std::string(outcome)})
      .Increment();
}

void WriteMetrics::ObserveTimes(std::chrono::nanoseconds elapsed,
                                std::chrono::nanoseconds salesforce) {
  if (salesforce.count() > 0) {
    salesforce_seconds_.Get().Observe(std::chrono::duration<double>(salesforce).count());
  }
  added_seconds_.Get().Observe(std::chrono::duration<double>(elapsed - salesforce).count());
}

PgError WriteMetrics::CountCallFailure(const absl::Status& status, Operation operation,
                                       const SyncedTable& table, size_t accepted_before,
                                       WriteRun& run) {
  writes::CallFailure f = MapCallFailure(status, operation, table, accepted_before);
  run.outcome = std::move(f.outcome);
  salesforce_errors_.WithLabels({f.code}).Increment();
  return std::move(f.error);
}

}  // namespace sfbridge::proxy::writes
