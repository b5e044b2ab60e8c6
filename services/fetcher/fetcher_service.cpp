#include "fetcher/fetcher_service.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>

#include "common/control/budget.h"
#include "common/control/migrations.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/backoff.h"
#include "common/core/dependency.h"
#include "common/core/logging.h"
#include "common/core/service_main.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/http/admin_server.h"
#include "common/kafka/admin.h"
#include "common/kafka/probe.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "common/salesforce/client_config.h"
#include "common/salesforce/poco_transport.h"
#include "fetcher/acked_producer.h"
#include "fetcher/budget_gate.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/org_loop.h"
#include "fetcher/webhook.h"

namespace sfbridge::fetcher {
namespace {

using core::ConfigKey;
using core::ConfigType;
using core::StrCat;
using std::chrono::milliseconds;

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::stringstream in(text);
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string DefaultReplicaId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return StrCat(host[0] ? host : "fetcher", "-", static_cast<int64_t>(getpid()));
}

absl::Status RegisterOrg(postgres::Connection& conn, const FetcherOptions& options) {
  absl::StatusOr<control::OrgSettings> existing = control::LoadOrg(conn, options.org_id);
  control::OrgSettings settings;
  if (existing.ok()) {
    settings = *std::move(existing);
  } else if (existing.status().code() == absl::StatusCode::kNotFound) {
    settings.org_id = options.org_id;
    settings.display_name = options.org_id;
  } else {
    return existing.status();
  }
  if (options.objects) settings.objects = options.objects;
  settings.api_version = options.api_version;
  return control::UpsertOrg(conn, settings);
}

// Runs `step` until it succeeds or fails for a reason no wait cures, waiting with backoff in
// between while `dependency` is reported down (logged once, then reminded; /readyz says why), so
// that a fetcher started while PostgreSQL or Kafka is away waits for it instead of exiting.
// The last error when `stop` is requested first.
absl::Status UntilReachable(std::stop_token stop, core::Clock& clock,
                            core::DependencyState& dependency, core::Backoff backoff,
                            const std::function<absl::Status()>& step) {
  while (true) {
    absl::Status s = step();
    if (s.ok()) {
      dependency.ReportOk();
      return s;
    }
    const bool waitable = core::IsRetryable(s) || s.code() == absl::StatusCode::kUnavailable ||
                          s.code() == absl::StatusCode::kDeadlineExceeded;
    if (!waitable || stop.stop_requested()) return s;
    dependency.ReportFailure(core::ToString(s.message()));
    const auto until = clock.Monotonic() + backoff.Failed();
    while (clock.Monotonic() < until && !stop.stop_requested()) {
      clock.SleepFor(
          std::min<std::chrono::nanoseconds>(milliseconds(50), until - clock.Monotonic()));
    }
  }
}

}  // namespace

core::ConfigSchema FetcherConfigSchema() {
  core::ConfigSchema s;
  s.Add({.name = "postgres.url",
         .help = "Control-plane PostgreSQL (libpq URL)",
         .required = true,
         .secret = true});
  s.Add(
      {.name = "kafka.brokers", .help = "Kafka bootstrap servers host:port,...", .required = true});
  s.Add({.name = "org.id",
         .help = "The org's name in the control plane and in topic names",
         .required = true});
  salesforce::AddSalesforceKeys(s);
  s.Add({.name = "fetcher.objects",
         .help = "Comma-separated objects to read; empty: every object the default rule allows"});
  s.Add({.name = "fetcher.page-size",
         .type = ConfigType::kInt,
         .help = "Records per query page",
         .default_value = "2000",
         .min = 200,
         .max = 2000});
  s.Add({.name = "fetcher.bulk-threshold",
         .type = ConfigType::kInt,
         .help = "Backfill an object through a Bulk API 2.0 query job when COUNT() finds at least "
                 "this many records (REST pages below); 0 never uses Bulk",
         .default_value = "10000",
         .min = 0});
  s.Add({.name = "fetcher.bulk-page-records",
         .type = ConfigType::kInt,
         .help = "Records per Bulk results page (maxRecords): one API call each (Salesforce may "
                 "send fewer: its pages are also bounded in size). A page is decoded as it "
                 "arrives, never held whole; a fetcher stopped mid-page reads that page again",
         .default_value = "200000",
         .min = 100,
         .max = 1000000});
  s.Add({.name = "fetcher.bulk-poll-max",
         .type = ConfigType::kDuration,
         .help =
             "Longest wait between two status polls of a running Bulk job (the first waits 1 s, "
             "then doubling)",
         .default_value = "30s",
         .min = 1000});
  s.Add({.name = "fetcher.poll-interval",
         .type = ConfigType::kDuration,
         .help = "How often a caught-up object is polled",
         .default_value = "5s",
         .min = 100});
  s.Add({.name = "fetcher.lease-ttl",
         .type = ConfigType::kDuration,
         .help = "How long an object lease lasts without renewal",
         .default_value = "30s",
         .min = 3000});
  s.Add({.name = "fetcher.describe-interval",
         .type = ConfigType::kDuration,
         .help = "How often objects and fields are discovered again (costs 1 + objects calls)",
         .default_value = "10m",
         .min = 1000});
  s.Add({.name = "fetcher.retry-initial",
         .type = ConfigType::kDuration,
         .help = "First wait after refused credentials or an object in error (then doubling)",
         .default_value = "5s",
         .min = 100});
  s.Add({.name = "fetcher.retry-max",
         .type = ConfigType::kDuration,
         .help = "Longest wait between retries after refused credentials or an object in error",
         .default_value = "5m",
         .min = 100});
  s.Add({.name = "fetcher.replica-id", .help = "This replica's name; empty: hostname-pid"});
  s.Add({.name = "kafka.partitions",
         .type = ConfigType::kInt,
         .help = "Partitions of the records topic when it is created",
         .default_value = "6",
         .min = 1,
         .max = 10000});
  core::AddAdminServerKeys(s);
  return s;
}

