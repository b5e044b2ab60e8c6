#include "fetcher/budget_gate.h"

#include <utility>

#include "common/core/logging.h"
#include "common/core/strings.h"

namespace sfbridge::fetcher {

BudgetGate::BudgetGate(control::RateBudget& budget, std::string org_id, core::Clock& clock,
                       FetcherMetrics* metrics)
    : budget_(budget), org_id_(std::move(org_id)), clock_(clock), metrics_(metrics) {}

void BudgetGate::SetStopToken(std::stop_token stop) {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = std::move(stop);
}

void BudgetGate::Count(std::chrono::nanoseconds waited) {
  if (metrics_ == nullptr) return;
  metrics_->budget_tokens.WithLabels({org_id_}).Increment();
  metrics_->budget_wait.WithLabels({org_id_}).Observe(
      std::chrono::duration<double>(waited).count());
}

absl::Status BudgetGate::Acquire(salesforce::CallKind, salesforce::Priority) {
  std::lock_guard<std::mutex> lock(mu_);
  if (prepaid_) {
    prepaid_ = false;
    return absl::OkStatus();
  }
  const auto start = clock_.Monotonic();
  absl::Status s =
      budget_.Take(org_id_, control::Lane::kNormal, core::Clock::MonoTime::max(), stop_);
  if (s.ok()) Count(clock_.Monotonic() - start);
  return s;
}

absl::StatusOr<control::Grant> BudgetGate::TryTake() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<control::Grant> grant = budget_.TryTake(org_id_, control::Lane::kNormal);
  if (!grant.ok()) return grant;
  const auto now = clock_.Monotonic();
  if (!grant->granted) {
    if (!refused_since_) refused_since_ = now;
    return grant;
  }
  prepaid_ = true;
  Count(refused_since_ ? now - *refused_since_ : std::chrono::nanoseconds::zero());
  refused_since_.reset();
  return grant;
}

void BudgetGate::Observe(const salesforce::LimitInfo& info) {
  if (info.max < 1) return;
  if (metrics_ != nullptr) {
    metrics_->daily_api_used.WithLabels({org_id_}).Set(static_cast<double>(info.used));
    metrics_->daily_api_limit.WithLabels({org_id_}).Set(static_cast<double>(info.max));
  }
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = budget_.ObserveLimitInfo(org_id_, info.used, info.max);
  if (!s.ok()) {
    core::Logger("fetcher")->warn("org={} api usage not recorded: {}", org_id_,
                                  std::string(s.message()));
  }
}

}  // namespace sfbridge::fetcher
