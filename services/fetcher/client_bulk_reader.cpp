#include "fetcher/client_bulk_reader.h"

#include <utility>

#include "fetcher/soql_builder.h"

namespace sfbridge::fetcher {

ClientBulkReader::ClientBulkReader(salesforce::Client& client, std::string org_id,
                                   std::string object_name, FetcherMetrics* metrics)
    : client_(client),
      bulk_(client),
      org_id_(std::move(org_id)),
      object_name_(std::move(object_name)),
      metrics_(metrics) {}

void ClientBulkReader::CountCall(std::string_view kind, const absl::Status& outcome) {
  if (metrics_ == nullptr) return;
  metrics_->api_calls
      .WithLabels(
          {org_id_, object_name_, std::string(kind), "backfill", outcome.ok() ? "ok" : "error"})
      .Increment();
}

absl::StatusOr<int64_t> ClientBulkReader::Count(std::string_view object) {
  absl::StatusOr<salesforce::QueryPage> page =
      client_.QueryAll(BuildCountQuery(object), 0, salesforce::Priority::kNormal);
  CountCall("count", page.status());
  if (!page.ok()) return page.status();
  return page->total_size;
}

absl::StatusOr<salesforce::BulkJob> ClientBulkReader::CreateJob(std::string_view soql) {
  auto job = bulk_.Create(soql, salesforce::BulkOperation::kQueryAll);
  CountCall("bulk_create", job.status());
  return job;
}

absl::StatusOr<salesforce::BulkJob> ClientBulkReader::GetJob(std::string_view job_id) {
  auto job = bulk_.Get(job_id);
  CountCall("bulk_job", job.status());
  return job;
}

absl::StatusOr<salesforce::BulkResultsPage> ClientBulkReader::Results(
    std::string_view job_id, std::string_view object, std::string_view locator, int64_t max_records,
    size_t batch_size, const salesforce::RecordBatchFn& on_batch,
    const std::vector<std::string>& known_columns) {
  auto page =
      bulk_.Results(job_id, object, locator, max_records, batch_size, on_batch, known_columns);
  CountCall("bulk_results", page.status());
  return page;
}

absl::Status ClientBulkReader::AbortJob(std::string_view job_id) {
  absl::Status s = bulk_.Abort(job_id).status();
  CountCall("bulk_abort", s);
  return s;
}

absl::Status ClientBulkReader::DeleteJob(std::string_view job_id) {
  absl::Status s = bulk_.Delete(job_id);
  CountCall("bulk_delete", s);
  return s;
}

}  // namespace sfbridge::fetcher