absl::StatusOr<FetcherOptions> FetcherOptionsFromConfig(const core::Config& c) {
  FetcherOptions o;
  o.postgres_url = c.GetString("postgres.url");
  o.kafka_brokers = c.GetString("kafka.brokers");
  o.org_id = c.GetString("org.id");
  absl::StatusOr<salesforce::SalesforceSettings> sf = salesforce::SalesforceSettingsFromConfig(c);
  if (!sf.ok()) return sf.status();
  o.credentials = sf->credentials;
  o.api_version = sf->api_version;
  o.ca_file = sf->ca_file;
  std::vector<std::string> objects = SplitList(c.GetString("fetcher.objects"));
  if (!objects.empty()) o.objects = std::move(objects);
  o.page_size = static_cast<int>(c.GetInt("fetcher.page-size"));
  o.bulk_threshold = c.GetInt("fetcher.bulk-threshold");
  o.bulk_page_records = c.GetInt("fetcher.bulk-page-records");
  o.bulk_poll_max = c.GetDuration("fetcher.bulk-poll-max");
  o.poll_interval = c.GetDuration("fetcher.poll-interval");
  o.lease_ttl = c.GetDuration("fetcher.lease-ttl");
  o.describe_interval = c.GetDuration("fetcher.describe-interval");
  o.retry_initial = c.GetDuration("fetcher.retry-initial");
  o.retry_max = c.GetDuration("fetcher.retry-max");
  o.replica_id = c.GetString("fetcher.replica-id");
  o.partitions = static_cast<int>(c.GetInt("kafka.partitions"));
  o.metrics_port = static_cast<int>(c.GetInt("metrics.port"));
  o.metrics_host = c.GetString("metrics.host");
  return o;
}

