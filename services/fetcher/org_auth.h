#pragma once

// Whether the org's credentials work, and when to try them again after a refusal.
//
// A refusal puts the org in state auth_error (with the reason in sfbridge.orgs.last_error, and an
// org_error event on the first refusal in a row) and sets the next try retry_initial later,
// doubling with every refusal in a row up to retry_max. The first success, and the first after
// refusals, sets the state "ok". Failures to store the state are logged, not returned: the org
// keeps being served. Not thread-safe; `conn`, `clock`, `options` and `metrics` must outlive it.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/control/events.h"
#include "common/core/clock.h"
#include "common/postgres/connection.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/fetcher_service.h"

namespace sfbridge::fetcher {

class OrgAuth {
 public:
  // `on_event` is given every event recorded; `on_state` is told the refusal while the org is in
  // auth_error, and "" once it is not.
  OrgAuth(postgres::Connection& conn, core::Clock& clock, const FetcherOptions& options,
          FetcherMetrics& metrics, std::function<void(const control::Event&)> on_event,
          std::function<void(std::string)> on_state);

  bool authenticated() const { return authenticated_; }
  // Whether the next try is due.
  bool Due() const { return clock_.Monotonic() >= retry_at_; }
  core::Clock::MonoTime retry_at() const { return retry_at_; }

  void Succeeded();
  // `error` is a refusal of the credentials (or the session): the org waits and tries again.
  void Failed(const absl::Status& error);

 private:
  postgres::Connection& conn_;
  core::Clock& clock_;
  const FetcherOptions& options_;
  FetcherMetrics& metrics_;
  const std::function<void(const control::Event&)> on_event_;
  const std::function<void(std::string)> on_state_;
  bool authenticated_ = false;
  bool first_ = true;
  int failures_ = 0;
  core::Clock::MonoTime retry_at_;
};

// Whether `s` is a refusal of the credentials or the session.
inline bool IsAuthFailure(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnauthenticated;
}

}  // namespace sfbridge::fetcher
