#pragma once

// The fetcher's loop over one org, once FetcherService has wired the outside world: each turn
// it takes the first phase that has something to do, in this order (fetcher_service.h says what
// each one is for):
//   1. the control plane and Kafka: while either is lost, nothing is fetched;
//   2. the org's settings, every settings_refresh;
//   3. authentication, while the credentials are not known to work;
//   4. leases, once the objects are known, every lease_ttl / 3 or when the plans changed;
//   5. discovery, when a pass is due;
//   6. the scheduler: one step of one object, one Salesforce call.
// Not thread-safe: one thread runs it. Everything given to it must outlive it.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "common/control/events.h"
#include "common/control/leases.h"
#include "common/core/clock.h"
#include "common/core/dependency.h"
#include "common/core/metrics.h"
#include "common/mapping/schema_mapping.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "fetcher/acked_producer.h"
#include "fetcher/budget_gate.h"
#include "fetcher/client_bulk_reader.h"
#include "fetcher/client_reader.h"
#include "fetcher/discovery.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/fetcher_service.h"
#include "fetcher/kafka_sink.h"
#include "fetcher/org_auth.h"
#include "fetcher/pg_state_store.h"
#include "fetcher/scheduler.h"
#include "fetcher/webhook.h"

namespace sfbridge::fetcher {

// The outside world of one org, as FetcherService::Run builds it.
struct OrgLoopContext {
  const FetcherOptions* options = nullptr;
  core::Clock* clock = nullptr;
  FetcherMetrics* metrics = nullptr;
  postgres::Connection* conn = nullptr;         // state, leases, events
  postgres::Connection* budget_conn = nullptr;  // the rate budget's, probed with `conn`
  core::DependencyState* postgres = nullptr;
  core::DependencyState* kafka = nullptr;  // reported by a probe of its own
  BudgetGate* gate = nullptr;
  salesforce::Client* client = nullptr;
  AckedProducer* producer = nullptr;
  WebhookNotifier* webhook = nullptr;
  core::Gauge* ready_gauge = nullptr;  // sfbridge_fetcher_ready{org}
};

// What the loop tells the service: its readiness and the org's auth state.
struct OrgLoopHooks {
  std::function<bool()> ready;                  // what /readyz would answer
  std::function<void()> discovered;             // the first discovery pass is done
  std::function<void(std::string)> auth_error;  // as OrgAuth's on_state
};

class OrgLoop {
 public:
  OrgLoop(OrgLoopContext ctx, OrgLoopHooks hooks);

  // Runs until `stop` is requested, then releases the leases.
  void Run(std::stop_token stop);

 private:
  // Each phase returns true when it used this turn (the loop starts the next one).
  bool AwaitDependencies(core::Clock::MonoTime now);
  void RefreshSettings(core::Clock::MonoTime now);
  bool Authenticate(const std::stop_token& stop);
  void RenewLeases(core::Clock::MonoTime now);
  bool Discover(const std::stop_token& stop);
  void Tick(const std::stop_token& stop);

  // Objects held by this replica.
  void StartObject(const std::string& name, const mapping::FieldPlan& plan);
  void DropObject(const std::string& name);
  void ShowState(const std::string& name, std::optional<control::ObjectState> state);
  // Records the org's completion event once every selected object is backfilled.
  void CheckOrgComplete();
  // A live object caught up: closes the poll cycle when it was the last one.
  void NotePoll(const std::string& name);

  bool ControlPlaneUp() const;
  void Nap(std::chrono::milliseconds d);
  std::chrono::milliseconds Until(core::Clock::MonoTime t) const;
  void PostEvent(const control::Event& e);

  const OrgLoopContext ctx_;
  const OrgLoopHooks hooks_;
  const FetcherOptions& options_;
  const std::string& org_;
  core::Clock& clock_;
  FetcherMetrics& metrics_;

  Discovery discovery_;
  OrgAuth auth_;
  PgStateStore store_;
  PgBulkJobStore bulk_jobs_;
  KafkaSink sink_;
  Scheduler scheduler_;
  control::LeaseManager leases_;

  std::map<std::string, std::unique_ptr<ClientReader>> readers_;
  std::map<std::string, std::unique_ptr<ClientBulkReader>> bulk_readers_;
  std::map<std::string, control::ObjectState> last_state_;
  std::map<std::string, std::string> fingerprints_;  // of the plan each held object runs with

  bool discovered_ = false;  // the first discovery pass of this run is done
  bool org_complete_known_ = false;
  // Poll cycle: from the end of the previous cycle until every object that is live has been
  // polled again (the first cycle starts at the first poll).
  std::optional<core::Clock::MonoTime> cycle_start_;
  std::set<std::string> cycle_left_;

  const std::chrono::milliseconds lease_every_;
  core::Clock::MonoTime next_lease_;
  core::Clock::MonoTime lease_valid_until_;
  core::Clock::MonoTime next_settings_;
  std::optional<std::optional<std::vector<std::string>>> objects_setting_;
  bool plans_dirty_ = false;
};

}  // namespace sfbridge::fetcher
