#pragma once

// The fetcher's one way to spend the org's shared rate budget (DESIGN.md invariant 5), on one
// RateBudget (Lane::kNormal):
//   - as the client's RequestGate, every HTTP request that costs a call — first attempts,
//     retries, re-authentication — passes Acquire, which spends a token, waiting for it;
//   - as the Scheduler's Budget, TryTake takes a token without waiting, to decide whether an
//     object may be stepped now. The token it took is held prepaid and the next Acquire spends
//     it instead of taking another. At most one token is held: a prepaid token that no call used
//     is dropped by the next TryTake, so the budget may be under-spent, never over-spent.
// Observe passes Sforce-Limit-Info on to the budget (its daily quota share) and to the gauges
// sfbridge_fetcher_daily_api_used / _limit. Tokens taken and the time waited for each are
// counted in sfbridge_fetcher_budget_tokens_total and sfbridge_fetcher_budget_wait_seconds.
//
// Thread-safe (one mutex around the RateBudget). The budget, clock and metrics must outlive it;
// the RateBudget must not be used elsewhere.

#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "common/control/budget.h"
#include "common/core/clock.h"
#include "common/salesforce/request_gate.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/scheduler.h"

namespace sfbridge::fetcher {

class BudgetGate final : public salesforce::RequestGate, public Budget {
 public:
  BudgetGate(control::RateBudget& budget, std::string org_id, core::Clock& clock,
             FetcherMetrics* metrics = nullptr);

  // Acquire gives up with kCancelled once `stop` is requested.
  void SetStopToken(std::stop_token stop);

  absl::Status Acquire(salesforce::CallKind kind, salesforce::Priority priority) override;
  void Observe(const salesforce::LimitInfo& info) override;
  absl::StatusOr<control::Grant> TryTake() override;

 private:
  void Count(std::chrono::nanoseconds waited);

  control::RateBudget& budget_;
  const std::string org_id_;
  core::Clock& clock_;
  FetcherMetrics* const metrics_;
  std::mutex mu_;
  std::stop_token stop_;
  bool prepaid_ = false;
  // Since when TryTake has been refused without a grant in between.
  std::optional<core::Clock::MonoTime> refused_since_;
};

}  // namespace sfbridge::fetcher
