#pragma once

// What the fetcher reads, decided at start: describeGlobal -> SelectObjects (the org's
// `objects` setting; NULL = the default rule) -> describe each -> its ObjectSchema, published to
// the compacted topic sfbridge.<org>.schemas (key = object name) and acknowledged -> its
// FieldPlan.
//
// Schema versions: an object's version is the previous one + 1 whenever its fingerprint differs
// from the one stored in sfbridge.objects (version 1 the first time). The version published is
// recorded as a "schema_version" event; the fingerprint is stored (SetSchemaFingerprint) only
// after Kafka acknowledged the schema, so a crash in between publishes it again.
//
// Every Salesforce call first spends a token through `take_token` (DESIGN.md invariant 5).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "fetcher/acked_producer.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/schema_mapping.h"

namespace sfbridge::fetcher {

inline constexpr std::string_view kEventSchemaVersion = "schema_version";

struct DiscoveredObject {
  FieldPlan plan;
  int64_t schema_version = 0;
};

struct DiscoveryContext {
  std::string org_id;
  salesforce::Client* client = nullptr;
  postgres::Connection* conn = nullptr;
  AckedProducer* producer = nullptr;
  core::Clock* clock = nullptr;
  // Takes one budget token for one Salesforce call (blocking until granted or failing).
  std::function<absl::Status()> take_token;
  FetcherMetrics* metrics = nullptr;
};

// Errors: Salesforce's, the control plane's, Kafka's; kInvalidArgument for requested objects
// that do not exist. An object whose plan cannot be made (no Id or SystemModstamp) is left out
// with an error logged and its state set to error.
absl::StatusOr<std::vector<DiscoveredObject>> DiscoverObjects(const DiscoveryContext& ctx);

}  // namespace sfbridge::fetcher
