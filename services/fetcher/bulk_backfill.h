#pragma once

// One object's backfill through a Bulk API 2.0 query job, then the hand-over to REST polling
// (ObjectSync), one Salesforce call per Step like every SyncTask:
//
//   estimate  SELECT COUNT() (queryAll): below options.threshold the object goes to REST at once
//   create    the object enters backfilling; a queryAll job over the plan's fields
//   await     job info, polled with backoff (poll_initial doubling to poll_max on the injected
//             clock; StepResult::not_before makes the scheduler wait, spending nothing meanwhile)
//   pages     one results page per Step (maxRecords = page_records), decoded as it is read and
//             sent in batches of publish_batch without waiting; once Kafka acknowledged every
//             batch of the page, the job id, the next page's locator and the progress are
//             stored (never ahead of delivery, invariant 4)
//   complete  polling cursor, state live, backfill_complete event; then the job is deleted
//   rest      every later Step is the REST task's (polling)
//
// Resuming (a restart, a kill -9): a stored job that still exists goes on from the stored locator
// (the page in flight is read and published again; the writer absorbs it); a job that is gone
// (404, expired) is replaced by a new job read from its first page. A job stored for an object
// that is already live, or that fell back, is deleted first.
//
// Falling back to REST: a job that ends Failed or Aborted, a create refused (LIMIT_EXCEEDED when
// the daily job allocation is spent, API_ERROR for a field Bulk cannot read) or any other
// failure that retrying cannot cure. The reason is stored (bulk_jobs.fallback_reason), logged
// and recorded as a bulk_fallback event; the REST backfill then reads the object from the start
// under the bound stamped when this backfill began. A failure that may pass (network, 5xx after
// the client's retries, the budget) puts the object in error, to be retried where it stood.
//
// The hand-over: polling starts at the lower of the highest (SystemModstamp, Id) the job returned
// and the job's createdDate (Salesforce's clock). Salesforce processes a large job in chunks at
// different times, so a record changed during the job may come back with its old version while
// a later change to another record is in the results; starting no later than the job's creation
// makes the first polls read every change made while the job ran (some twice, harmlessly).
//
// Not thread-safe: one thread steps it. Everything given to it must outlive it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/control/bulk_jobs.h"
#include "common/core/clock.h"
#include "common/mapping/record_mapping.h"
#include "common/mapping/schema_mapping.h"
#include "common/salesforce/bulk_query.h"
#include "fetcher/object_sync.h"
#include "fetcher/sync_task.h"

