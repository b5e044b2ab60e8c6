#pragma once

// Budget over the org's shared rate budget: one token of Lane::kNormal per grant. Not
// thread-safe (RateBudget is not); the RateBudget must outlive it.

#include <string>

#include "common/control/budget.h"
#include "fetcher/scheduler.h"

namespace sfbridge::fetcher {

class BudgetAdapter final : public Budget {
 public:
  BudgetAdapter(control::RateBudget& budget, std::string org_id)
      : budget_(budget), org_id_(std::move(org_id)) {}

  absl::StatusOr<control::Grant> TryTake() override {
    return budget_.TryTake(org_id_, control::Lane::kNormal);
  }

 private:
  control::RateBudget& budget_;
  const std::string org_id_;
};

}  // namespace sfbridge::fetcher
