#pragma once

// A RequestGate that takes no token (the fetcher pays for each call before it makes it, through
// the Scheduler's Budget or an explicit take) and only passes the org's real usage from
// Sforce-Limit-Info on to the rate budget. Thread-safe: calls into the RateBudget are
// serialized; the RateBudget must outlive the gate and must not be used elsewhere concurrently
// without the same mutex (mutex()).

#include <mutex>
#include <string>

#include "common/control/budget.h"
#include "common/salesforce/request_gate.h"

namespace sfbridge::fetcher {

class LimitObserverGate final : public salesforce::RequestGate {
 public:
  LimitObserverGate(control::RateBudget& budget, std::string org_id);

  absl::Status Acquire(salesforce::CallKind kind, salesforce::Priority priority) override;
  void Observe(const salesforce::LimitInfo& info) override;

 private:
  control::RateBudget& budget_;
  const std::string org_id_;
  std::mutex mu_;
};

}  // namespace sfbridge::fetcher
