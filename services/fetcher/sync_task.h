#pragma once

// What the scheduler drives: one object's sync, one Salesforce call per Step.

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/control/org_settings.h"

namespace sfbridge::fetcher {

struct StepResult {
  control::ObjectState state = control::ObjectState::kPending;  // after the step
  int api_calls = 0;                                            // Salesforce calls made: 0 or 1
  int64_t records_published = 0;                                // acknowledged by Kafka
  // More work is ready now (a full page came back, a split page is half read, a backfill has
  // just started): step again soon. False once caught up: the next poll can wait.
  bool more_pending = false;
  // > 0: nothing to do before this much time has passed (a Bulk job still running); the
  // scheduler leaves the object alone until then, whatever its state.
  std::chrono::milliseconds not_before{0};
  // state == kError: why. core::IsRetryable says whether Retry() may help later.
  absl::Status error;
};

class SyncTask {
 public:
  virtual ~SyncTask() = default;
  virtual const std::string& object_name() const = 0;
  virtual control::ObjectState state() const = 0;
  // Exactly one Salesforce call (none when the object is in error, or when it only stores the
  // progress of a page published earlier). A non-OK status means the step failed before it could
  // finish (Kafka or the control plane): nothing advanced durably, and the step may be tried
  // again later.
  virtual absl::StatusOr<StepResult> Step() = 0;
  // Leaves kError for the state the object was in when it failed; the next Step records that.
  // False (and nothing changes) when the object is not in error.
  virtual bool Retry() = 0;
};

}  // namespace sfbridge::fetcher
