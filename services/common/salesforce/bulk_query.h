#pragma once

// Bulk API 2.0 query jobs (reference §1): create (query or queryAll), job info, abort, delete,
// and the CSV results read page by page by locator and maxRecords.
//
// Every call goes through the Client's one request path (client.h): the RequestGate first
// (CallKind::kBulkQuery), then authentication, retries with backoff, re-authentication on 401
// and Sforce-Limit-Info. Errors are the Client's: Salesforce's own as statuses carrying an
// ApiError (404 NOT_FOUND for a job that is gone or expired, 412 JOB_NOT_COMPLETE before
// JobComplete, 400 LIMIT_EXCEEDED when DailyBulkV2QueryJobs is spent, 400 API_ERROR for SOQL a
// Bulk query refuses, such as compound fields), kInternal for a reply that cannot be read.
//
// Results are decoded as their body arrives (an HttpBodySink: bulk_csv.h takes it piece by
// piece) and handed to the caller in batches, so memory holds a piece, a row and a batch
// whatever a page's size. A page whose body breaks off is read again from its start by the
// Client's retry, and the records already handed out are not handed out again. Responses are
// asked for uncompressed (no Accept-Encoding: gzip).
//
// Thread-safe as the Client is; the Client must outlive this.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/salesforce/bulk_csv.h"
#include "common/salesforce/client.h"

namespace sfbridge::salesforce {

enum class BulkJobState { kUploadComplete, kInProgress, kJobComplete, kFailed, kAborted, kOther };
// "UploadComplete", ... as Salesforce spells them; "Other" for kOther.
std::string_view BulkJobStateName(BulkJobState state);
BulkJobState ParseBulkJobState(std::string_view name);
// Failed or Aborted: no results will come.
inline bool BulkJobEnded(BulkJobState s) {
  return s == BulkJobState::kFailed || s == BulkJobState::kAborted;
}

struct BulkJob {
  std::string id;  // "750..."
  std::string operation;
  std::string object;
  BulkJobState state = BulkJobState::kOther;
  std::string state_name;    // as the reply spelled it
  std::string created_date;  // "2024-01-02T03:04:05.000+0000"
  std::string api_version;
  int64_t records_processed = 0;
  std::string error_message;  // Failed jobs
};

// Parses a job info reply. kInternal when it is not one.
absl::StatusOr<BulkJob> ParseBulkJob(std::string_view json);

enum class BulkOperation { kQuery, kQueryAll };

struct BulkResultsPage {
  int64_t records = 0;                       // handed to the callback
  std::optional<int64_t> number_of_records;  // Sforce-NumberOfRecords, when sent
  std::string next_locator;                  // empty after the last page (Sforce-Locator "null")
  std::vector<std::string> columns;          // the header, to pass to the next page
};

class BulkQuery {
 public:
  explicit BulkQuery(Client& client) : client_(client) {}

  // POST /jobs/query. Not idempotent: retried only when nothing can have been created.
  absl::StatusOr<BulkJob> Create(std::string_view soql, BulkOperation operation,
                                 Priority priority = Priority::kNormal);
  // GET /jobs/query/{id}.
  absl::StatusOr<BulkJob> Get(std::string_view job_id, Priority priority = Priority::kNormal);
  // PATCH /jobs/query/{id} {"state":"Aborted"}; only from UploadComplete or InProgress.
  absl::StatusOr<BulkJob> Abort(std::string_view job_id, Priority priority = Priority::kNormal);
  // DELETE /jobs/query/{id}: the job and its results. Not while InProgress.
  absl::Status Delete(std::string_view job_id, Priority priority = Priority::kNormal);
  // GET /jobs/query/{id}/results[?locator=&maxRecords=]: one page, decoded into records of
  // `object_type` handed to `on_batch` `batch_size` at a time. `locator` empty: the first page.
  // `max_records` 0: Salesforce's default. `known_columns`: the previous page's header
  // (bulk_csv.h). A callback error stops the page and is returned as is.
  absl::StatusOr<BulkResultsPage> Results(std::string_view job_id, std::string_view object_type,
                                          std::string_view locator, int64_t max_records,
                                          size_t batch_size, const RecordBatchFn& on_batch,
                                          const std::vector<std::string>& known_columns = {},
                                          Priority priority = Priority::kNormal);

 private:
  Client& client_;
};

}  // namespace sfbridge::salesforce
