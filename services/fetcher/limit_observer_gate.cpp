#include "fetcher/limit_observer_gate.h"

#include <utility>

#include "common/core/logging.h"

namespace sfbridge::fetcher {

LimitObserverGate::LimitObserverGate(control::RateBudget& budget, std::string org_id)
    : budget_(budget), org_id_(std::move(org_id)) {}

absl::Status LimitObserverGate::Acquire(salesforce::CallKind, salesforce::Priority) {
  return absl::OkStatus();
}

void LimitObserverGate::Observe(const salesforce::LimitInfo& info) {
  if (info.max < 1) return;
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = budget_.ObserveLimitInfo(org_id_, info.used, info.max);
  if (!s.ok()) {
    core::Logger("fetcher")->warn("org={} api usage not recorded: {}", org_id_,
                                  std::string(s.message()));
  }
}

}  // namespace sfbridge::fetcher
