#pragma once

// What the fetcher reads, kept up to date one Salesforce call at a time: a pass is
// describeGlobal -> SelectObjects (the org's `objects` setting as it is now; NULL = the default
// rule) -> describe each selected object -> its ObjectSchema, published to the compacted topic
// sfbridge.<org>.schemas (key = object name) and acknowledged -> its FieldPlan. A pass starts at
// once, then every describe_interval (or sooner through RequestPass, when the settings
// changed), so new fields and new objects appear without a restart; objects no longer selected
// drop out.
//
// Schema versions: an object's version is the previous one + 1 whenever its fingerprint differs
// from the one stored in sfbridge.objects (version 1 the first time). The version published is
// recorded as a "schema_version" event; the fingerprint is stored (SetSchemaFingerprint) only
// after Kafka acknowledged the schema, so a crash in between publishes it again.
//
// Failures: a failed describe of an object that has no plan yet marks it in error (state and
// reason in sfbridge.objects, an object_error event); one that has a plan keeps it. Either way
// the object is described again after a backoff (retry_initial, doubling up to retry_max) while
// the others go on. A failed describeGlobal (or an objects setting naming unknown objects) retries
// the pass with the same backoff. An object whose plan cannot be made (no Id or SystemModstamp)
// is left out and marked in error until the next pass.
//
// Each Step makes exactly one Salesforce call; the caller pays its budget token first (the
// client's RequestGate spends one for every request). Not thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/mapping/schema_mapping.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "fetcher/acked_producer.h"
#include "fetcher/fetcher_metrics.h"

namespace sfbridge::fetcher {

inline constexpr std::string_view kEventSchemaVersion = "schema_version";

struct DiscoveryContext {
  std::string org_id;
  salesforce::Client* client = nullptr;
  postgres::Connection* conn = nullptr;
  AckedProducer* producer = nullptr;
  core::Clock* clock = nullptr;
  FetcherMetrics* metrics = nullptr;
};

struct DiscoveryOptions {
  std::chrono::milliseconds describe_interval{600'000};
  std::chrono::milliseconds retry_initial{5'000};
  std::chrono::milliseconds retry_max{300'000};
};

// What one Step did.
struct DiscoveryStep {
  std::string call;               // "describe_global" or the object described
  absl::Status salesforce_error;  // the call's failure (already recorded and rescheduled)
  bool plans_changed = false;     // plans() differs from before the step
};

class Discovery {
 public:
  Discovery(DiscoveryContext ctx, DiscoveryOptions options);

  // Whether a call is due now, and when the next one is.
  bool Due() const;
  core::Clock::MonoTime next_due() const;
  // Starts a new pass as soon as the current one (if any) is done.
  void RequestPass();

  // One Salesforce call. Errors: the control plane's or Kafka's (nothing was recorded; the same
  // call is made again on the next Step).
  absl::StatusOr<DiscoveryStep> Step();

  // The readable objects, by name.
  const std::map<std::string, mapping::FieldPlan>& plans() const { return plans_; }
  // Object names in plans(), sorted.
  std::vector<std::string> object_names() const;
  // The objects the last describeGlobal selected (readable or not), sorted.
  std::vector<std::string> selected() const {
    return std::vector<std::string>(selected_.begin(), selected_.end());
  }
  // At least one pass has been completed (the first plans are known).
  bool pass_completed() const { return passes_ > 0; }
  int64_t passes() const { return passes_; }

 private:
  struct Retry {
    int attempts = 0;
    core::Clock::MonoTime due;
  };
  absl::StatusOr<DiscoveryStep> DescribeGlobal();
  absl::StatusOr<DiscoveryStep> DescribeObject(const std::string& name);
  std::chrono::milliseconds Backoff(int attempts) const;
  void CountCall(std::string_view object, std::string_view kind, bool ok);

  const DiscoveryContext ctx_;
  const DiscoveryOptions options_;
  std::map<std::string, mapping::FieldPlan> plans_;
  std::set<std::string> selected_;
  // The pass in progress: objects still to describe; nullopt between passes.
  std::optional<std::vector<std::string>> pass_queue_;
  core::Clock::MonoTime next_pass_;
  int global_failures_ = 0;
  std::map<std::string, Retry> retries_;  // objects whose describe failed
  int64_t passes_ = 0;
};

}  // namespace sfbridge::fetcher
