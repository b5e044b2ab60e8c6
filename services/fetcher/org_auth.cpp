#include "fetcher/org_auth.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/control/org_settings.h"
#include "common/core/json_writer.h"
#include "common/core/logging.h"
#include "common/core/strings.h"

namespace sfbridge::fetcher {

using std::chrono::milliseconds;

OrgAuth::OrgAuth(postgres::Connection& conn, core::Clock& clock, const FetcherOptions& options,
                 FetcherMetrics& metrics, std::function<void(const control::Event&)> on_event,
                 std::function<void(std::string)> on_state)
    : conn_(conn),
      clock_(clock),
      options_(options),
      metrics_(metrics),
      on_event_(std::move(on_event)),
      on_state_(std::move(on_state)),
      retry_at_(clock.Monotonic()) {}

void OrgAuth::Succeeded() {
  if (authenticated_) return;
  authenticated_ = true;
  on_state_("");
  if (failures_ > 0 || first_) {
    absl::Status s = control::SetOrgState(conn_, options_.org_id, "ok");
    if (!s.ok()) {
      core::Logger("fetcher")->warn("org={} state not stored: {}", options_.org_id,
                                    core::ToString(s.message()));
    }
  }
  if (failures_ > 0) {
    core::Logger("fetcher")->info("org={} authenticated after {} failures", options_.org_id,
                                  failures_);
  }
  first_ = false;
  failures_ = 0;
}

void OrgAuth::Failed(const absl::Status& error) {
  authenticated_ = false;
  ++failures_;
  metrics_.org_auth_failures.WithLabels({options_.org_id}).Increment();
  milliseconds wait = options_.retry_initial;
  for (int i = 1; i < failures_ && wait < options_.retry_max; ++i) wait *= 2;
  wait = std::min(wait, options_.retry_max);
  retry_at_ = clock_.Monotonic() + wait;
  const std::string message = core::ToString(error.message());
  on_state_(message);
  core::Logger("fetcher")->error("org={} state=auth_error attempt={} retry_in_ms={} error={}",
                                 options_.org_id, failures_, wait.count(), message);
  if (absl::Status s = control::SetOrgState(conn_, options_.org_id, "auth_error", message);
      !s.ok()) {
    core::Logger("fetcher")->warn("org={} state not stored: {}", options_.org_id,
                                  core::ToString(s.message()));
  }
  if (failures_ == 1) {
    core::JsonWriter detail;
    detail.BeginObject().Member("state", "auth_error").Member("error", message).EndObject();
    absl::StatusOr<control::Event> event = control::InsertEvent(
        conn_, options_.org_id, std::nullopt, control::kEventOrgError, detail.Take());
    if (event.ok() && on_event_) on_event_(*event);
  }
}

}  // namespace sfbridge::fetcher
