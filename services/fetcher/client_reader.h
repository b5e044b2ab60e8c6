#pragma once

// SalesforceReader over salesforce::Client, for one object: the calls it makes are counted in
// sfbridge_fetcher_api_calls_total{org,object,kind,phase,outcome}. The client's gate pays for every
// request (budget_gate.h). Not thread-safe beyond what the Client is; the client and metrics must
// outlive it.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/salesforce/client.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/object_sync.h"

namespace sfbridge::fetcher {

class ClientReader final : public SalesforceReader {
 public:
  ClientReader(salesforce::Client& client, std::string org_id, std::string object_name,
               FetcherMetrics* metrics = nullptr);

  absl::StatusOr<salesforce::QueryPage> QueryAll(std::string_view soql, int batch_size,
                                                 ReadPhase phase) override;
  absl::StatusOr<salesforce::QueryPage> QueryMore(std::string_view next_records_url,
                                                  ReadPhase phase) override;
  absl::StatusOr<int64_t> Count(std::string_view object_name) override;

 private:
  void CountCall(std::string_view kind, ReadPhase phase, const absl::Status& outcome);

  salesforce::Client& client_;
  const std::string org_id_;
  const std::string object_name_;
  FetcherMetrics* const metrics_;
};

}  // namespace sfbridge::fetcher
