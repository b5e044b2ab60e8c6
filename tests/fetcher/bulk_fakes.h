#pragma once

// Test doubles for BulkBackfill: a Bulk API over the FakeReader's rows (so REST and Bulk see one
// org) and the bulk_jobs row store.

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/mapping/datetime.h"
#include "common/salesforce/api_error.h"
#include "fetcher/bulk_backfill.h"
#include "fetcher_fakes.h"

namespace sfbridge::fetcher::testing {

// Jobs go UploadComplete -> InProgress -> JobComplete over `polls_to_complete` GetJob calls; the
// rows are snapshotted at completion (as sfsim does) and served as CSV would give them: every
// value text, null empty.
class FakeBulkReader : public BulkReader {
 public:
  FakeBulkReader(FakeReader& org, core::Clock& clock) : org_(org), clock_(clock) {}

  struct Job {
    std::string object;
    std::vector<std::string> fields;
    salesforce::BulkJobState state = salesforce::BulkJobState::kUploadComplete;
    int polls = 0;
    std::string created_date;
    std::vector<salesforce::Record> snapshot;
    std::string error_message;
  };
  std::map<std::string, Job> jobs;
  std::vector<std::string>
      calls;  // "COUNT", "CREATE", "GET", "RESULTS <locator>", "ABORT", "DELETE"
  int polls_to_complete = 3;
  std::deque<absl::Status> create_failures;  // the next creates fail with these
  std::deque<absl::Status> failures;         // the next calls of any kind fail with these
  bool fail_jobs = false;                    // jobs end Failed instead of JobComplete
  std::function<void()> before_snapshot;
  int created = 0;

