#pragma once

// The write path's RequestGate (DESIGN.md invariant 5): before every HTTP request of the
// Salesforce client that costs an API call (each Composite request of a write, every retry) it
// takes one token of the org's shared rate budget in the PRIORITY lane (a client is waiting; the
// lane may also take the reserve the fetchers must leave), waiting for it at most `max_wait`.
// Token requests to the OAuth endpoint are not API calls and take nothing. Observe passes
// Sforce-Limit-Info on to the budget.
//
// A refusal comes back as kResourceExhausted carrying the kBudgetRefusalPayload payload (so the
// caller can tell it from Salesforce's own REQUEST_LIMIT_EXCEEDED), and nothing is sent. When
// the control-plane database cannot be reached, kUnavailable with kBudgetUnavailablePayload
// (the proxy's own infrastructure, not Salesforce), and nothing is sent either.
// The time a write spends here is told apart from Salesforce's by the salesforce::Reservation
// the write path gives the Client (request_gate.h).
//
// Observe records the org's usage at most once per kObserveInterval (the latest value then):
// the budget needs its trend, not every reply's.
//
// Thread-safe: each Acquire borrows one of up to `connections` control-plane connections (a
// RateBudget is single-connection), opened on first use. A pooled connection that fails (e.g.
// it went stale when PostgreSQL restarted) is replaced and the take tried once more on a new
// one, so the first write after a restart does not fail for it.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/control/budget.h"
#include "common/core/clock.h"
#include "common/postgres/connection.h"
#include "common/salesforce/request_gate.h"

namespace sfbridge::proxy::writes {

inline constexpr char kBudgetRefusalPayload[] = "type.sfbridge/proxy.BudgetRefusal";
inline constexpr char kBudgetUnavailablePayload[] = "type.sfbridge/proxy.BudgetUnavailable";

class PriorityBudgetGate final : public salesforce::RequestGate {
 public:
  PriorityBudgetGate(std::string control_url, std::string org_id, core::Clock& clock,
                     std::chrono::milliseconds max_wait, int connections = 4);
  ~PriorityBudgetGate() override;

  absl::Status Acquire(salesforce::CallKind kind, salesforce::Priority priority) override;
  void Observe(const salesforce::LimitInfo& info) override;

  static constexpr std::chrono::milliseconds kObserveInterval{1'000};

  // True when `status` is a refusal of this gate.
  static bool IsBudgetRefusal(const absl::Status& status);
  // True when `status` says the gate could not reach its control-plane database.
  static bool IsBudgetUnavailable(const absl::Status& status);

 private:
  struct Slot {
    std::unique_ptr<postgres::Connection> conn;
    std::unique_ptr<control::RateBudget> budget;
    int uses = 0;  // takes made on it: a failure on a fresh one is not a stale connection
  };
  absl::StatusOr<std::unique_ptr<Slot>> Borrow();
  void Return(std::unique_ptr<Slot> slot);

  const std::string control_url_;
  const std::string org_id_;
  core::Clock& clock_;
  const std::chrono::milliseconds max_wait_;
  const int max_slots_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> idle_;  // guarded by mu_
  int open_ = 0;                             // guarded by mu_
  core::Clock::MonoTime next_observe_{};     // guarded by mu_
};

}  // namespace sfbridge::proxy::writes
