#include "fetcher/fetcher_service.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "common/control/budget.h"
#include "common/control/events.h"
#include "common/control/leases.h"
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
#include "fetcher/client_reader.h"
#include "fetcher/discovery.h"
#include "fetcher/fetcher_metrics.h"
#include "fetcher/kafka_sink.h"
#include "fetcher/object_sync.h"
#include "fetcher/pg_state_store.h"
#include "fetcher/scheduler.h"
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
  std::string reason;
  auto add = [&reason](const std::string& why) {
    if (why.empty()) return;
    if (!reason.empty()) reason += "; ";
    reason += why;
  };
  if (!discovered_.load()) add("starting: first discovery pass not done");
  add(postgres_.reason());
  add(kafka_.reason());
  std::lock_guard lock(mu_);
  if (!auth_error_.empty()) add("org in auth_error: " + auth_error_);
  return reason;
}

void FetcherService::SetAuthError(std::string error) {
  std::lock_guard lock(mu_);
  auth_error_ = std::move(error);
}

namespace {

// Whether the org's credentials work, with the backoff between tries (see the header).
class OrgAuth {
 public:
  // `on_state` is told the refusal while the org is in auth_error, and "" once it is not.
  OrgAuth(postgres::Connection& conn, core::Clock& clock, const FetcherOptions& options,
          FetcherMetrics& metrics, std::function<void(const control::Event&)> on_event,
          std::function<void(std::string)> on_state)
      : conn_(conn),
        clock_(clock),
        options_(options),
        metrics_(metrics),
        on_event_(std::move(on_event)),
        on_state_(std::move(on_state)),
        retry_at_(clock.Monotonic()) {}

  bool authenticated() const { return authenticated_; }
  bool Due() const { return clock_.Monotonic() >= retry_at_; }
  core::Clock::MonoTime retry_at() const { return retry_at_; }

  void Succeeded() {
    if (authenticated_) return;
    authenticated_ = true;
    on_state_("");
    if (failures_ > 0 || first_) {
      absl::Status s = control::SetOrgState(conn_, options_.org_id, "ok");
      if (!s.ok()) {
        core::Logger("fetcher")->warn("org={} state not stored: {}", options_.org_id,
                                      core::ToString(s.message()));
      }
    }
    if (failures_ > 0) {
      core::Logger("fetcher")->info("org={} authenticated after {} failures", options_.org_id,
                                    failures_);
    }
    first_ = false;
    failures_ = 0;
  }

  // `error` is a refusal of the credentials (or the session): the org waits and tries again.
  void Failed(const absl::Status& error) {
    authenticated_ = false;
    ++failures_;
    metrics_.org_auth_failures.WithLabels({options_.org_id}).Increment();
    milliseconds wait = options_.retry_initial;
    for (int i = 1; i < failures_ && wait < options_.retry_max; ++i) wait *= 2;
    wait = std::min(wait, options_.retry_max);
    retry_at_ = clock_.Monotonic() + wait;
    const std::string message = core::ToString(error.message());
    on_state_(message);
    core::Logger("fetcher")->error("org={} state=auth_error attempt={} retry_in_ms={} error={}",
                                   options_.org_id, failures_, wait.count(), message);
    if (absl::Status s = control::SetOrgState(conn_, options_.org_id, "auth_error", message);
        !s.ok()) {
      core::Logger("fetcher")->warn("org={} state not stored: {}", options_.org_id,
                                    core::ToString(s.message()));
    }
    if (failures_ == 1) {
      std::string detail = "{\"state\":\"auth_error\",\"error\":";
      salesforce::AppendJsonString(&detail, message);
      detail += "}";
      absl::StatusOr<control::Event> event = control::InsertEvent(
          conn_, options_.org_id, std::nullopt, control::kEventOrgError, detail);
      if (event.ok() && on_event_) on_event_(*event);
    }
  }