FetcherService::FetcherService(FetcherOptions options, core::Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      postgres_("fetcher", "postgres", clock_,
                &core::DependencyUpGauge(metrics_, "fetcher", options_.org_id, "postgres"),
                options_.dependency_reminder),
      kafka_("fetcher", "kafka", clock_,
             &core::DependencyUpGauge(metrics_, "fetcher", options_.org_id, "kafka"),
             options_.dependency_reminder) {
  if (options_.replica_id.empty()) options_.replica_id = DefaultReplicaId();
}

std::string FetcherService::NotReadyReason() const {
  core::NotReadyReasons reasons;
  if (!discovered_.load()) reasons.Add("starting: first discovery pass not done");
  reasons.Add(postgres_.reason());
  reasons.Add(kafka_.reason());
  std::lock_guard lock(mu_);
  if (!auth_error_.empty()) reasons.Add("org in auth_error: " + auth_error_);
  return std::move(reasons).str();
}

void FetcherService::SetAuthError(std::string error) {
  std::lock_guard lock(mu_);
  auth_error_ = std::move(error);
}

absl::Status FetcherService::Run(std::stop_token stop) {
  auto log = core::Logger("fetcher");
  const std::string& org = options_.org_id;
  FetcherMetrics metrics(metrics_);

  // Admin endpoints first, so that a probe sees the process alive while it starts.
  absl::StatusOr<std::unique_ptr<http::AdminServer>> started = http::StartAdminServer(
      metrics_, [this] { return NotReadyReason(); }, options_.metrics_host, options_.metrics_port);
  if (!started.ok()) return started.status();
  std::unique_ptr<http::AdminServer> admin = *std::move(started);
  if (admin) {
    bound_port_.store(admin->port());
    log->info("org={} admin server listening on port {}", org, admin->port());
  }

  // Started while PostgreSQL or Kafka is away, it waits for them.
  const core::Backoff start_backoff(options_.reconnect_initial, options_.reconnect_max);
  absl::StatusOr<ControlPlane> control_plane = ConnectControlPlane(stop, start_backoff);
  if (!control_plane.ok()) return control_plane.status();
  control::RateBudget rate_budget(*control_plane->budget_conn, clock_);
  BudgetGate gate(rate_budget, org, clock_, &metrics);
  gate.SetStopToken(stop);

  if (absl::Status s = EnsureTopics(stop, start_backoff); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<AckedProducer>> producer = AckedProducer::Create(
      {.brokers = options_.kafka_brokers, .client_id = StrCat("sfbridge-fetcher-", org)});
  if (!producer.ok()) return producer.status();
  if (absl::Status s = (*producer)->LoadTopic(control::RecordsTopic(org), 10'000); !s.ok()) {
    // Only the first pages wait longer for Kafka.
    log->warn("org={} records topic not ready: {}", org, core::ToString(s.message()));
  }
  absl::StatusOr<std::unique_ptr<kafka::BrokerProbe>> probe =
      kafka::BrokerProbe::Create(options_.kafka_brokers, StrCat("sfbridge-fetcher-probe-", org));
  if (!probe.ok()) return probe.status();
  std::jthread kafka_probe(
      [this, &probe](std::stop_token probe_stop) { ProbeKafka(**probe, probe_stop); });

  // Salesforce; the webhook has a transport of its own (it runs on its own thread).
  absl::StatusOr<std::unique_ptr<salesforce::PocoTransport>> transport =
      salesforce::PocoTransport::Create({.extra_ca_file = options_.ca_file});
  if (!transport.ok()) return transport.status();
  absl::StatusOr<std::unique_ptr<salesforce::PocoTransport>> webhook_transport =
      salesforce::PocoTransport::Create({.extra_ca_file = options_.ca_file});
  if (!webhook_transport.ok()) return webhook_transport.status();
  salesforce::ClientOptions client_options;
  client_options.credentials = options_.credentials;
  client_options.api_version = options_.api_version;
  client_options.max_attempts = options_.max_attempts;
  client_options.initial_backoff = options_.initial_backoff;
  salesforce::Client client(client_options, **transport, clock_, &gate);
  WebhookNotifier webhook(**webhook_transport, clock_,
                          {.initial_backoff = options_.webhook_initial_backoff});

  core::Gauge& ready_gauge =
      metrics_
          .GaugeFamily("sfbridge_fetcher_ready", "1 while /readyz answers ready, else 0.", {"org"})
          .WithLabels({org});
  OrgLoop loop({.options = &options_,
                .clock = &clock_,
                .metrics = &metrics,
                .conn = control_plane->conn.get(),
                .budget_conn = control_plane->budget_conn.get(),
                .postgres = &postgres_,
                .kafka = &kafka_,
                .gate = &gate,
                .client = &client,
                .producer = producer->get(),
                .webhook = &webhook,
                .ready_gauge = &ready_gauge},
               {.ready = [this] { return ready(); },
                .discovered = [this] { discovered_.store(true); },
                .auth_error = [this](std::string error) { SetAuthError(std::move(error)); }});
  loop.Run(stop);

  discovered_.store(false);
  ready_gauge.Set(0);
  if (admin) admin->Stop();
  return absl::OkStatus();
}

absl::StatusOr<FetcherService::ControlPlane> FetcherService::ConnectControlPlane(
    std::stop_token stop, const core::Backoff& backoff) {
  // One connection for state and leases, one for the budget (a RateBudget is single-connection).
  // Both reconnect by themselves after a loss.
  const postgres::ReconnectOptions reconnect{.initial_backoff = options_.reconnect_initial,
                                             .max_backoff = options_.reconnect_max,
                                             .clock = &clock_,
                                             .state = &postgres_};
  ControlPlane out;
  absl::Status s = UntilReachable(stop, clock_, postgres_, backoff, [&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
        postgres::Connection::Connect(options_.postgres_url, reconnect);
    if (!conn.ok()) return conn.status();
    out.conn = *std::move(conn);
    if (absl::Status m = control::Migrate(*out.conn); !m.ok()) return m;
    if (absl::Status r = RegisterOrg(*out.conn, options_); !r.ok()) return r;
    absl::StatusOr<std::unique_ptr<postgres::Connection>> budget_conn =
        postgres::Connection::Connect(options_.postgres_url, reconnect);
    if (!budget_conn.ok()) return budget_conn.status();
    out.budget_conn = *std::move(budget_conn);
    return absl::OkStatus();
  });
  if (!s.ok()) return core::Annotate(s, "connect to the control plane");
  return out;
}

absl::Status FetcherService::EnsureTopics(std::stop_token stop, const core::Backoff& backoff) {
  const std::string records_topic = control::RecordsTopic(options_.org_id);
  const std::string schemas_topic = control::SchemasTopic(options_.org_id);
  return UntilReachable(stop, clock_, kafka_, backoff, [&]() -> absl::Status {
    absl::Status records = kafka::EnsureTopic(
        options_.kafka_brokers, {.name = records_topic, .partitions = options_.partitions});
    if (!records.ok()) return core::Annotate(records, StrCat("create topic ", records_topic));
    return core::Annotate(
        kafka::EnsureTopic(
            options_.kafka_brokers,
            {.name = schemas_topic, .partitions = 1, .configs = {{"cleanup.policy", "compact"}}}),
        StrCat("create topic ", schemas_topic));
  });
}

void FetcherService::ProbeKafka(kafka::BrokerProbe& probe, std::stop_token stop) {
  core::ProbeUntilStopped(stop, options_.dependency_probe,
                          [&] { kafka_.Report(probe.Check(options_.dependency_probe)); });
}

}  // namespace sfbridge::fetcher
