#pragma once

// The proxy's write path to a Salesforce org (write_path.h; README "Writing through the proxy").
//
// Plan: statement_analysis.h over the synced tables of the catalog (catalog.h).
// Execute, for an INSERT / UPDATE / DELETE on a synced table:
//   1. resolves the table name on the client's connection (its search_path); a relation that
//      is not a synced table after all passes through;
//   2. refuses writes to columns Salesforce does not let a client write (write_checks.h);
//   3. runs the derived query (derived_query.h) on the client's connection, with its
//      parameters, in its transaction: the affected rows and their new values;
//   4. converts the values to the fields' Salesforce types (value_conversion.h) and sends them
//      with sObject Collections, allOrNone, at most 200 records per chunk, each chunk with its
//      read-back (step 5) in one Composite request, which first takes a token of the org's
//      budget in the priority lane (priority_budget_gate.h); writes of several sessions share
//      requests within `coalesce_window` (composite_batcher.h).
//      A statement affecting more than `max_rows` rows is refused before Salesforce is called
//      (max_rows defaults to 200: one all-or-none call). When max_rows is set higher, the rows
//      go in calls of 200 in order, and a call Salesforce refuses leaves the earlier calls'
//      records changed (the error says how many): such a statement is not atomic;
//   5. reads the confirmed versions back in the same Composite request (a collections retrieve,
//      or a queryAll for deletes): Id, SystemModstamp, formula and default values, as the
//      fetcher maps them (both steps: salesforce_calls.h);
//   6. applies them through the writer's gRPC Writer.Apply (deletes as tombstones);
//   7. answers (write_reply.h): "INSERT 0 n" / "UPDATE n" / "DELETE n", RETURNING through the
//      session (the confirmed rows, derived_query.h BuildReturningQuery), and inside an explicit
//      transaction a NOTICE that the Salesforce change is committed and cannot be rolled back.
// Steps 1-3 are write_preparation.h, 4-7 immediate_write_path.h; writes held for a unit of work
// (WritePath::Hold / CommitHeld) are held_write_path.h.
// Failures become PgErrors (error_mapping.h MapCallFailure: one meaning per SQLSTATE); after
// Salesforce accepted a change, a failure to read it back or to reach the writer is SQLSTATE
// 58000 saying the change IS in Salesforce and reaches the table through the sync.
//
// Metrics: sfbridge_proxy_mutations_total{org,table,operation,outcome}
// (outcome ok|salesforce_error|refused|unavailable), sfbridge_proxy_salesforce_errors_total{code},
// sfbridge_proxy_salesforce_seconds (Salesforce's time per mutation, budget waits excluded),
// sfbridge_proxy_added_seconds (Execute's time minus Salesforce's).
//
// Thread-safe: one instance serves every session.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/core/config.h"
#include "common/core/metrics.h"
#include "common/salesforce/auth.h"
#include "common/salesforce/http_transport.h"
#include "proxy/write_path.h"

namespace sfbridge::proxy {

struct WritePathOptions {
  std::string org_id;  // the org's name in the control plane; empty: no write path
  salesforce::Credentials credentials;
  std::string api_version = "59.0";
  std::string ca_file;
  std::string control_url;     // control-plane PostgreSQL: budget and synced tables
  std::string writer_address;  // host:port of the writer's gRPC server
  std::chrono::milliseconds budget_wait{10'000};         // longest wait for a budget token
  std::chrono::milliseconds salesforce_timeout{30'000};  // per Salesforce request
  int salesforce_attempts = 3;                           // per call, the first included
  std::chrono::milliseconds salesforce_backoff{200};     // first retry's backoff cap
  std::chrono::milliseconds writer_timeout{10'000};
  std::chrono::milliseconds catalog_refresh{1'000};
  int max_rows = 200;  // rows one statement may change; above 200 not atomic (see above)
  // Writes of several sessions arriving within this window share Composite requests
  // (composite_batcher.h); 0: each statement sends its own.
  std::chrono::microseconds coalesce_window{2'000};

  // For tests: the clock, and an HTTP transport to use instead of a PocoTransport (not owned).
  core::Clock* clock = &core::SystemClock::Instance();
  salesforce::HttpTransport* transport = nullptr;
};

// Keys: org.id, postgres.url, writer.address, the salesforce.* keys (client_config.h), and
// writes.budget-wait, writes.salesforce-timeout, writes.salesforce-attempts,
// writes.writer-timeout, writes.catalog-refresh, writes.max-rows, writes.coalesce-window.
void AddWritePathKeys(core::ConfigSchema& schema);
// Errors: kInvalidArgument naming what is missing when org.id is set without postgres.url,
// writer.address or salesforce.client-id, or an unreadable private key file.
absl::StatusOr<WritePathOptions> WritePathOptionsFromConfig(const core::Config& config);

// Errors: kInvalidArgument for options without org_id, control_url or writer_address; the
// transport's for an unusable CA file. Nothing is contacted yet: the org authenticates on its
// first write, the catalog loads on first use.
absl::StatusOr<std::unique_ptr<WritePath>> MakeSalesforceWritePath(WritePathOptions options,
                                                                   core::MetricsRegistry& metrics);

}  // namespace sfbridge::proxy
