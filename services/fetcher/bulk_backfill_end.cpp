// BulkBackfill, continued: the job's end. Complete hands the object over to polling, DeleteJob
// leaves nothing behind in Salesforce, FallBack and SwitchToRest let REST read the object.

#include <string>
#include <utility>

#include "common/control/events.h"
#include "common/core/json_writer.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "fetcher/bulk_backfill.h"

namespace sfbridge::fetcher {

using control::Cursor;
using control::ObjectState;

absl::StatusOr<StepResult> BulkBackfill::Complete(int64_t published, int api_calls) {
  // Every record the job returned is in Kafka. Polling starts no later than the job's creation
  // (see the header): changes made while it ran are read by the first polls.
  const int64_t created = row_.job_created_ms.value_or(status_.backfill_started_at_ms.value_or(0));
  Cursor poll_from{created, ""};
  if (row_.max_key && *row_.max_key < poll_from) poll_from = *row_.max_key;
  if (absl::Status s = store_.SaveBackfillProgress(plan_.object_name, row_.records_done, estimate_,
                                                   std::nullopt);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = store_.AdvanceCursor(plan_.object_name, poll_from); !s.ok()) return s;
  if (absl::Status s = store_.SetState(plan_.object_name, ObjectState::kLive, std::nullopt);
      !s.ok()) {
    return s;
  }
  const int64_t now_ms = core::ToUnixMillis(clock_.Now());
  status_.state = ObjectState::kLive;
  status_.backfill_completed_at_ms = now_ms;
  status_.cursor = poll_from;
  const int64_t started = status_.backfill_started_at_ms.value_or(now_ms);
  (void)store_.RecordEvent(plan_.object_name, control::kEventBackfillComplete,
                           core::JsonWriter()
                               .BeginObject()
                               .Key("records")
                               .Int(row_.records_done)
                               .Key("started_at_ms")
                               .Int(started)
                               .Key("duration_ms")
                               .Int(now_ms - started)
                               .Member("via", "bulk")
                               .Member("job_id", row_.job_id)
                               .EndObject()
                               .Take());
  core::Logger("fetcher")->info("org={} object={} job={} records={} Bulk backfill complete",
                                org_id_, plan_.object_name, row_.job_id, row_.records_done);
  phase_ = Phase::kDelete;
  return Result(api_calls, published, true);
}

absl::StatusOr<StepResult> BulkBackfill::DeleteJob() {
  int calls = 1;
  if (row_.job_state == salesforce::BulkJobStateName(salesforce::BulkJobState::kUploadComplete) ||
      row_.job_state == salesforce::BulkJobStateName(salesforce::BulkJobState::kInProgress)) {
    // Left while it ran (a fallback): Salesforce deletes only a job that has ended. One that
    // ended meanwhile refuses the abort, and the delete goes on all the same.
    ++calls;
    if (reader_.AbortJob(row_.job_id).ok()) {
      row_.job_state = salesforce::BulkJobStateName(salesforce::BulkJobState::kAborted);
    }
  }
  absl::Status s = reader_.DeleteJob(row_.job_id);
  if (!s.ok() && s.code() != absl::StatusCode::kNotFound) {
    if (WaitsInError(s) && ++delete_attempts_ < 5) {
      StepResult r = Result(calls, 0, false);
      r.not_before = options_.poll_initial;
      return r;
    }
    // Salesforce deletes a finished job's results 7 days after it ended.
    core::Logger("fetcher")->warn("org={} object={} job={} Bulk job not deleted: {}", org_id_,
                                  plan_.object_name, row_.job_id, core::ToString(s.message()));
  } else {
    row_.deleted = true;
    row_.job_state = "Deleted";
  }
  if (absl::Status save = SaveRow(); !save.ok()) return save;
  if (status_.state == ObjectState::kBackfilling && status_.records_done > 0) {
    // Not finished through Bulk: REST reads the object from the start, its count too.
    if (absl::Status s = store_.SaveBackfillProgress(plan_.object_name, 0, estimate_, std::nullopt);
        !s.ok()) {
      return s;
    }
    status_.records_done = 0;
  }
  if (absl::Status rest = SwitchToRest(); !rest.ok()) return rest;
  return Result(calls, 0, true);
}

void BulkBackfill::StartOver() {
  core::Logger("fetcher")->warn("org={} object={} job={} Bulk job gone: starting a new one",
                                org_id_, plan_.object_name, row_.job_id);
  phase_ = Phase::kCreate;
  columns_.clear();
}

absl::StatusOr<StepResult> BulkBackfill::Failed(const absl::Status& error, std::string_view doing,
                                                int api_calls) {
  const absl::Status reason =
      core::Annotate(error, core::StrCat(plan_.object_name, ": Bulk backfill, ", doing));
  if (!WaitsInError(error)) return FallBack(core::ToString(reason.message()), api_calls);
  const std::string message = core::ToString(reason.message());
  if (absl::Status s = store_.SetState(plan_.object_name, ObjectState::kError, message); !s.ok()) {
    return s;
  }
  (void)store_.RecordEvent(plan_.object_name, control::kEventObjectError,
                           core::JsonWriter()
                               .BeginObject()
                               .Member("error", message)
                               .Member("retryable", core::IsRetryable(reason))
                               .EndObject()
                               .Take());
  in_error_ = true;
  error_ = reason;
  return Result(api_calls, 0, false);
}

absl::StatusOr<StepResult> BulkBackfill::FallBack(std::string reason, int api_calls) {
  core::Logger("fetcher")->warn("org={} object={} job={} backfill=rest reason=\"{}\"", org_id_,
                                plan_.object_name, row_.job_id, reason);
  row_.fallback_reason = reason;
  const bool job_left = !row_.job_id.empty() && !row_.deleted;
  if (absl::Status s = SaveRow(); !s.ok()) return s;
  (void)store_.RecordEvent(plan_.object_name, control::kEventBulkFallback,
                           core::JsonWriter()
                               .BeginObject()
                               .Member("reason", reason)
                               .Member("job_id", row_.job_id)
                               .EndObject()
                               .Take());
  if (status_.state == ObjectState::kBackfilling) {
    // REST reads the object from the start: its count starts again too.
    if (absl::Status s = store_.SaveBackfillProgress(plan_.object_name, 0, estimate_, std::nullopt);
        !s.ok()) {
      return s;
    }
    status_.records_done = 0;
  }
  if (job_left) {
    phase_ = Phase::kDelete;
  } else if (absl::Status s = SwitchToRest(); !s.ok()) {
    return s;
  }
  return Result(api_calls, 0, true);
}

absl::Status BulkBackfill::SwitchToRest() {
  phase_ = Phase::kRest;
  auto rest = rest_factory_();
  if (!rest.ok()) return rest.status();
  rest_ = *std::move(rest);
  return absl::OkStatus();
}

}  // namespace sfbridge::fetcher
