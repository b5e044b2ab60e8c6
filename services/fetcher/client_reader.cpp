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

void ClientReader::CountCall(std::string_view kind) {
  if (metrics_ == nullptr) return;
  metrics_->api_calls.WithLabels({org_id_, object_name_, std::string(kind)}).Increment();
}

absl::StatusOr<salesforce::QueryPage> ClientReader::QueryAll(std::string_view soql,
                                                             int batch_size) {
  CountCall("query_all");
  return client_.QueryAll(soql, batch_size, salesforce::Priority::kNormal);
}

absl::StatusOr<salesforce::QueryPage> ClientReader::QueryMore(std::string_view next_records_url) {
  CountCall("query_more");
  return client_.QueryMore(next_records_url, salesforce::Priority::kNormal);
}

absl::StatusOr<int64_t> ClientReader::Count(std::string_view object_name) {
  CountCall("count");
  absl::StatusOr<salesforce::QueryPage> page =
      client_.QueryAll(BuildCountQuery(object_name), 0, salesforce::Priority::kNormal);
  if (!page.ok()) return page.status();
  return page->total_size;
}

}  // namespace sfbridge::fetcher
