#include "fetcher/bulk_backfill.h"

#include <algorithm>
#include <utility>

#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/mapping/datetime.h"
#include "common/mapping/record_mapping.h"
#include "common/salesforce/api_error.h"

namespace sfbridge::fetcher {
namespace {

using control::Cursor;
using control::ObjectState;
using salesforce::FieldValue;

// The locator stored once every page of the job was delivered (Salesforce's own end mark).
constexpr std::string_view kAllDelivered = "null";

std::optional<Cursor> KeyOf(const salesforce::Record& record) {
  const FieldValue* stamp = record.Find("SystemModstamp");
  if (record.id.empty() || !stamp || stamp->kind != FieldValue::Kind::kString) return std::nullopt;
  auto ms = mapping::ParseDateTimeMillis(stamp->text);
  if (!ms) return std::nullopt;
  return Cursor{*ms, record.id};
}

}  // namespace

bool BulkBackfill::WaitsInError(const absl::Status& error) {
  switch (error.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return core::IsRetryable(error);
  }
}

absl::StatusOr<std::unique_ptr<SyncTask>> BulkBackfill::Create(
    std::string org_id, mapping::FieldPlan plan, BulkReader& reader, RecordSink& sink,
    StateStore& store, BulkJobStore& jobs, core::Clock& clock, BulkBackfillOptions options,
    RestFactory rest) {
  const std::string name = plan.object_name;
  auto loaded = store.Load(name);
  if (!loaded.ok()) return core::Annotate(loaded.status(), core::StrCat("loading ", name));
  auto row = jobs.Load(name);
  if (!row.ok()) return core::Annotate(row.status(), core::StrCat("loading Bulk job of ", name));

  control::ObjectStatus status;
  status.object_name = name;
  if (*loaded) status = **loaded;
  const bool live = status.backfill_completed_at_ms.has_value() || status.cursor.has_value();
  const bool has_job = *row && !(*row)->job_id.empty() && !(*row)->deleted;
  const bool fell_back = *row && (*row)->fallback_reason.has_value();
  Phase phase;
  if (has_job && (live || fell_back || options.threshold <= 0)) {
    // Left behind by a run that ended before deleting it, or Bulk was turned off meanwhile.
    phase = Phase::kDelete;
  } else if (has_job && options.threshold > 0) {
    phase = (*row)->locator == kAllDelivered ? Phase::kFinish : Phase::kAwait;
  } else if (!has_job && !fell_back && !live && !status.backfill_cursor && options.threshold > 0) {
    phase = Phase::kEstimate;
  } else {
    return rest();
  }
  control::BulkJobRow job = *row ? **row : control::BulkJobRow{};
  job.object_name = name;
  const bool was_error = status.state == ObjectState::kError;
  if (was_error || status.state == ObjectState::kDisabled) {
    status.state = live                            ? ObjectState::kLive
                   : status.backfill_started_at_ms ? ObjectState::kBackfilling
                                                   : ObjectState::kPending;
    status.error.reset();
  }
  // A run that stopped between storing the polling cursor and the live state left the object
  // delivered whole: it goes on live, and the job is only deleted.
  const bool stopped_in_complete = live && status.state == ObjectState::kBackfilling;
  if (stopped_in_complete) status.state = ObjectState::kLive;
  std::unique_ptr<BulkBackfill> task(
      new BulkBackfill(std::move(org_id), std::move(plan), reader, sink, store, jobs, clock,
                       options, std::move(rest), std::move(status), std::move(job), phase));
  // A restart is a retry, or completes a stopped Complete: store the state it goes on in.
  task->resume_unsaved_ = was_error || stopped_in_complete;
  return std::unique_ptr<SyncTask>(std::move(task));
}

BulkBackfill::BulkBackfill(std::string org_id, mapping::FieldPlan plan, BulkReader& reader,
                           RecordSink& sink, StateStore& store, BulkJobStore& jobs,
                           core::Clock& clock, BulkBackfillOptions options, RestFactory rest,
                           control::ObjectStatus status, control::BulkJobRow row, Phase phase)
    : org_id_(std::move(org_id)),
      plan_(std::move(plan)),
      reader_(reader),
      sink_(sink),
      store_(store),
      jobs_(jobs),
      clock_(clock),
      options_(options),
      rest_factory_(std::move(rest)),
      status_(std::move(status)),
      row_(std::move(row)),
      phase_(phase),
      estimate_(status_.records_estimate),
      poll_delay_(options_.poll_initial) {}

ObjectState BulkBackfill::state() const {
  if (phase_ == Phase::kRest && rest_) return rest_->state();
  if (in_error_) return ObjectState::kError;
  return status_.state;
}

bool BulkBackfill::Retry() {
  if (phase_ == Phase::kRest && rest_) return rest_->Retry();
  if (!in_error_) return false;
  in_error_ = false;
  error_ = absl::OkStatus();
  resume_unsaved_ = true;
  return true;
}

absl::StatusOr<StepResult> BulkBackfill::Step() {
  if (phase_ == Phase::kRest) {
    if (!rest_) {
      if (absl::Status s = SwitchToRest(); !s.ok()) return s;
    }
    return rest_->Step();
  }
  if (row_unsaved_) {
    // The page is in Kafka already: store how far it got before reading anything more.
    if (absl::Status s = SaveRow(); !s.ok()) return s;
    row_unsaved_ = false;
    return Result(0, 0, true);
  }
  if (in_error_) return Result(0, 0, false);
  if (resume_unsaved_) {
    if (absl::Status s = store_.SetState(plan_.object_name, status_.state, std::nullopt); !s.ok()) {
      return s;
    }
    resume_unsaved_ = false;
  }
  switch (phase_) {
    case Phase::kEstimate:
      return Estimate();
    case Phase::kCreate:
      return CreateJob();
    case Phase::kAwait:
      return AwaitJob();
    case Phase::kPages:
      return ReadPage();
    case Phase::kFinish:
      return Complete(0, 0);
    case Phase::kDelete:
      return DeleteJob();
    case Phase::kRest:
      break;
  }
  return absl::InternalError("unreachable Bulk backfill phase");
}

absl::StatusOr<StepResult> BulkBackfill::Estimate() {
  auto count = reader_.Count(plan_.object_name);
  if (!count.ok()) return Failed(count.status(), "COUNT() estimate", 1);
  estimate_ = *count;
  if (*count < options_.threshold) {
    core::Logger("fetcher")->info("org={} object={} records={} threshold={} backfill=rest", org_id_,
                                  plan_.object_name, *count, options_.threshold);
    if (absl::Status s = SwitchToRest(); !s.ok()) return s;
    return Result(1, 0, true);
  }
  core::Logger("fetcher")->info("org={} object={} records={} threshold={} backfill=bulk", org_id_,
                                plan_.object_name, *count, options_.threshold);
  phase_ = Phase::kCreate;
  return Result(1, 0, true);
}

std::string BulkBackfill::JobQuery() const {
  // No ORDER BY: it would keep Salesforce from splitting the job into chunks.
  return core::StrCat("SELECT ", core::StrJoin(plan_.FieldNames(), ", "), " FROM ",
                      plan_.object_name);
}

absl::StatusOr<StepResult> BulkBackfill::CreateJob() {
  if (status_.state != ObjectState::kBackfilling) {
    auto started = store_.BeginBackfill(plan_.object_name);
    if (!started.ok()) return started.status();
    status_.state = ObjectState::kBackfilling;
    status_.backfill_started_at_ms = *started;
    status_.backfill_completed_at_ms.reset();
  }
  if (absl::Status s = store_.SaveBackfillProgress(plan_.object_name, 0, estimate_, std::nullopt);
      !s.ok()) {
    return s;
  }
  status_.records_done = 0;
  auto job = reader_.CreateJob(JobQuery());
  if (!job.ok()) return Failed(job.status(), "creating the Bulk job", 1);
  control::BulkJobRow row;
  row.object_name = plan_.object_name;
  row.job_id = job->id;
  row.job_state = job->state_name;
  row.records_processed = job->records_processed;
  row.job_created_ms = mapping::ParseDateTimeMillis(job->created_date);
  row_ = std::move(row);
  columns_.clear();
  poll_delay_ = options_.poll_initial;
  phase_ = Phase::kAwait;
  core::Logger("fetcher")->info("org={} object={} job={} Bulk query job created", org_id_,
                                plan_.object_name, row_.job_id);
  if (absl::Status s = SaveRow(); !s.ok()) {
    row_unsaved_ = true;
    return s;
  }
  StepResult r = Result(1, 0, false);
  r.not_before = poll_delay_;
  return r;
}

absl::StatusOr<StepResult> BulkBackfill::AwaitJob() {
  auto job = reader_.GetJob(row_.job_id);
  if (!job.ok()) {
    if (job.status().code() == absl::StatusCode::kNotFound) {
      StartOver();
      return Result(1, 0, true);
    }
    return Failed(job.status(), "reading the Bulk job's state", 1);
  }
  row_.job_state = job->state_name;
  row_.records_processed = job->records_processed;
  if (job->state == salesforce::BulkJobState::kJobComplete) {
    phase_ = row_.locator == kAllDelivered ? Phase::kFinish : Phase::kPages;
    if (absl::Status s = SaveRow(); !s.ok()) return s;
    return Result(1, 0, true);
  }
  if (salesforce::BulkJobEnded(job->state)) {
    return FallBack(
        core::StrCat("Bulk job ", row_.job_id, " ", job->state_name, ": ",
                     job->error_message.empty() ? "no reason given" : job->error_message),
        1);
  }
  // Still running. The row only shows progress: a failure to store it loses nothing.
  if (absl::Status s = SaveRow(); !s.ok()) {
    core::Logger("fetcher")->warn("org={} object={} job={} progress not stored: {}", org_id_,
                                  plan_.object_name, row_.job_id, core::ToString(s.message()));
  }
  StepResult r = Result(1, 0, false);
  r.not_before = poll_delay_;
  poll_delay_ = std::min(poll_delay_ * 2, options_.poll_max);
  return r;
}

absl::Status BulkBackfill::Retype(salesforce::Record& record) const {
  for (auto& [name, value] : record.fields) {
    if (value.kind != FieldValue::Kind::kString) continue;
    const int index = plan_.IndexOf(name);
    if (index < 0) continue;
    switch (plan_.fields[index].kind) {
      case mapping::ValueKind::kBoolean:
        if (value.text != "true" && value.text != "false") {
          return absl::InternalError(core::StrCat(plan_.object_name, " record ", record.id,
                                                  ": field ", name,
                                                  " is not true or false in the Bulk CSV"));
        }
        value = FieldValue::Bool(value.text == "true");
        break;
      case mapping::ValueKind::kNumber:
        value = FieldValue::Number(std::move(value.text));
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<StepResult> BulkBackfill::ReadPage() {
  const int64_t now_ms = core::ToUnixMillis(clock_.Now());
  int64_t published = 0;
  std::optional<Cursor> max_key = row_.max_key;
  absl::Status data_error;
  // Batches go to Kafka as they are decoded, without waiting: the page's progress is stored once
  // every one of them is acknowledged.
  std::vector<RecordSink::Ticket> tickets;
  auto on_batch = [&](std::vector<salesforce::Record>& batch) -> absl::Status {
    for (salesforce::Record& record : batch) {
      if (absl::Status s = Retype(record); !s.ok()) return data_error = s;
      std::optional<Cursor> key = KeyOf(record);
      if (!key) {
        return data_error =
                   absl::InternalError("a Bulk result record without Id or a valid SystemModstamp");
      }
      if (!max_key || *max_key < *key) max_key = std::move(key);
    }
    encoded_.Clear();
    if (absl::Status s = mapping::EncodePage(org_id_, plan_, batch, v1::CHANGE_SOURCE_BACKFILL,
                                             now_ms, encoded_);
        !s.ok()) {
      return data_error = s;
    }
    if (!encoded_.empty()) tickets.push_back(sink_.Send(plan_.object_name, encoded_));
    published += static_cast<int64_t>(encoded_.size());
    return absl::OkStatus();
  };
  auto page = reader_.Results(row_.job_id, plan_.object_name, row_.locator, options_.page_records,
                              options_.publish_batch, on_batch, columns_);
  absl::Status publish_error;
  for (RecordSink::Ticket ticket : tickets) {
    if (!page.ok() || !publish_error.ok()) {
      sink_.Forget(ticket);  // the page is read again
      continue;
    }
    std::optional<absl::Status> outcome = sink_.Outcome(ticket, /*wait=*/true);
    if (!outcome) {
      publish_error = absl::DeadlineExceededError("Kafka did not acknowledge in time");
    } else if (!outcome->ok()) {
      publish_error = *outcome;
    }
  }
  if (!publish_error.ok()) {
    // Nothing is stored: the whole page is read and published again at the next Step.
    return core::Annotate(publish_error,
                          core::StrCat(plan_.object_name, ": publishing a Bulk results page"));
  }
  if (!data_error.ok()) {
    return FallBack(core::StrCat("Bulk results not usable: ", data_error.message()), 1);
  }
  if (!page.ok()) {
    if (page.status().code() == absl::StatusCode::kNotFound) {
      StartOver();
      return Result(1, 0, true);
    }
    return Failed(page.status(), "reading Bulk results", 1);
  }
  columns_ = page->columns;
  row_.locator = page->next_locator.empty() ? std::string(kAllDelivered) : page->next_locator;
  row_.records_done += published;
  row_.max_key = max_key;
  status_.records_done = row_.records_done;
  phase_ = page->next_locator.empty() ? Phase::kFinish : Phase::kPages;
  if (absl::Status s = SaveRow(); !s.ok()) {
    row_unsaved_ = true;
    return s;
  }
  if (absl::Status s = store_.SaveBackfillProgress(plan_.object_name, row_.records_done, estimate_,
                                                   std::nullopt);
      !s.ok()) {
    core::Logger("fetcher")->warn("org={} object={} progress not stored: {}", org_id_,
                                  plan_.object_name, core::ToString(s.message()));
  }
  if (phase_ == Phase::kFinish) return Complete(published, 1);
  return Result(1, published, true);
}

absl::Status BulkBackfill::SaveRow() { return jobs_.Save(row_); }

StepResult BulkBackfill::Result(int api_calls, int64_t published, bool more) const {
  StepResult result;
  result.state = state();
  result.api_calls = api_calls;
  result.records_published = published;
  result.more_pending = more;
  if (in_error_) result.error = error_;
  return result;
}

}  // namespace sfbridge::fetcher
