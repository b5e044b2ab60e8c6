#include "fetcher/pg_state_store.h"

#include <utility>
#include <vector>

#include "common/control/events.h"
#include "common/control/org_settings.h"

namespace sfbridge::fetcher {

PgStateStore::PgStateStore(postgres::Connection& conn, core::Clock& clock, std::string org_id,
                           FetcherMetrics* metrics,
                           std::function<void(const control::Event&)> on_event)
    : conn_(conn),
      clock_(clock),
      org_id_(std::move(org_id)),
      metrics_(metrics),
      on_event_(std::move(on_event)) {}

absl::StatusOr<std::optional<control::ObjectStatus>> PgStateStore::Load(std::string_view object) {
  absl::StatusOr<std::vector<control::ObjectStatus>> all = control::LoadObjects(conn_, org_id_);
  if (!all.ok()) return all.status();
  for (control::ObjectStatus& status : *all) {
    if (status.object_name == object) {
      if (metrics_ != nullptr) {
        metrics_->backfill_records.WithLabels({org_id_, std::string(object)})
            .Set(static_cast<double>(status.records_done));
      }
      return std::optional<control::ObjectStatus>(std::move(status));
    }
  }
  return std::optional<control::ObjectStatus>();
}

absl::StatusOr<int64_t> PgStateStore::BeginBackfill(std::string_view object) {
  absl::Status s =
      control::SetObjectState(conn_, org_id_, object, control::ObjectState::kBackfilling);
  if (!s.ok()) return s;
  absl::StatusOr<std::optional<control::ObjectStatus>> status = Load(object);
  if (!status.ok()) return status.status();
  if (metrics_ != nullptr) {
    metrics_->backfill_records.WithLabels({org_id_, std::string(object)}).Set(0);
  }
  if (status->has_value() && (*status)->backfill_started_at_ms.has_value()) {
    return *(*status)->backfill_started_at_ms;
  }
  return static_cast<int64_t>(core::ToUnixMillis(clock_.Now()));
}

absl::Status PgStateStore::SaveBackfillProgress(std::string_view object, int64_t records_done,
                                                std::optional<int64_t> records_estimate,
                                                std::optional<control::Cursor> resume_after) {
  absl::Status s = control::SetBackfillProgress(conn_, org_id_, object, records_done,
                                                records_estimate, std::move(resume_after));
  if (s.ok() && metrics_ != nullptr) {
    metrics_->backfill_records.WithLabels({org_id_, std::string(object)})
        .Set(static_cast<double>(records_done));
    if (records_estimate) {
      metrics_->backfill_estimate.WithLabels({org_id_, std::string(object)})
          .Set(static_cast<double>(*records_estimate));
    }
  }
  return s;
}

absl::Status PgStateStore::AdvanceCursor(std::string_view object, const control::Cursor& to) {
  absl::StatusOr<bool> moved = control::AdvanceCursor(conn_, org_id_, object, to);
  return moved.status();
}

absl::Status PgStateStore::MarkPolled(std::string_view object) {
  return control::MarkPolled(conn_, org_id_, object);
}

absl::Status PgStateStore::SetState(std::string_view object, control::ObjectState state,
                                    std::optional<std::string_view> error) {
  return control::SetObjectState(conn_, org_id_, object, state, error);
}

absl::Status PgStateStore::RecordEvent(std::string_view object, std::string_view kind,
                                       std::string_view detail_json) {
  absl::StatusOr<control::Event> event = control::InsertEvent(
      conn_, org_id_, std::optional<std::string_view>(object), kind, detail_json);
  if (!event.ok()) return event.status();
  if (on_event_) on_event_(*event);
  return absl::OkStatus();
}

}  // namespace sfbridge::fetcher
