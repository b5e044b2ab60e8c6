#pragma once

// The sfbridge-fetcher service: keeps Kafka in step with one Salesforce org.
//
// On start: migrates the control plane, registers the org (keeping its settings; a configured
// object list replaces the stored one), creates the org's topics, then loops until stopped (the
// loop is OrgLoop, org_loop.h; Run only wires it to the outside world):
//   - every settings_refresh it reads the org's settings: a changed object list starts a new
//     discovery pass, the webhook URL applies to the next event; the rate budget and the daily
//     quota share are read by every token taken (budget.h), so all of them apply within seconds;
//   - it authenticates; refused credentials put the org in state auth_error (with the reason in
//     sfbridge.orgs.last_error and an org_error event) and are tried again after retry_initial,
//     doubling up to retry_max, one token each — never a hot loop; success sets the state "ok";
//   - discovery (discovery.h) runs a pass at start and every describe_interval, one call at a time
//     between the objects' calls; an object whose schema changed is read with its new fields
//     from its next page on;
//   - every lease_ttl / 3 it heartbeats and acquires its share of the objects (leases.h), adding
//     the objects it gained to the Scheduler and removing those it lost; in between the Scheduler
//     spends the org's budget on them, one Salesforce call per token;
//   - when every selected object of the org has finished its backfill (whichever replica read
//     it), an org_backfill_complete event is recorded, once per org.
// Every Salesforce call, retries and re-authentication included, spends a token of the org's
// budget first (budget_gate.h). Every event this replica records is also POSTed to the org's
// webhook URL, when set (webhook.h). /metrics, /healthz and /readyz are served on
// metrics.host:metrics.port.
//
// Outages. Started while PostgreSQL or Kafka is unreachable, it waits for them with the
// reconnect backoff (not ready meanwhile, saying why). The control-plane connections reconnect
// by themselves with backoff (postgres/connection.h). While PostgreSQL is unreachable nothing is
// fetched: a page read then could not move its cursor and would be read and published again; the
// loop only probes the connections at their reconnect pace, and once both are back it renews its
// leases before anything else. Kafka is probed every dependency_probe on a client of its own
// (kafka/probe.h); while it does not answer nothing is fetched either. A lost dependency is logged
// once when it goes, every dependency_reminder while it stays away, and once when it is back
// (core/dependency.h), and shown by
// sfbridge_fetcher_dependency_up{org,dependency="postgres|kafka"}.
//
// Ready (/readyz 200) once the first discovery pass is done, and while PostgreSQL and Kafka are
// reachable and the org's credentials are not refused (state auth_error); otherwise 503 with
// every reason.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/backoff.h"
#include "common/core/clock.h"
#include "common/core/config.h"
#include "common/core/dependency.h"
#include "common/core/metrics.h"
#include "common/kafka/probe.h"
#include "common/postgres/connection.h"
#include "common/salesforce/auth.h"

namespace sfbridge::fetcher {

struct FetcherOptions {
  std::string postgres_url;
  std::string kafka_brokers;
  std::string org_id;  // the org's name in the control plane (and in topic names)
  salesforce::Credentials credentials;
  std::string api_version = "59.0";
  std::string ca_file;  // extra trusted CAs (PEM); empty for none
  // Objects to read; nullopt: the default rule (schema_mapping.h DefaultExclusion).
  std::optional<std::vector<std::string>> objects;
  int page_size = 2000;
  // Bulk API 2.0 backfill (bulk_backfill.h): objects with at least bulk_threshold records (0:
  // never), results pages of bulk_page_records, job status polled after bulk_poll_initial,
  // doubling up to bulk_poll_max.
  int64_t bulk_threshold = 10'000;
  int64_t bulk_page_records = 200'000;
  std::chrono::milliseconds bulk_poll_initial{1'000};
  std::chrono::milliseconds bulk_poll_max{30'000};
  std::chrono::milliseconds poll_interval{5'000};
  std::chrono::milliseconds lease_ttl{30'000};
  std::string replica_id;   // empty: hostname-pid
  int partitions = 6;       // of the records topic
  int metrics_port = 9464;  // 0: any free port; negative: no admin server
  std::string metrics_host = "0.0.0.0";
  // A discovery pass every describe_interval (it costs 1 + objects calls).
  std::chrono::milliseconds describe_interval{600'000};
  // Backoff after a failure (refused credentials, an object in error, a failed describe):
  // retry_initial, doubling with every failure in a row, up to retry_max.
  std::chrono::milliseconds retry_initial{5'000};
  std::chrono::milliseconds retry_max{300'000};
  std::chrono::milliseconds settings_refresh{2'000};
  // Salesforce client retries (tests shorten them).
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{500};
  // Webhook deliveries (tests shorten them).
  std::chrono::milliseconds webhook_initial_backoff{1'000};
  // Outages (see above; tests shorten them).
  std::chrono::milliseconds dependency_probe{2'000};
  std::chrono::milliseconds dependency_reminder{60'000};
  std::chrono::milliseconds reconnect_initial{250};
  std::chrono::milliseconds reconnect_max{5'000};
};

// The keys of sfbridge-fetcher (logging keys not included).
core::ConfigSchema FetcherConfigSchema();
// Errors: kInvalidArgument for an unreadable private key file.
absl::StatusOr<FetcherOptions> FetcherOptionsFromConfig(const core::Config& config);

class FetcherService {
 public:
  explicit FetcherService(FetcherOptions options,
                          core::Clock& clock = core::SystemClock::Instance());

  // Runs until `stop` is requested (OK) or a failure that retrying cannot cure.
  absl::Status Run(std::stop_token stop);

  core::MetricsRegistry& metrics() { return metrics_; }
  // The admin server's port once it listens; 0 before.
  uint16_t bound_metrics_port() const { return bound_port_.load(); }
  // What /readyz answers: empty when ready, else every reason it is not. Thread-safe.
  std::string NotReadyReason() const;
  bool ready() const { return NotReadyReason().empty(); }

 private:
  // The org's control-plane connections: state, leases and events; the rate budget.
  struct ControlPlane {
    std::unique_ptr<postgres::Connection> conn;
    std::unique_ptr<postgres::Connection> budget_conn;
  };

  // Wiring, in the order Run does it. The first two wait with `backoff` while their dependency
  // is away (reported on postgres_ / kafka_), and fail for what no wait cures.
  absl::StatusOr<ControlPlane> ConnectControlPlane(std::stop_token stop,
                                                   const core::Backoff& backoff);
  absl::Status EnsureTopics(std::stop_token stop, const core::Backoff& backoff);
  // Reports on kafka_ every dependency_probe until `stop`; runs on a thread of its own.
  void ProbeKafka(kafka::BrokerProbe& probe, std::stop_token stop);
  void SetAuthError(std::string error);

  FetcherOptions options_;
  core::Clock& clock_;
  core::MetricsRegistry metrics_;
  std::atomic<uint16_t> bound_port_{0};
  std::atomic<bool> discovered_{false};  // the first discovery pass is done
  core::DependencyState postgres_;
  core::DependencyState kafka_;
  mutable std::mutex mu_;
  std::string auth_error_;  // while the org is in auth_error
};

}  // namespace sfbridge::fetcher
