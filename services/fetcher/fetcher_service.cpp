#include "fetcher/fetcher_service.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "common/control/budget.h"
#include "common/control/leases.h"
#include "common/control/migrations.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/logging.h"
#include "common/core/service_main.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/http/admin_server.h"
#include "common/kafka/admin.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"
#include "fetcher/acked_producer.h"
#include "fetcher/budget_adapter.h"
#include "fetcher/client_reader.h"
#include "fetcher/discovery.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/kafka_sink.h"
#include "fetcher/limit_observer_gate.h"
#include "fetcher/object_sync.h"
#include "fetcher/pg_state_store.h"
#include "fetcher/scheduler.h"

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

// Sleeps on the clock in short steps until `d` passed or a stop is requested.
void SleepUnlessStopped(core::Clock& clock, milliseconds d, const std::stop_token& stop) {
  const auto until = clock.Monotonic() + d;
  while (!stop.stop_requested()) {
    auto left = until - clock.Monotonic();
    if (left <= std::chrono::nanoseconds::zero()) return;
    clock.SleepFor(std::min<std::chrono::nanoseconds>(left, milliseconds(250)));
  }
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
  settings.objects = options.objects;
  settings.api_version = options.api_version;
  return control::UpsertOrg(conn, settings);
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
  s.Add({.name = "salesforce.login-url",
         .help = "OAuth login URL (or My Domain)",
         .default_value = "https://login.salesforce.com"});
  s.Add({.name = "salesforce.auth",
         .help = "OAuth flow",
         .default_value = "password",
         .choices = {"password", "client_credentials", "refresh_token", "jwt"}});
  s.Add({.name = "salesforce.client-id", .help = "Connected app consumer key", .required = true});
  s.Add({.name = "salesforce.client-secret",
         .help = "Connected app consumer secret",
         .secret = true});
  s.Add({.name = "salesforce.username", .help = "User name (password and jwt flows)"});
  s.Add({.name = "salesforce.password",
         .help = "Password followed by the security token",
         .secret = true});
  s.Add({.name = "salesforce.refresh-token",
         .help = "Refresh token (refresh_token flow)",
         .secret = true});
  s.Add({.name = "salesforce.private-key-file", .help = "PEM RSA private key (jwt flow)"});
  s.Add({.name = "salesforce.api-version", .help = "REST API version", .default_value = "59.0"});
  s.Add({.name = "salesforce.ca-file", .help = "Extra trusted CA certificates (PEM)"});
  s.Add({.name = "fetcher.objects",
         .help = "Comma-separated objects to read; empty: every object the default rule allows"});
  s.Add({.name = "fetcher.page-size",
         .type = ConfigType::kInt,
         .help = "Records per query page",
         .default_value = "2000",
         .min = 200,
         .max = 2000});
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
  salesforce::Credentials& cr = o.credentials;
  const std::string& flow = c.GetString("salesforce.auth");
  if (flow == "password") cr.flow = salesforce::AuthFlow::kPassword;
  if (flow == "client_credentials") cr.flow = salesforce::AuthFlow::kClientCredentials;
  if (flow == "refresh_token") cr.flow = salesforce::AuthFlow::kRefreshToken;
  if (flow == "jwt") cr.flow = salesforce::AuthFlow::kJwtBearer;
  cr.login_url = c.GetString("salesforce.login-url");
  cr.client_id = c.GetString("salesforce.client-id");
  cr.client_secret = c.GetString("salesforce.client-secret");
  cr.username = c.GetString("salesforce.username");
  cr.password = c.GetString("salesforce.password");
  cr.refresh_token = c.GetString("salesforce.refresh-token");
  if (const std::string& key_file = c.GetString("salesforce.private-key-file"); !key_file.empty()) {
    std::ifstream in(key_file, std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError(
          StrCat("salesforce.private-key-file: cannot read ", key_file));
    }
    std::stringstream buf;
    buf << in.rdbuf();
    cr.private_key_pem = buf.str();
  }
  o.api_version = c.GetString("salesforce.api-version");
  o.ca_file = c.GetString("salesforce.ca-file");
  std::vector<std::string> objects = SplitList(c.GetString("fetcher.objects"));
  if (!objects.empty()) o.objects = std::move(objects);
  o.page_size = static_cast<int>(c.GetInt("fetcher.page-size"));
  o.poll_interval = c.GetDuration("fetcher.poll-interval");
  o.lease_ttl = c.GetDuration("fetcher.lease-ttl");
  o.replica_id = c.GetString("fetcher.replica-id");
  o.partitions = static_cast<int>(c.GetInt("kafka.partitions"));
  o.metrics_port = static_cast<int>(c.GetInt("metrics.port"));
  o.metrics_host = c.GetString("metrics.host");
  return o;
}