 private:
  postgres::Connection& conn_;
  core::Clock& clock_;
  const FetcherOptions& options_;
  FetcherMetrics& metrics_;
  const std::function<void(const control::Event&)> on_event_;
  const std::function<void(std::string)> on_state_;
  bool authenticated_ = false;
  bool first_ = true;
  int failures_ = 0;
  core::Clock::MonoTime retry_at_;
};

bool IsAuthFailure(const absl::Status& s) { return s.code() == absl::StatusCode::kUnauthenticated; }

// Whether every object of `names` finished its backfill (whichever replica read it).
absl::StatusOr<bool> AllBackfilled(postgres::Connection& conn, const std::string& org,
                                   const std::vector<std::string>& names) {
  if (names.empty()) return false;
  auto objects = control::LoadObjects(conn, org);
  if (!objects.ok()) return objects.status();
  size_t done = 0;
  for (const control::ObjectStatus& o : *objects) {
    if (std::find(names.begin(), names.end(), o.object_name) != names.end() &&
        o.backfill_completed_at_ms.has_value() && o.state == control::ObjectState::kLive) {
      ++done;
    }
  }
  return done == names.size();
}

}  // namespace

absl::Status FetcherService::Run(std::stop_token stop) {
  auto log = core::Logger("fetcher");
  const std::string& org = options_.org_id;
  FetcherMetrics metrics(metrics_);

  // Admin endpoints first, so that a probe sees the process alive while it starts.
  std::unique_ptr<http::AdminServer> admin;
  if (options_.metrics_port >= 0) {
    admin = std::make_unique<http::AdminServer>(metrics_, [this]() -> absl::Status {
      std::string reason = NotReadyReason();
      return reason.empty() ? absl::OkStatus() : absl::UnavailableError(reason);
    });
    absl::StatusOr<uint16_t> port =
        admin->Start(options_.metrics_host, static_cast<uint16_t>(options_.metrics_port));
    if (!port.ok()) return port.status();
    bound_port_.store(*port);
    log->info("org={} admin server listening on port {}", org, *port);
  }

  // The control plane: one connection for state and leases, one for the budget (a RateBudget
  // is single-connection). Both reconnect by themselves after a loss.
  const postgres::ReconnectOptions reconnect{.initial_backoff = options_.reconnect_initial,
                                             .max_backoff = options_.reconnect_max,
                                             .clock = &clock_,
                                             .state = &postgres_};
  // Started while PostgreSQL or Kafka is away, it waits for them.
  const core::Backoff start_backoff(options_.reconnect_initial, options_.reconnect_max);
  absl::StatusOr<std::unique_ptr<postgres::Connection>> conn;
  absl::StatusOr<std::unique_ptr<postgres::Connection>> budget_conn;
  if (absl::Status s = UntilReachable(
          stop, clock_, postgres_, start_backoff,
          [&]() -> absl::Status {
            conn = postgres::Connection::Connect(options_.postgres_url, reconnect);
            if (!conn.ok()) return conn.status();
            if (absl::Status m = control::Migrate(**conn); !m.ok()) {
              return m;
            }
            if (absl::Status r = RegisterOrg(**conn, options_); !r.ok()) {
              return r;
            }
            budget_conn = postgres::Connection::Connect(options_.postgres_url, reconnect);
            return budget_conn.status();
          });
      !s.ok()) {
    return core::Annotate(s, "connect to the control plane");
  }
  control::RateBudget rate_budget(**budget_conn, clock_);
  BudgetGate gate(rate_budget, org, clock_, &metrics);
  gate.SetStopToken(stop);

  // Kafka.
  const std::string records_topic = control::RecordsTopic(org);
  const std::string schemas_topic = control::SchemasTopic(org);
  if (absl::Status s = UntilReachable(
          stop, clock_, kafka_, start_backoff,
          [&]() -> absl::Status {
            absl::Status records = kafka::EnsureTopic(
                options_.kafka_brokers, {.name = records_topic, .partitions = options_.partitions});
            if (!records.ok())
              return core::Annotate(records, StrCat("create topic ", records_topic));
            return core::Annotate(kafka::EnsureTopic(options_.kafka_brokers,
                                                     {.name = schemas_topic,
                                                      .partitions = 1,
                                                      .configs = {{"cleanup.policy", "compact"}}}),
                                  StrCat("create topic ", schemas_topic));
          });
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::unique_ptr<AckedProducer>> producer = AckedProducer::Create(
      {.brokers = options_.kafka_brokers, .client_id = StrCat("sfbridge-fetcher-", org)});
  if (!producer.ok()) return producer.status();
  absl::StatusOr<std::unique_ptr<kafka::BrokerProbe>> probe =
      kafka::BrokerProbe::Create(options_.kafka_brokers, StrCat("sfbridge-fetcher-probe-", org));
  if (!probe.ok()) return probe.status();
  std::jthread kafka_probe([this, &probe](std::stop_token probe_stop) {
    while (!probe_stop.stop_requested()) {
      absl::Status s = (*probe)->Check(options_.dependency_probe);
      if (s.ok()) {
        kafka_.ReportOk();
      } else {
        kafka_.ReportFailure(core::ToString(s.message()));
      }
      for (auto waited = milliseconds(0);
           waited < options_.dependency_probe && !probe_stop.stop_requested();
           waited += milliseconds(50)) {
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
  });

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
  auto on_event = [&webhook](const control::Event& e) { webhook.Post(control::EventJson(e)); };

  Discovery discovery({.org_id = org,
                       .client = &client,
                       .conn = conn->get(),
                       .producer = producer->get(),
                       .clock = &clock_,
                       .metrics = &metrics},
                      {.describe_interval = options_.describe_interval,
                       .retry_initial = options_.retry_initial,
                       .retry_max = options_.retry_max});
  OrgAuth auth(**conn, clock_, options_, metrics, on_event,
               [this](std::string error) { SetAuthError(std::move(error)); });
  PgStateStore store(**conn, clock_, org, &metrics, on_event);
  KafkaSink sink(**producer, org, &metrics);
  Scheduler scheduler(gate, clock_,
                      {.poll_interval = options_.poll_interval,
                       .error_retry_interval = options_.retry_initial,
                       .error_retry_max = options_.retry_max});
  control::LeaseManager leases(**conn, clock_, org, options_.replica_id, options_.lease_ttl);
  std::map<std::string, std::unique_ptr<ClientReader>> readers;
  std::map<std::string, control::ObjectState> last_state;
  std::map<std::string, std::string> fingerprints;  // of the plan each held object runs with

  auto show_state = [&](const std::string& name, std::optional<control::ObjectState> state) {
    for (control::ObjectState s :
         {control::ObjectState::kPending, control::ObjectState::kBackfilling,
          control::ObjectState::kLive, control::ObjectState::kError}) {
      metrics.object_state.WithLabels({org, name, std::string(ObjectStateName(s))})
          .Set(state == s ? 1 : 0);
    }
  };
  auto drop_object = [&](const std::string& name) {
    scheduler.Remove(name);
    readers.erase(name);
    last_state.erase(name);
    fingerprints.erase(name);
    show_state(name, std::nullopt);
    log->info("org={} object={} lease given up", org, name);
  };
  auto start_object = [&](const std::string& name, const mapping::FieldPlan& plan) {
    auto reader = std::make_unique<ClientReader>(client, org, name, &metrics);
    absl::StatusOr<std::unique_ptr<ObjectSync>> sync = ObjectSync::Create(
        org, plan, *reader, sink, store, clock_, {.page_size = options_.page_size});
    if (!sync.ok()) {
      log->error("org={} object={} cannot start: {}", org, name,
                 std::string(sync.status().message()));
      return;
    }
    log->info("org={} object={} state={} fields={} started", org, name,
              ObjectStateName((*sync)->state()), plan.fields.size());
    last_state[name] = (*sync)->state();
    show_state(name, (*sync)->state());
    fingerprints[name] = plan.schema_fingerprint;
    scheduler.Add(*std::move(sync));    // replaces the object's previous sync, if any
    readers[name] = std::move(reader);  // after: the previous sync used the previous reader
  };

  // The org's completion event, recorded once by whichever replica sees it first.
  bool org_complete_known = false;
  auto check_org_complete = [&]() {
    if (org_complete_known || !discovery.pass_completed()) return;
    const std::vector<std::string> names = discovery.selected();
    absl::StatusOr<bool> all = AllBackfilled(**conn, org, names);
    if (!all.ok() || !*all) return;
    absl::StatusOr<std::optional<control::Event>> event =
        control::RecordEventOnce(**conn, org, std::nullopt, control::kEventOrgBackfillComplete,
                                 StrCat("{\"objects\":", names.size(), "}"));
    if (!event.ok()) {
      log->warn("org={} org backfill event not recorded: {}", org,
                core::ToString(event.status().message()));
      return;
    }
    org_complete_known = true;
    if (event->has_value()) {
      log->info("org={} objects={} backfill of the org complete", org, names.size());
      on_event(**event);
    }
  };

  // Poll cycle: from the end of the previous cycle until every object that is live has been
  // polled again (the first cycle starts at the first poll).
  std::optional<core::Clock::MonoTime> cycle_start;
  std::set<std::string> cycle_left;
  auto note_poll = [&](const std::string& name) {
    const auto now = clock_.Monotonic();
    cycle_left.erase(name);
    for (auto it = cycle_left.begin(); it != cycle_left.end();) {
      auto state = last_state.find(*it);
      const bool live = state != last_state.end() && state->second == control::ObjectState::kLive;
      it = live ? std::next(it) : cycle_left.erase(it);
    }
    if (!cycle_left.empty()) return;
    if (cycle_start) {
      metrics.poll_cycle.WithLabels({org}).Observe(
          std::chrono::duration<double>(now - *cycle_start).count());
    }
    cycle_start = now;
    for (const auto& [object, state] : last_state) {
      if (state == control::ObjectState::kLive) cycle_left.insert(object);
    }
  };

  const milliseconds lease_every = options_.lease_ttl / 3;
  auto next_lease = clock_.Monotonic();
  auto lease_valid_until = clock_.Monotonic();
  auto next_settings = clock_.Monotonic();
  std::optional<std::optional<std::vector<std::string>>> objects_setting;
  bool plans_dirty = false;

  auto nap = [&](milliseconds d) {
    d = std::max(milliseconds(1), std::min(d, milliseconds(250)));
    clock_.SleepFor(d);
  };
  auto until = [&](core::Clock::MonoTime t) {
    return std::chrono::duration_cast<milliseconds>(t - clock_.Monotonic());
  };

  core::Gauge& ready_gauge =
      metrics_
          .GaugeFamily("sfbridge_fetcher_ready", "1 while /readyz answers ready, else 0.", {"org"})
          .WithLabels({org});
  // Whether both control-plane connections work (see the header).
  auto control_plane_up = [&]() {
    return postgres_.up() && (*conn)->connected() && (*budget_conn)->connected();
  };

  while (!stop.stop_requested()) {
    const auto now = clock_.Monotonic();
    ready_gauge.Set(ready() ? 1 : 0);

    // PostgreSQL lost: fetch nothing until both connections are back (the header says why).
    if (!control_plane_up()) {
      if (now >= lease_valid_until && !scheduler.objects().empty()) {
        // The leases may have expired meanwhile: another replica may take the objects.
        for (const std::string& name : scheduler.objects()) drop_object(name);
      }
      const bool a = (*conn)->Exec("SELECT 1").ok();
      const bool b = (*budget_conn)->Exec("SELECT 1").ok();
      if (a && b) {
        next_lease = clock_.Monotonic();  // leases first: they may have moved meanwhile
        next_settings = next_lease;
        continue;
      }
      nap(milliseconds(250));
      continue;
    }
    // Kafka lost: nothing read could be published.
    if (!kafka_.up()) {
      nap(milliseconds(250));
      continue;
    }

    // Settings changed by anyone take effect here (the budget's at every take).
    if (now >= next_settings) {
      next_settings = now + options_.settings_refresh;
      absl::StatusOr<control::OrgSettings> settings = control::LoadOrg(**conn, org);
      if (!settings.ok()) {
        if (!core::IsRetryable(settings.status()) || control_plane_up()) {
          log->warn("org={} settings not read: {}", org,
                    core::ToString(settings.status().message()));
        }
      } else {
        webhook.SetUrl(settings->webhook_url);
        if (objects_setting && *objects_setting != settings->objects) {
          log->info("org={} object list changed: discovering again", org);
          discovery.RequestPass();
        }
        objects_setting = settings->objects;
      }
    }

    // Credentials first: nothing else can work without them.
    if (!auth.authenticated()) {
      if (!auth.Due()) {
        nap(until(auth.retry_at()));
        continue;
      }
      absl::StatusOr<control::Grant> grant = gate.TryTake();
      if (!grant.ok() || !grant->granted) {
        nap(grant.ok() ? grant->wait : milliseconds(1'000));
        continue;
      }
      absl::Status s = client.Authenticate();
      if (stop.stop_requested()) break;
      if (s.ok()) {
        auth.Succeeded();
        scheduler.RetryErrorsNow();
      } else {
        auth.Failed(s);
      }
      continue;
    }

    // Leases, once the objects are known.
    if (discovery.pass_completed() && (now >= next_lease || plans_dirty)) {
      next_lease = now + lease_every;
      if (plans_dirty) {
        plans_dirty = false;
        for (const std::string& name : scheduler.objects()) {
          auto plan = discovery.plans().find(name);
          if (plan == discovery.plans().end()) {
            drop_object(name);
          } else if (plan->second.schema_fingerprint != fingerprints[name]) {
            log->info("org={} object={} schema changed: reading with the new fields", org, name);
            start_object(name, plan->second);
          }
        }
      }
      absl::StatusOr<std::vector<std::string>> held = leases.Acquire(discovery.object_names());
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
          auto plan = discovery.plans().find(name);
          if (plan != discovery.plans().end()) start_object(name, plan->second);
        }
        metrics.objects_held.WithLabels({org}).Set(static_cast<double>(held->size()));
      }
      check_org_complete();
    }

    // Discovery goes first when due: its calls are few.
    if (discovery.Due()) {
      absl::StatusOr<control::Grant> grant = gate.TryTake();
      if (!grant.ok()) {
        log->warn("org={} budget unavailable: {}", org, std::string(grant.status().message()));
        nap(milliseconds(1'000));
        continue;
      }
      if (!grant->granted) {
        nap(grant->wait);
        continue;
      }
      absl::StatusOr<DiscoveryStep> step = discovery.Step();
      if (stop.stop_requested()) break;
      if (!step.ok()) {
        log->warn("org={} discovery step failed, retrying: {}", org,
                  std::string(step.status().message()));
        nap(milliseconds(1'000));
        continue;
      }
      if (IsAuthFailure(step->salesforce_error)) auth.Failed(step->salesforce_error);
      if (step->plans_changed && discovery.pass_completed()) plans_dirty = true;
      if (discovery.pass_completed() && !discovered_.load()) {
        plans_dirty = false;
        discovered_.store(true);
        log->info("org={} objects={} replica={} discovery done", org, discovery.plans().size(),
                  options_.replica_id);
        next_lease = clock_.Monotonic();
      }
      continue;
    }
    if (!discovery.pass_completed()) {
      nap(until(discovery.next_due()));
      continue;
    }

    absl::StatusOr<TickResult> tick = scheduler.Tick();
    if (!tick.ok()) {
      log->warn("org={} budget unavailable: {}", org, std::string(tick.status().message()));
      SleepUnlessStopped(clock_, milliseconds(1'000), stop);
      continue;
    }
    if (tick->object.empty()) {
      milliseconds wait = tick->wait;
      wait = std::min({wait, until(next_lease), until(discovery.next_due()), until(next_settings)});
      nap(wait);
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
    if (step.state == control::ObjectState::kError && IsAuthFailure(step.error)) {
      auth.Failed(step.error);
    }
    control::ObjectState& previous = last_state[name];
    const control::ObjectState before = previous;
    if (step.state != previous) {
      if (step.state == control::ObjectState::kError) {
        log->error("org={} object={} state=error error={}", org, name,
                   std::string(step.error.message()));
      } else {
        log->info("org={} object={} state={} previous={}", org, name, ObjectStateName(step.state),
                  ObjectStateName(previous));
      }
      previous = step.state;
      show_state(name, step.state);
      if (step.state == control::ObjectState::kLive) check_org_complete();
    }
    if (before == control::ObjectState::kLive && step.state == control::ObjectState::kLive &&
        !step.more_pending) {
      note_poll(name);
    }
    if (step.records_published > 0) {
      log->debug("org={} object={} records={} published", org, name, step.records_published);
    }
  }

  log->info("org={} stopping", org);
  if (absl::Status s = leases.Release(); !s.ok()) {
    log->warn("org={} releasing leases failed: {}", org, std::string(s.message()));
  }
  discovered_.store(false);
  ready_gauge.Set(0);
  if (admin) admin->Stop();
  return absl::OkStatus();
}

}  // namespace sfbridge::fetcher
