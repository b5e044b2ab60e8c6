#pragma once

// The Bulk API 2.0 job of each object's backfill (sfbridge.bulk_jobs, one row per object: its
// latest job), so that a fetcher killed mid-job resumes from the job and the last page it
// delivered, and so that `sfbridge status` shows the job. Each function is one statement.
// Errors: database errors as statuses (retryable ones say so).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/control/org_settings.h"
#include "common/postgres/connection.h"

namespace sfbridge::control {

struct BulkJobRow {
  std::string object_name;
  std::string job_id;     // empty: no job (REST chosen, or it fell back before creating one)
  std::string job_state;  // as Salesforce last showed it ("InProgress", ...), or "Deleted"
  int64_t records_processed = 0;  // by Salesforce, as last shown
  // Delivery: the locator of the next results page (empty: the first), the records published
  // from this job and the highest (SystemModstamp, Id) among them. Stored only once Kafka
  // acknowledged every record of the pages before the locator.
  std::string locator;
  int64_t records_done = 0;
  std::optional<Cursor> max_key;
  std::optional<int64_t> job_created_ms;  // Salesforce's createdDate of the job
  // Why the object is read through REST instead (a failed job, LIMIT_EXCEEDED, a field Bulk
  // cannot read); nullopt while Bulk is used.
  std::optional<std::string> fallback_reason;
  bool deleted = false;  // the job was deleted from Salesforce (nothing left behind)
  std::optional<int64_t> updated_at_ms;
};

// nullopt when the object has no row.
absl::StatusOr<std::optional<BulkJobRow>> LoadBulkJob(postgres::Connection& conn,
                                                      std::string_view org_id,
                                                      std::string_view object);
// Every row of the org, ordered by object name.
absl::StatusOr<std::vector<BulkJobRow>> LoadBulkJobs(postgres::Connection& conn,
                                                     std::string_view org_id);
// Creates or replaces the object's row.
absl::Status SaveBulkJob(postgres::Connection& conn, std::string_view org_id,
                         const BulkJobRow& row);

}  // namespace sfbridge::control
