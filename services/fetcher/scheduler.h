#pragma once

// Spends the org's budget on the objects this replica holds, one Salesforce call per grant.
//
// The rule: the objects form a ring, in the order they were added. An object is runnable when it
// has work now: pending or backfilling, or its last step left a full page pending (more to read
// at once), or it is live and caught up and its last poll is at least poll_interval old; a step
// that asked for a pause (StepResult::not_before, a Bulk job still running) waits it out. Each
// Tick steps the first runnable object after the one stepped last (strict round-robin among
// runnable objects), after taking one token from the Budget; without a grant nothing is called.
// So an object with pages pending gets a turn every round, and no runnable object ever waits for
// more than (runnable objects - 1) calls: a busy object cannot starve the others, and idle
// objects cost at most one call per poll_interval each.
//
// A step that fails before finishing (Kafka, the control plane) makes its object wait
// failure_backoff. An object in error is retried when its error is retryable
// (core::IsRetryable), after error_retry_interval, doubling with every failure in a row up to
// error_retry_max; otherwise it stays in error until it is added again or RetryErrorsNow.
//
// Not thread-safe: one thread ticks. Budget and clock are not owned and must outlive it.

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/control/budget.h"
#include "common/core/clock.h"
#include "fetcher/sync_task.h"

namespace sfbridge::fetcher {

// The org's shared rate budget (control::RateBudget::TryTake(org, Lane::kNormal) implements it).
class Budget {
 public:
  virtual ~Budget() = default;
  // Takes one token for one Salesforce call now if the budget allows; never blocks for long.
  // Not granted: Grant::wait says how long until it might be.
  virtual absl::StatusOr<control::Grant> TryTake() = 0;
};

struct SchedulerOptions {
  std::chrono::milliseconds poll_interval{5'000};
  std::chrono::milliseconds failure_backoff{5'000};
  std::chrono::milliseconds error_retry_interval{5'000};
  std::chrono::milliseconds error_retry_max{600'000};
  // Run() sleeps at most this long at a time, to notice a stop request.
  std::chrono::milliseconds max_sleep{250};
};

struct TickResult {
  std::string object;        // the object stepped; empty when nothing was called
  absl::Status step_status;  // the step's own failure (OK when it finished)
  StepResult step;           // when step_status is OK
  // Nothing was called: how long until a call may be possible (a budget refill or the next poll
  // coming due). Zero after a call.
  std::chrono::milliseconds wait{0};
  bool budget_refused = false;  // an object was due but the budget granted no token
};

class Scheduler {
 public:
  Scheduler(Budget& budget, core::Clock& clock, SchedulerOptions options = {});

  // Adds an object at the end of the ring, runnable at once; replaces one of the same name.
  void Add(std::unique_ptr<SyncTask> task);
  // Removes an object (its lease was lost); false when it was not there.
  bool Remove(std::string_view object_name);
  std::vector<std::string> objects() const;
  SyncTask* Find(std::string_view object_name) const;
  // Every object in error, permanent ones included, is retried at its next turn (what stood in
  // the way, e.g. the org's credentials, was fixed).
  void RetryErrorsNow();

  // At most one Salesforce call. Errors: the budget's (nothing was called).
  absl::StatusOr<TickResult> Tick();
  // Ticks until `stop` is requested, sleeping on the clock when nothing can run. A budget error
  // is logged and waited out (failure_backoff).
  void Run(std::stop_token stop);

 private:
  struct Entry {
    std::unique_ptr<SyncTask> task;
    core::Clock::MonoTime due;  // runnable from then on
    bool parked = false;        // in an error that retrying cannot cure
    int errors_in_a_row = 0;
  };

  bool Runnable(const Entry& e, core::Clock::MonoTime now) const;
  // Retries objects whose error retry time has come.
  void RetryErrors(core::Clock::MonoTime now);

  Budget& budget_;
  core::Clock& clock_;
  const SchedulerOptions options_;
  std::vector<Entry> ring_;
  size_t last_ = static_cast<size_t>(-1);  // index of the object stepped last
};

}  // namespace sfbridge::fetcher
