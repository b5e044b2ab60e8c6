#pragma once

// Bulk API 2.0 query jobs: creation with the refusals Salesforce gives, the job's life on
// simulated time, its results as CSV pages, the DailyBulkV2QueryJobs allocation and injected
// job failures. The HTTP side (paths, JSON, headers, gzip) is rest_bulk.cpp.
//
// A job's life, driven by the clock given at construction (tests advance it):
//   created              UploadComplete; the query is checked and its matches counted
//   + pickup_ms          InProgress; numberRecordsProcessed grows at records_per_second
//   + count / rate       JobComplete (or Failed, when a failure was injected); the matching
//                        records are snapshotted then — pointers to the immutable versions,
//                        16 bytes a record, never the CSV — and pages are rendered on demand
// State is worked out lazily whenever a job is looked at, so the snapshot is taken the first
// time the job is seen at or after its completion time (with a simulated clock that stands
// still in between, the same moment). Terminal jobs are dropped 7 days after they end.
//
// Errors are Salesforce's, as org::ApiError (http status, errorCode, message). Thread-safe.
//
// Where Salesforce's documentation is silent, sfsim decides (README, "Bulk API 2.0 query jobs in
// sfsim", lists them all): every page repeats the header row; a locator is the unpadded base64
// of the record offset; results through another API version are 409 INVALIDJOB (job info is
// readable through any); without maxRecords a page is bounded by max_page_bytes; the codes and
// messages of the refusals other than compound fields, subqueries and the daily allocation are
// sfsim's wording.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.h"
#include "sfsim/bulk_csv.h"
#include "sfsim/org/org.h"

namespace sfbridge::sfsim {

struct BulkSettings {
  double records_per_second = 100'000;  // processing speed of a job; > 0
  int64_t pickup_ms = 200;              // UploadComplete before processing starts
  int64_t daily_max = 10'000;           // DailyBulkV2QueryJobs Max (rolling 24 h)
  // A results page ends after maxRecords records or once its CSV reaches this size (at least
  // one record a page), so a page of a large job without maxRecords stays bounded.
  size_t max_page_bytes = 64 * 1024 * 1024;
  std::string created_by_id = "005000000000001AAA";
};

// Injected failures: a Failed job with `error_message` instead of JobComplete.
struct BulkFaults {
  int fail_next = 0;                         // the next N jobs created fail
  std::vector<std::string> failing_objects;  // jobs on these objects fail (case-insensitive)
  std::string error_message = "InternalServerError : Internal Server Error";
  // Jobs selecting one of these fields are refused at creation as a compound field is
  // (API_ERROR, "<Field> not supported in Bulk Query"): a field Bulk cannot read.
  std::vector<std::string> refused_fields;
  // The next N results pages asked for (after the checks that refuse one) are answered with
  // their head and half their body, then the connection closed.
  int cut_results = 0;
};

enum class JobState { kUploadComplete, kInProgress, kJobComplete, kFailed, kAborted };
std::string_view JobStateName(JobState state);

// One job as GET /jobs/query/{id} shows it.
struct JobInfo {
  std::string id;
  std::string operation;  // query | queryAll
  std::string object;
  std::string created_by_id;
  int64_t created_ms = 0;
  int64_t system_modstamp_ms = 0;
  JobState state = JobState::kUploadComplete;
  std::string api_version;  // "59.0"
  std::string column_delimiter = "COMMA";
  std::string line_ending = "LF";
  int64_t records_processed = 0;
  int64_t retries = 0;
  int64_t total_processing_ms = 0;
  std::string error_message;  // Failed only
};

struct CreateJobRequest {
  std::string operation;
  std::string query;
  std::string content_type = "CSV";
  std::string column_delimiter = "COMMA";
  std::string line_ending = "LF";
};

struct ResultPage {
  std::string csv;
  int64_t records = 0;
  std::string next_locator;  // "null" after the last page
  bool cut = false;          // a fault (BulkFaults::cut_results): the reply is to break off
};

class BulkQueryJobs {
 public:
  // `org` and `clock` must outlive this.
  BulkQueryJobs(org::Org& org, core::Clock& clock, BulkSettings settings = {});
  ~BulkQueryJobs();

  // Errors (400 unless said): INVALIDJOB for a bad operation, contentType, columnDelimiter or
  // lineEnding, or no query; LIMIT_EXCEEDED when DailyBulkV2QueryJobs is spent; API_ERROR for
  // SOQL that Bulk queries refuse (compound fields, FIELDS(), parent-to-child subqueries,
  // aggregate functions, GROUP BY, OFFSET, TYPEOF); the SOQL engine's MALFORMED_QUERY,
  // INVALID_FIELD, INVALID_TYPE otherwise. Only a created job spends the allocation.
  org::Result<JobInfo> Create(const CreateJobRequest& request, std::string_view api_version);
  // Unknown or deleted → 404 NOT_FOUND.
  org::Result<JobInfo> Get(std::string_view id);
  // Every job, oldest first.
  std::vector<JobInfo> List();
  // From UploadComplete or InProgress only (else 400 INVALIDJOB).
  org::Result<JobInfo> Abort(std::string_view id);
  // Not while InProgress (400 INVALIDJOB).
  org::Result<bool> Delete(std::string_view id);
  // One page of results from `locator` (empty: the first page), at most `max_records`.
  // Errors: 404 NOT_FOUND; 409 INVALIDJOB when `api_version` is not the job's; 412
  // JOB_NOT_COMPLETE before JobComplete (also Failed/Aborted); 400 INVALID_LOCATOR.
  org::Result<ResultPage> Results(std::string_view id, std::string_view api_version,
                                  std::string_view locator, std::optional<int64_t> max_records);

  // DailyBulkV2QueryJobs.
  int64_t DailyMax() const;
  int64_t DailyRemaining();
  // Admin: sets the allocation's Max and/or how much of it is spent in the current window.
  void SetDaily(std::optional<int64_t> max, std::optional<int64_t> used);

  BulkSettings settings() const;
  void set_records_per_second(double rate);
  BulkFaults faults() const;
  void set_faults(BulkFaults faults);
  // Fails a job now (admin). Already ended → 400 INVALIDJOB; unknown → 404.
  org::Result<JobInfo> Fail(std::string_view id, std::string_view message);

 private:
  struct Job;
  // Aborted or Failed now, from UploadComplete or InProgress.
  org::Result<JobInfo> End(std::string_view id, JobState state, std::string_view message);
  void AdvanceLocked(Job& job, int64_t now_ms);
  void ExpireLocked(int64_t now_ms);
  Job* FindLocked(std::string_view id, int64_t now_ms);
  int64_t NowMs() const;

  org::Org& org_;
  core::Clock& clock_;
  mutable std::mutex mu_;
  BulkSettings settings_;
  BulkFaults faults_;
  uint64_t next_sequence_ = 1;
  std::map<std::string, std::unique_ptr<Job>, std::less<>> jobs_;
  std::deque<int64_t> created_in_window_;  // creation times within the last 24 h
};

// The locator of the page that starts at `offset`: base64 of the decimal offset without
// padding ("MTAwMDA" for 10000), as Salesforce's look. nullopt when `locator` is not one.
std::string EncodeLocator(int64_t offset);
std::optional<int64_t> DecodeLocator(std::string_view locator);

}  // namespace sfbridge::sfsim