FetcherService::FetcherService(FetcherOptions options, core::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  if (options_.replica_id.empty()) options_.replica_id = DefaultReplicaId();
}

absl::Status FetcherService::Run(std::stop_token stop) {
  auto log = core::Logger("fetcher");
  const std::string& org = options_.org_id;
  FetcherMetrics metrics(metrics_);

  // Admin endpoints first, so that a probe sees the process alive while it starts.
  std::unique_ptr<http::AdminServer> admin;
  if (options_.metrics_port >= 0) {
    admin = std::make_unique<http::AdminServer>(metrics_, [this]() -> absl::Status {
      return ready_.load() ? absl::OkStatus() : absl::UnavailableError("discovering objects");
    });
    absl::StatusOr<uint16_t> port =
        admin->Start(options_.metrics_host, static_cast<uint16_t>(options_.metrics_port));
    if (!port.ok()) return port.status();
    bound_port_.store(*port);
    log->info("org={} admin server listening on port {}", org, *port);
  }

  // The control plane: one connection for state and leases, one for the budget, one for the
  // gate (each RateBudget is single-connection).
  absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
      postgres::Connection::Connect(options_.postgres_url);
  if (!conn.ok()) return core::Annotate(conn.status(), "connect to the control plane");
  if (absl::Status s = control::Migrate(**conn); !s.ok()) return s;
  if (absl::Status s = RegisterOrg(**conn, options_); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<postgres::Connection>> budget_conn =
      postgres::Connection::Connect(options_.postgres_url);
  if (!budget_conn.ok()) return budget_conn.status();
  absl::StatusOr<std::unique_ptr<postgres::Connection>> gate_conn =
      postgres::Connection::Connect(options_.postgres_url);
  if (!gate_conn.ok()) return gate_conn.status();
  control::RateBudget rate_budget(**budget_conn, clock_);
  control::RateBudget gate_budget(**gate_conn, clock_);
  BudgetAdapter budget(rate_budget, org);
  LimitObserverGate gate(gate_budget, org);

  // Kafka.
  const std::string records_topic = control::RecordsTopic(org);
  const std::string schemas_topic = control::SchemasTopic(org);
  if (absl::Status s = kafka::EnsureTopic(
          options_.kafka_brokers, {.name = records_topic, .partitions = options_.partitions});
      !s.ok()) {
    return core::Annotate(s, StrCat("create topic ", records_topic));
  }
  if (absl::Status s = kafka::EnsureTopic(
          options_.kafka_brokers,
          {.name = schemas_topic, .partitions = 1, .configs = {{"cleanup.policy", "compact"}}});
      !s.ok()) {
    return core::Annotate(s, StrCat("create topic ", schemas_topic));
  }
  absl::StatusOr<std::unique_ptr<AckedProducer>> producer = AckedProducer::Create(
      {.brokers = options_.kafka_brokers, .client_id = StrCat("sfbridge-fetcher-", org)});
  if (!producer.ok()) return producer.status();

  // Salesforce.
  absl::StatusOr<std::unique_ptr<salesforce::PocoTransport>> transport =
      salesforce::PocoTransport::Create({.extra_ca_file = options_.ca_file});
  if (!transport.ok()) return transport.status();
  salesforce::ClientOptions client_options;
  client_options.credentials = options_.credentials;
  client_options.api_version = options_.api_version;
  client_options.max_attempts = options_.max_attempts;
  client_options.initial_backoff = options_.initial_backoff;
  salesforce::Client client(client_options, **transport, clock_, &gate);

  // Discovery, retried while its failure may pass.
  DiscoveryContext ctx{
      .org_id = org,
      .client = &client,
      .conn = conn->get(),
      .producer = producer->get(),
      .clock = &clock_,
      .take_token =
          [&]() {
            return rate_budget.Take(org, control::Lane::kNormal, core::Clock::MonoTime::max(),
                                    stop);
          },
      .metrics = &metrics,
  };
  std::vector<DiscoveredObject> discovered;
  while (true) {
    if (stop.stop_requested()) return absl::OkStatus();
    absl::StatusOr<std::vector<DiscoveredObject>> d = DiscoverObjects(ctx);
    if (d.ok()) {
      discovered = *std::move(d);
      break;
    }
    if (stop.stop_requested()) return absl::OkStatus();
    if (!core::IsRetryable(d.status())) return core::Annotate(d.status(), "discovery");
    log->warn("org={} discovery failed, retrying: {}", org, std::string(d.status().message()));
    SleepUnlessStopped(clock_, milliseconds(5'000), stop);
  }
  std::map<std::string, FieldPlan> plans;
  std::vector<std::string> object_names;
  for (DiscoveredObject& d : discovered) {
    object_names.push_back(d.plan.object_name);
    plans.emplace(d.plan.object_name, std::move(d.plan));
  }
  log->info("org={} objects={} replica={} discovery done", org, object_names.size(),
            options_.replica_id);
  ready_.store(true);

  PgStateStore store(**conn, clock_, org, &metrics);
  KafkaSink sink(**producer, org, &metrics);
  Scheduler scheduler(budget, clock_, {.poll_interval = options_.poll_interval});
  control::LeaseManager leases(**conn, clock_, org, options_.replica_id, options_.lease_ttl);
  std::map<std::string, std::unique_ptr<ClientReader>> readers;
  std::map<std::string, control::ObjectState> last_state;

  const milliseconds lease_every = options_.lease_ttl / 3;
  auto next_lease = clock_.Monotonic();
  auto lease_valid_until = clock_.Monotonic();
  auto drop_object = [&](const std::string& name) {
    scheduler.Remove(name);
    readers.erase(name);
    last_state.erase(name);
    log->info("org={} object={} lease given up", org, name);
  };

  while (!stop.stop_requested()) {
    const auto now = clock_.Monotonic();
    if (now >= next_lease) {
      next_lease = now + lease_every;
      absl::StatusOr<std::vector<std::string>> held = leases.Acquire(object_names);
      if (!held.ok()) {
        log->warn("org={} lease renewal failed: {}", org, std::string(held.status().message()));
        next_lease = now + milliseconds(1'000);
        if (now >= lease_valid_until) {
          // The leases may have expired: stop working on every object until renewed.
          for (const std::string& name : scheduler.objects()) drop_object(name);
        }
      } else {
        lease_valid_until = now + options_.lease_ttl - lease_every;
        std::set<std::string> keep(held->begin(), held->end());
        for (const std::string& name : scheduler.objects()) {
          if (!keep.contains(name)) drop_object(name);
        }
        for (const std::string& name : *held) {
          if (scheduler.Find(name) != nullptr) continue;
          auto plan = plans.find(name);
          if (plan == plans.end()) continue;
          auto reader = std::make_unique<ClientReader>(client, org, name, &metrics);
          absl::StatusOr<std::unique_ptr<ObjectSync>> sync = ObjectSync::Create(
              org, plan->second, *reader, sink, store, clock_, {.page_size = options_.page_size});
          if (!sync.ok()) {
            log->error("org={} object={} cannot start: {}", org, name,
                       std::string(sync.status().message()));
            continue;
          }
          log->info("org={} object={} state={} lease acquired", org, name,
                    ObjectStateName((*sync)->state()));
          last_state[name] = (*sync)->state();
          readers[name] = std::move(reader);
          scheduler.Add(*std::move(sync));
        }
        metrics.objects_held.WithLabels({org}).Set(static_cast<double>(held->size()));
      }
    }

    absl::StatusOr<TickResult> tick = scheduler.Tick();
    if (!tick.ok()) {
      log->warn("org={} budget unavailable: {}", org, std::string(tick.status().message()));
      SleepUnlessStopped(clock_, milliseconds(1'000), stop);
      continue;
    }
    if (tick->object.empty()) {
      milliseconds wait = std::min<milliseconds>(tick->wait, milliseconds(250));
      auto to_lease = std::chrono::duration_cast<milliseconds>(next_lease - clock_.Monotonic());
      wait = std::max(milliseconds(1), std::min(wait, to_lease));
      clock_.SleepFor(wait);
      continue;
    }
    const std::string& name = tick->object;
    if (!tick->step_status.ok()) {
      metrics.step_failures.WithLabels({org, name}).Increment();
      log->warn("org={} object={} step failed: {}", org, name,
                std::string(tick->step_status.message()));
      continue;
    }
    const StepResult& step = tick->step;
    control::ObjectState& previous = last_state[name];
    if (step.state != previous) {
      if (step.state == control::ObjectState::kError) {
        log->error("org={} object={} state=error error={}", org, name,
                   std::string(step.error.message()));
      } else {
        log->info("org={} object={} state={} previous={}", org, name, ObjectStateName(step.state),
                  ObjectStateName(previous));
      }
      previous = step.state;
    }
    if (step.records_published > 0) {
      log->debug("org={} object={} records={} published", org, name, step.records_published);
    }
  }

  log->info("org={} stopping", org);
  if (absl::Status s = leases.Release(); !s.ok()) {
    log->warn("org={} releasing leases failed: {}", org, std::string(s.message()));
  }
  ready_.store(false);
  if (admin) admin->Stop();
  return absl::OkStatus();
}

}  // namespace sfbridge::fetcher
