#pragma once

// StateStore over the control plane (control/org_settings.h, events.h) for one org. Also sets
// the gauges sfbridge_fetcher_backfill_records / _estimate_records{org,object} from the stored
// progress, and hands every event it records to `on_event` (the webhook).
// Not thread-safe (one connection); the connection, clock and metrics must outlive it.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/control/events.h"
#include "common/core/clock.h"
#include "common/postgres/connection.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/object_sync.h"

namespace sfbridge::fetcher {

class PgStateStore final : public StateStore {
 public:
  PgStateStore(postgres::Connection& conn, core::Clock& clock, std::string org_id,
               FetcherMetrics* metrics = nullptr,
               std::function<void(const control::Event&)> on_event = nullptr);

  absl::StatusOr<std::optional<control::ObjectStatus>> Load(std::string_view object) override;
  absl::StatusOr<int64_t> BeginBackfill(std::string_view object) override;
  absl::Status SaveBackfillProgress(std::string_view object, int64_t records_done,
                                    std::optional<int64_t> records_estimate,
                                    std::optional<control::Cursor> resume_after) override;
  absl::Status AdvanceCursor(std::string_view object, const control::Cursor& to) override;
  absl::Status MarkPolled(std::string_view object) override;
  absl::Status SetState(std::string_view object, control::ObjectState state,
                        std::optional<std::string_view> error) override;
  absl::Status RecordEvent(std::string_view object, std::string_view kind,
                           std::string_view detail_json) override;

 private:
  postgres::Connection& conn_;
  core::Clock& clock_;
  const std::string org_id_;
  FetcherMetrics* const metrics_;
  const std::function<void(const control::Event&)> on_event_;
};

}  // namespace sfbridge::fetcher
