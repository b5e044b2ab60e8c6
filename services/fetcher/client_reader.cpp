#include "fetcher/client_reader.h"

#include <utility>

#include "fetcher/soql_builder.h"

namespace sfbridge::fetcher {

ClientReader::ClientReader(salesforce::Client& client, std::string org_id, std::string object_name,
                           FetcherMetrics* metrics)
    : client_(client),
      org_id_(std::move(org_id)),
      object_name_(std::move(object_name)),
      metrics_(metrics) {}

void ClientReader::CountCall(std::string_view kind, ReadPhase phase, const absl::Status& outcome) {
  if (metrics_ == nullptr) return;
  metrics_->api_calls
      .WithLabels({org_id_, object_name_, std::string(kind),
                   phase == ReadPhase::kBackfill ? "backfill" : "poll",
                   outcome.ok() ? "ok" : "error"})
      .Increment();
}

absl::StatusOr<salesforce::QueryPage> ClientReader::QueryAll(std::string_view soql, int batch_size,
                                                             ReadPhase phase) {
  auto page = client_.QueryAll(soql, batch_size, salesforce::Priority::kNormal);
  CountCall("query_all", phase, page.status());
  return page;
}

absl::StatusOr<salesforce::QueryPage> ClientReader::QueryMore(std::string_view next_records_url,
                                                              ReadPhase phase) {
  auto page = client_.QueryMore(next_records_url, salesforce::Priority::kNormal);
  CountCall("query_more", phase, page.status());
  return page;
}

absl::StatusOr<int64_t> ClientReader::Count(std::string_view object_name) {
  absl::StatusOr<salesforce::QueryPage> page =
      client_.QueryAll(BuildCountQuery(object_name), 0, salesforce::Priority::kNormal);
  CountCall("count", ReadPhase::kBackfill, page.status());
  if (!page.ok()) return page.status();
  return page->total_size;
}

}  // namespace sfbridge::fetcher
