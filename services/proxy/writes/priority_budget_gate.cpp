#include "proxy/writes/priority_budget_gate.h"

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::proxy::writes {
PriorityBudgetGate::PriorityBudgetGate(std::string control_url, std::string org_id,
                                       core::Clock& clock, std::chrono::milliseconds max_wait,
                                       int connections)
    : control_url_(std::move(control_url)),
      org_id_(std::move(org_id)),
      clock_(clock),
      max_wait_(max_wait),
      max_slots_(connections) {}

PriorityBudgetGate::~PriorityBudgetGate() = default;

bool PriorityBudgetGate::IsBudgetRefusal(const absl::Status& status) {
  return status.GetPayload(kBudgetRefusalPayload).has_value();
}

absl::StatusOr<std::unique_ptr<PriorityBudgetGate::Slot>> PriorityBudgetGate::Borrow() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Slot> slot = std::move(idle_.back());
      idle_.pop_back();
      return slot;
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
      postgres::Connection::Connect(control_url_);
  if (!conn.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    return conn.status();
  }
  auto slot = std::make_unique<Slot>();
  slot->conn = *std::move(conn);
  slot->budget = std::make_unique<control::RateBudget>(*slot->conn, clock_);
  return slot;
}

void PriorityBudgetGate::Return(std::unique_ptr<Slot> slot) {
  std::lock_guard lock(mu_);
  if (slot == nullptr || static_cast<int>(idle_.size()) >= max_slots_) {
    --open_;
    return;
  }
  idle_.push_back(std::move(slot));
}

absl::Status PriorityBudgetGate::Acquire(salesforce::CallKind kind, salesforce::Priority) {
  if (kind == salesforce::CallKind::kAuth) return absl::OkStatus();
  const auto start = clock_.Monotonic();
  absl::Status s;
  // A pooled connection that went stale (PostgreSQL restarted) fails on its first use: it is
  // replaced and the take made again on a new one, once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::unique_ptr<Slot>> slot = Borrow();
    if (!slot.ok()) {
      s = slot.status();
      break;
    }
    const bool fresh = (*slot)->uses == 0;
    ++(*slot)->uses;
    s = (*slot)->budget->Take(org_id_, control::Lane::kPriority, start + max_wait_);
    const bool broken =
        !s.ok() && core::IsRetryable(s) && s.code() != absl::StatusCode::kResourceExhausted;
    if (broken) {
      // The others were opened to the same server: likely just as stale. Open new ones.
      slot->reset();
      std::lock_guard lock(mu_);
      open_ -= static_cast<int>(idle_.size());
      idle_.clear();
    }
    Return(*std::move(slot));
    if (!broken || fresh) break;
  }
  if (s.code() == absl::StatusCode::kResourceExhausted) {
    absl::Status refusal = absl::ResourceExhaustedError(
        core::StrCat("the Salesforce API budget of org ", org_id_, " has no token within ",
                     max_wait_.count(), " ms (priority lane): ", s.message()));
    refusal.SetPayload(kBudgetRefusalPayload, absl::Cord("1"));
    return refusal;
  }
  if (!s.ok()) {
    // The proxy's own database, not Salesforce: nothing was sent.
    absl::Status failure = absl::UnavailableError(
        core::StrCat("the proxy cannot reach the org's API budget in its control-plane database: ",
                     s.message()));
    failure.SetPayload(kBudgetUnavailablePayload, absl::Cord("1"));
    return failure;
  }
  return s;
}

bool PriorityBudgetGate::IsBudgetUnavailable(const absl::Status& status) {
  return status.GetPayload(kBudgetUnavailablePayload).has_value();
}

void PriorityBudgetGate::Observe(const salesforce::LimitInfo& info) {
  if (info.max < 1) return;
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.Monotonic();
    if (now < next_observe_) return;
    next_observe_ = now + kObserveInterval;
  }
  absl::StatusOr<std::unique_ptr<Slot>> slot = Borrow();
  if (!slot.ok()) return;
  absl::Status s = (*slot)->budget->ObserveLimitInfo(org_id_, info.used, info.max);
  if (!s.ok()) {
    core::Logger("proxy")->warn("org={} api usage not recorded: {}", org_id_,
                                core::ToString(s.message()));
    if (core::IsRetryable(s)) slot->reset();
  }
  Return(*std::move(slot));
}

}  // namespace sfbridge::proxy::writes