  absl::StatusOr<int64_t> Count(std::string_view object) override {
    calls.push_back("COUNT");
    if (auto s = Next(); !s.ok()) return s;
    return static_cast<int64_t>(org_.objects[std::string(object)].size());
  }
  absl::StatusOr<salesforce::BulkJob> CreateJob(std::string_view soql) override {
    calls.push_back("CREATE");
    if (auto s = Next(); !s.ok()) return s;
    if (!create_failures.empty()) {
      absl::Status s = create_failures.front();
      create_failures.pop_front();
      return s;
    }
    std::string text(soql);
    Job job;
    const size_t from = text.find(" FROM ");
    job.object = text.substr(from + 6);
    std::string list = text.substr(7, from - 7);
    for (size_t start = 0;;) {
      size_t comma = list.find(", ", start);
      job.fields.push_back(list.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    job.created_date = mapping::FormatApiDateTime(core::ToUnixMillis(clock_.Now()));
    const std::string id = "750FAKE" + std::to_string(++created);
    jobs[id] = job;
    return Info(id, jobs[id]);
  }
  absl::StatusOr<salesforce::BulkJob> GetJob(std::string_view id) override {
    calls.push_back("GET");
    if (auto s = Next(); !s.ok()) return s;
    auto it = jobs.find(std::string(id));
    if (it == jobs.end()) return NotFound();
    Job& job = it->second;
    if (job.state == salesforce::BulkJobState::kUploadComplete ||
        job.state == salesforce::BulkJobState::kInProgress) {
      if (++job.polls >= polls_to_complete) {
        if (fail_jobs) {
          job.state = salesforce::BulkJobState::kFailed;
          job.error_message = "InternalServerError : Internal Server Error";
        } else {
          if (before_snapshot) before_snapshot();
          Snapshot(job);
          job.state = salesforce::BulkJobState::kJobComplete;
        }
      } else {
        job.state = salesforce::BulkJobState::kInProgress;
      }
    }
    return Info(it->first, job);
  }
  absl::StatusOr<salesforce::BulkResultsPage> Results(std::string_view id, std::string_view,
                                                      std::string_view locator, int64_t max_records,
                                                      size_t batch_size,
                                                      const salesforce::RecordBatchFn& on_batch,
                                                      const std::vector<std::string>&) override {
    calls.push_back("RESULTS " + std::string(locator));
    if (auto s = Next(); !s.ok()) return s;
    auto it = jobs.find(std::string(id));
    if (it == jobs.end()) return NotFound();
    const auto& rows = it->second.snapshot;
    const size_t start = locator.empty() ? 0 : std::stoul(std::string(locator));
    const size_t end = std::min(rows.size(), start + static_cast<size_t>(max_records));
    std::vector<salesforce::Record> batch;
    for (size_t i = start; i < end; ++i) {
      batch.push_back(rows[i]);
      if (batch.size() == batch_size || i + 1 == end) {
        if (auto s = on_batch(batch); !s.ok()) return s;
        batch.clear();
      }
    }
    salesforce::BulkResultsPage page;
    page.records = static_cast<int64_t>(end - start);
    page.next_locator = end < rows.size() ? std::to_string(end) : "";
    page.columns = it->second.fields;
    return page;
  }
  absl::Status AbortJob(std::string_view id) override {
    calls.push_back("ABORT");
    if (auto s = Next(); !s.ok()) return s;
    auto it = jobs.find(std::string(id));
    if (it == jobs.end()) return NotFound();
    if (!Running(it->second)) return Refused("Job is not in a state to be aborted");
    it->second.state = salesforce::BulkJobState::kAborted;
    return absl::OkStatus();
  }
  // As Salesforce: a job still running cannot be deleted.
  absl::Status DeleteJob(std::string_view id) override {
    calls.push_back("DELETE");
    if (auto s = Next(); !s.ok()) return s;
    auto it = jobs.find(std::string(id));
    if (it == jobs.end()) return NotFound();
    if (Running(it->second)) return Refused("Job is in progress and cannot be deleted");
    jobs.erase(it);
    return absl::OkStatus();
  }

  static bool Running(const Job& job) {
    return job.state == salesforce::BulkJobState::kUploadComplete ||
           job.state == salesforce::BulkJobState::kInProgress;
  }
  static absl::Status Refused(std::string message) {
    return salesforce::ApiErrorToStatus({400, "INVALIDJOB", std::move(message), {}});
  }

  static absl::Status NotFound() {
    return salesforce::ApiErrorToStatus(
        {404, "NOT_FOUND", "The requested resource does not exist", {}});
  }

 private:
  absl::Status Next() {
    if (failures.empty()) return absl::OkStatus();
    absl::Status s = failures.front();
    failures.pop_front();
    return s;
  }
  salesforce::BulkJob Info(const std::string& id, const Job& job) const {
    salesforce::BulkJob info;
    info.id = id;
    info.object = job.object;
    info.operation = "queryAll";
    info.state = job.state;
    info.state_name = std::string(salesforce::BulkJobStateName(job.state));
    info.created_date = job.created_date;
    info.records_processed = static_cast<int64_t>(job.snapshot.size());
    info.error_message = job.error_message;
    return info;
  }
  // Every row, in no particular key order (Bulk gives none), values as the CSV's text.
  void Snapshot(Job& job) {
    job.snapshot.clear();
    auto rows = org_.objects[job.object];
    std::reverse(rows.begin(), rows.end());
    for (const FakeRow& row : rows) {
      salesforce::Record r;
      r.type = job.object;
      r.id = row.id;
      for (const std::string& f : job.fields) {
        salesforce::FieldValue v;
        if (f == "Id") {
          v = salesforce::FieldValue::String(row.id);
        } else if (f == "SystemModstamp") {
          v = salesforce::FieldValue::String(mapping::FormatApiDateTime(row.modstamp_ms));
        } else if (f == "IsDeleted") {
          v = salesforce::FieldValue::String(row.deleted ? "true" : "false");
        } else {
          for (const auto& [name, value] : row.values) {
            if (name == f && value.kind != salesforce::FieldValue::Kind::kNull) {
              v = salesforce::FieldValue::String(value.text);
            }
          }
        }
        r.fields.emplace_back(f, std::move(v));
      }
      job.snapshot.push_back(std::move(r));
    }
  }

  FakeReader& org_;
  core::Clock& clock_;
};

class FakeBulkJobStore : public BulkJobStore {
 public:
  std::map<std::string, control::BulkJobRow> rows;
  int fail_next = 0;
  int saves = 0;

  absl::StatusOr<std::optional<control::BulkJobRow>> Load(std::string_view object) override {
    auto it = rows.find(std::string(object));
    if (it == rows.end()) return std::optional<control::BulkJobRow>();
    return std::optional<control::BulkJobRow>(it->second);
  }
  absl::Status Save(const control::BulkJobRow& row) override {
    ++saves;
    if (fail_next > 0) {
      --fail_next;
      return absl::UnavailableError("connection to the control plane lost");
    }
    rows[row.object_name] = row;
    return absl::OkStatus();
  }
};

}  // namespace sfbridge::fetcher::testing
