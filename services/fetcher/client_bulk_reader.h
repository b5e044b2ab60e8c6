#pragma once

// The adapters of BulkBackfill (bulk_backfill.h) to the outside world: BulkReader over
// salesforce::BulkQuery for one object (queryAll jobs; every call counted in
// sfbridge_fetcher_api_calls_total{org,object,kind,phase="backfill",outcome}, paid through the
// client's gate), and BulkJobStore over sfbridge.bulk_jobs. Not thread-safe beyond what the
// Client and the connection are; everything given must outlive them.

#include <string>
#include <string_view>
#include <vector>

#include "common/postgres/connection.h"
#include "common/salesforce/bulk_query.h"
#include "common/salesforce/client.h"
#include "fetcher/bulk_backfill.h"
#include "fetcher/fetcher_metrics.h"

namespace sfbridge::fetcher {

class ClientBulkReader final : public BulkReader {
 public:
  ClientBulkReader(salesforce::Client& client, std::string org_id, std::string object_name,
                   FetcherMetrics* metrics = nullptr);

  absl::StatusOr<int64_t> Count(std::string_view object) override;
  absl::StatusOr<salesforce::BulkJob> CreateJob(std::string_view soql) override;
  absl::StatusOr<salesforce::BulkJob> GetJob(std::string_view job_id) override;
  absl::StatusOr<salesforce::BulkResultsPage> Results(
      std::string_view job_id, std::string_view object, std::string_view locator,
      int64_t max_records, size_t batch_size, const salesforce::RecordBatchFn& on_batch,
      const std::vector<std::string>& known_columns) override;
  absl::Status AbortJob(std::string_view job_id) override;
  absl::Status DeleteJob(std::string_view job_id) override;

 private:
  void CountCall(std::string_view kind, const absl::Status& outcome);

  salesforce::Client& client_;
  salesforce::BulkQuery bulk_;
  const std::string org_id_;
  const std::string object_name_;
  FetcherMetrics* const metrics_;
};

class PgBulkJobStore final : public BulkJobStore {
 public:
  PgBulkJobStore(postgres::Connection& conn, std::string org_id)
      : conn_(conn), org_id_(std::move(org_id)) {}

  absl::StatusOr<std::optional<control::BulkJobRow>> Load(std::string_view object) override {
    return control::LoadBulkJob(conn_, org_id_, object);
  }
  absl::Status Save(const control::BulkJobRow& row) override {
    return control::SaveBulkJob(conn_, org_id_, row);
  }

 private:
  postgres::Connection& conn_;
  const std::string org_id_;
};

}  // namespace sfbridge::fetcher