namespace sfbridge::fetcher {

// Salesforce, for one object: each call is one API request (the client's gate pays for it).
// Errors are the client's (core::IsRetryable; GetApiError for Salesforce's code).
class BulkReader {
 public:
  virtual ~BulkReader() = default;
  // SELECT COUNT() FROM <object> through queryAll.
  virtual absl::StatusOr<int64_t> Count(std::string_view object) = 0;
  virtual absl::StatusOr<salesforce::BulkJob> CreateJob(std::string_view soql) = 0;
  virtual absl::StatusOr<salesforce::BulkJob> GetJob(std::string_view job_id) = 0;
  virtual absl::StatusOr<salesforce::BulkResultsPage> Results(
      std::string_view job_id, std::string_view object, std::string_view locator,
      int64_t max_records, size_t batch_size, const salesforce::RecordBatchFn& on_batch,
      const std::vector<std::string>& known_columns) = 0;
  // Salesforce deletes only a job that has ended: one still running is aborted first.
  virtual absl::Status AbortJob(std::string_view job_id) = 0;
  virtual absl::Status DeleteJob(std::string_view job_id) = 0;
};

// The object's row of sfbridge.bulk_jobs (control/bulk_jobs.h).
class BulkJobStore {
 public:
  virtual ~BulkJobStore() = default;
  virtual absl::StatusOr<std::optional<control::BulkJobRow>> Load(std::string_view object) = 0;
  virtual absl::Status Save(const control::BulkJobRow& row) = 0;
};

struct BulkBackfillOptions {
  int64_t threshold = 10'000;      // records; an estimate below goes through REST; <= 0: never Bulk
  int64_t page_records = 200'000;  // maxRecords of a results page
  size_t publish_batch = 2'000;    // records per Publish
  std::chrono::milliseconds poll_initial{1'000};
  std::chrono::milliseconds poll_max{30'000};
};

class BulkBackfill final : public SyncTask {
 public:
  // Builds the REST task (ObjectSync::Create); called when the object goes to REST, after the
  // control plane says where it stands.
  using RestFactory = std::function<absl::StatusOr<std::unique_ptr<SyncTask>>()>;

  // The task the object needs now: a BulkBackfill when a Bulk backfill is to start, resume or be
  // cleaned up after, else the REST task itself. Errors: the stores'; the factory's.
  static absl::StatusOr<std::unique_ptr<SyncTask>> Create(
      std::string org_id, mapping::FieldPlan plan, BulkReader& reader, RecordSink& sink,
      StateStore& store, BulkJobStore& jobs, core::Clock& clock, BulkBackfillOptions options,
      RestFactory rest);

  const std::string& object_name() const override { return plan_.object_name; }
  control::ObjectState state() const override;
  absl::StatusOr<StepResult> Step() override;
  bool Retry() override;

  // What the control plane holds of the job (for tests).
  const control::BulkJobRow& job() const { return row_; }

 private:
  // Failures that are not the job's or the query's: the object waits in error (the scheduler
  // retries it, or the org's credentials are fixed) instead of leaving Bulk for good.
  static bool WaitsInError(const absl::Status& error);

  enum class Phase { kEstimate, kCreate, kAwait, kPages, kFinish, kDelete, kRest };

  BulkBackfill(std::string org_id, mapping::FieldPlan plan, BulkReader& reader, RecordSink& sink,
               StateStore& store, BulkJobStore& jobs, core::Clock& clock,
               BulkBackfillOptions options, RestFactory rest, control::ObjectStatus status,
               control::BulkJobRow row, Phase phase);

  absl::StatusOr<StepResult> Estimate();
  absl::StatusOr<StepResult> CreateJob();
  absl::StatusOr<StepResult> AwaitJob();
  absl::StatusOr<StepResult> ReadPage();
  absl::StatusOr<StepResult> DeleteJob();
  // Every page delivered: the polling cursor and state live (safe to repeat).
  // The job's end (bulk_backfill_end.cpp): complete, delete, fall back to REST.
  absl::StatusOr<StepResult> Complete(int64_t published, int api_calls);
  // A Salesforce failure: error state when retrying may help, else REST with the reason.
  absl::StatusOr<StepResult> Failed(const absl::Status& error, std::string_view doing,
                                    int api_calls);
  absl::StatusOr<StepResult> FallBack(std::string reason, int api_calls);
  // The job is gone (404) or unusable: a new one from the first page.
  void StartOver();
  absl::Status SwitchToRest();
  absl::Status SaveRow();
  // The CSV's text values typed by the plan, as the REST API would give them.
  absl::Status Retype(salesforce::Record& record) const;
  std::string JobQuery() const;
  StepResult Result(int api_calls, int64_t published, bool more) const;

  const std::string org_id_;
  const mapping::FieldPlan plan_;
  BulkReader& reader_;
  RecordSink& sink_;
  StateStore& store_;
  BulkJobStore& jobs_;
  core::Clock& clock_;
  const BulkBackfillOptions options_;
  const RestFactory rest_factory_;

  control::ObjectStatus status_;
  control::BulkJobRow row_;
  Phase phase_;
  std::unique_ptr<SyncTask> rest_;
  std::optional<int64_t> estimate_;
  std::vector<std::string> columns_;  // the results header, from the first page read
  mapping::EncodedChanges encoded_;   // the batch being sent (its buffer kept between batches)
  std::chrono::milliseconds poll_delay_;
  bool row_unsaved_ = false;
  int delete_attempts_ = 0;
  // While in error: why; the next Step after Retry() stores the state it goes on in.
  absl::Status error_;
  bool in_error_ = false;
  bool resume_unsaved_ = false;
};

}  // namespace sfbridge::fetcher
