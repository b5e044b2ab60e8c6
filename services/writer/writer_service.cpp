#include "writer/writer_service.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <iostream>
#include <memory>
#include <thread>
#include <utility>

#include "common/control/migrations.h"
#include "common/core/dependency.h"
#include "common/core/logging.h"
#include "common/core/service_main.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/http/admin_server.h"
#include "common/kafka/probe.h"
#include "common/postgres/connection.h"
#include "writer/consumer_loop.h"
#include "writer/grpc_service.h"
#include "writer/table_schema.h"
#include "writer/writer_metrics.h"

namespace sfbridge::writer {
namespace {

using core::ConfigType;
using core::StrCat;
using std::chrono::milliseconds;

}  // namespace

core::ConfigSchema WriterConfigSchema() {
  core::ConfigSchema s;
  s.Add({.name = "postgres.url",
         .help = "PostgreSQL of the synced tables and the control plane (libpq URL)",
         .required = true,
         .secret = true});
  s.Add(
      {.name = "kafka.brokers", .help = "Kafka bootstrap servers host:port,...", .required = true});
  s.Add({.name = "org.id", .help = "The org whose topics are applied", .required = true});
  s.Add({.name = "writer.schema",
         .help = "Postgres schema of the synced tables",
         .default_value = "salesforce"});
  s.Add({.name = "writer.read-role",
         .help = "Role granted SELECT on the synced tables when it exists; empty: none",
         .default_value = "sfbridge_read"});
  s.Add({.name = "writer.batch-size",
         .type = ConfigType::kInt,
         .help = "Most messages applied in one transaction",
         .default_value = "5000",
         .min = 1,
         .max = 1'000'000});
  s.Add({.name = "writer.batch-wait",
         .type = ConfigType::kDuration,
         .help = "Longest wait for a batch to fill after its first message",
         .default_value = "200ms",
         .min = 0});
  s.Add({.name = "writer.ddl-lock-timeout",
         .type = ConfigType::kDuration,
         .help = "Longest wait of a column change for its table lock; readers queue behind it, so "
                 "it then gives way and retries",
         .default_value = "2s",
         .min = 1});
  s.Add({.name = "writer.schema-grace",
         .type = ConfigType::kDuration,
         .help = "How long records of an object or field no schema names wait for its schema, "
                 "once the schemas topic is read to its end, before they are parked",
         .default_value = "10s",
         .min = 0});
  s.Add({.name = "kafka.session-timeout",
         .type = ConfigType::kDuration,
         .help = "How long the consumer group waits for a writer that stopped (crashed) before "
                 "its partitions move on; the broker bounds it (6s..30min by default)",
         .default_value = "10s",
         .min = 1});
  s.Add({.name = "grpc.port",
         .type = ConfigType::kInt,
         .help = "Port of the gRPC Writer service; 0 picks a free one",
         .default_value = "50051",
         .min = 0,
         .max = 65535});
  s.Add({.name = "grpc.host",
         .help = "Address the gRPC server listens on",
         .default_value = "0.0.0.0"});
  core::AddAdminServerKeys(s);
  return s;
}

absl::StatusOr<WriterOptions> WriterOptionsFromConfig(const core::Config& c) {
  WriterOptions o;
  o.postgres_url = c.GetString("postgres.url");
  o.kafka_brokers = c.GetString("kafka.brokers");
  o.org_id = c.GetString("org.id");
  o.schema = c.GetString("writer.schema");
  o.read_role = c.GetString("writer.read-role");
  o.batch_size = static_cast<int>(c.GetInt("writer.batch-size"));
  o.batch_wait = c.GetDuration("writer.batch-wait");
  o.ddl_lock_timeout = c.GetDuration("writer.ddl-lock-timeout");
  o.schema_grace = c.GetDuration("writer.schema-grace");
  o.session_timeout = c.GetDuration("kafka.session-timeout");
  o.grpc_port = static_cast<int>(c.GetInt("grpc.port"));
  o.grpc_host = c.GetString("grpc.host");
  o.metrics_port = static_cast<int>(c.GetInt("metrics.port"));
  o.metrics_host = c.GetString("metrics.host");
  if (o.schema.empty()) return absl::InvalidArgumentError("writer.schema: must not be empty");
  return o;
}

WriterService::WriterService(WriterOptions options, core::Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      postgres_("writer", "postgres", clock_,
                &core::DependencyUpGauge(metrics_, "writer", options_.org_id, "postgres"),
                options_.dependency_reminder),
      kafka_("writer", "kafka", clock_,
             &core::DependencyUpGauge(metrics_, "writer", options_.org_id, "kafka"),
             options_.dependency_reminder) {}

std::string WriterService::NotReadyReason() const {
  core::NotReadyReasons reasons;
  if (!started_.load()) {
    reasons.Add("starting");
  } else if (!loop_running_.load()) {
    reasons.Add("consumer loop not running");
  }
  reasons.Add(postgres_.reason());
  reasons.Add(kafka_.reason());
  return std::move(reasons).str();
}

absl::Status WriterService::Run(std::stop_token stop) {
  auto log = core::Logger("writer");
  const std::string& org = options_.org_id;
  WriterMetrics metrics(metrics_);

  absl::StatusOr<std::unique_ptr<http::AdminServer>> started = http::StartAdminServer(
      metrics_, [this] { return NotReadyReason(); }, options_.metrics_host, options_.metrics_port);
  if (!started.ok()) return started.status();
  std::unique_ptr<http::AdminServer> admin = *std::move(started);
  if (admin) {
    bound_metrics_port_.store(admin->port());
    log->info("org={} admin server listening on port {}", org, admin->port());
  }

  // The control plane and the writer's own tables, retried while the database may come up.
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
        postgres::Connection::Connect(options_.postgres_url, {.state = &postgres_});
    absl::Status s = conn.ok() ? control::Migrate(**conn) : conn.status();
    if (s.ok()) s = EnsureWriterTables(**conn);
    if (s.ok()) break;
    if (!core::IsRetryable(s) || attempt >= 30) {
      if (admin) admin->Stop();
      return core::Annotate(s, "writer: prepare the database");
    }
    log->warn("org={} preparing the database failed, retrying: {}", org, std::string(s.message()));
    for (int i = 0; i < 10 && !stop.stop_requested(); ++i) clock_.SleepFor(milliseconds(100));
    if (stop.stop_requested()) {
      if (admin) admin->Stop();
      return absl::OkStatus();
    }
  }

  std::unique_ptr<WriterGrpcService> grpc_service;
  std::unique_ptr<grpc::Server> server;
  if (options_.grpc_port >= 0) {
    grpc_service =
        std::make_unique<WriterGrpcService>(options_.postgres_url, options_.schema, &metrics,
                                            options_.grpc_connections, &postgres_, clock_);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(StrCat(options_.grpc_host, ":", options_.grpc_port),
                             grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(grpc_service.get());
    server = builder.BuildAndStart();
    if (server == nullptr || port == 0) {
      if (admin) admin->Stop();
      return absl::UnavailableError(
          StrCat("writer: cannot listen on ", options_.grpc_host, ":", options_.grpc_port));
    }
    bound_grpc_port_.store(port);
    std::cout << "writer gRPC listening on " << options_.grpc_host << ":" << port << std::endl;
    log->info("org={} gRPC listening on {}:{}", org, options_.grpc_host, port);
  }

  ConsumerLoop loop({.postgres_url = options_.postgres_url,
                     .kafka_brokers = options_.kafka_brokers,
                     .org_id = org,
                     .schema = options_.schema,
                     .read_role = options_.read_role,
                     .batch_size = options_.batch_size,
                     .batch_wait = options_.batch_wait,
                     .session_timeout = options_.session_timeout,
                     .ddl_lock_timeout = options_.ddl_lock_timeout,
                     .schema_grace = options_.schema_grace,
                     .postgres_state = &postgres_},
                    metrics, clock_);
  // Both dependencies probed, so that an idle writer (nothing to apply) knows them too.
  absl::StatusOr<std::unique_ptr<kafka::BrokerProbe>> probe =
      kafka::BrokerProbe::Create(options_.kafka_brokers, StrCat("sfbridge-writer-probe-", org));
  absl::StatusOr<std::unique_ptr<postgres::Connection>> pg_probe =
      postgres::Connection::Connect(options_.postgres_url, {.state = &postgres_});
  if (!probe.ok() || !pg_probe.ok()) {
    if (server) server->Shutdown();
    if (admin) admin->Stop();
    return probe.ok() ? pg_probe.status() : probe.status();
  }
  std::jthread dependency_probe([this, &probe, &pg_probe](std::stop_token probe_stop) {
    core::ProbeUntilStopped(probe_stop, options_.dependency_probe, [&] {
      kafka_.Report((*probe)->Check(options_.dependency_probe));
      (void)(*pg_probe)->Exec("SELECT 1");  // reports to postgres_ itself
    });
  });
  absl::Status loop_result;
  std::atomic<bool> loop_done{false};
  std::stop_source loop_stop;
  std::thread loop_thread([&] {
    loop_result = loop.Run(loop_stop.get_token());
    loop_done.store(true);
  });
  started_.store(true);
  core::Gauge& ready_gauge =
      metrics_
          .GaugeFamily("sfbridge_writer_ready", "1 while /readyz answers ready, else 0.", {"org"})
          .WithLabels({org});

  while (!stop.stop_requested() && !loop_done.load()) {
    loop_running_.store(loop.running());
    ready_gauge.Set(ready() ? 1 : 0);
    batches_.store(loop.batches_applied());
    messages_.store(loop.messages_applied());
    std::this_thread::sleep_for(milliseconds(50));  // real time: paces this status poll
  }
  log->info("org={} stopping", org);
  started_.store(false);
  ready_gauge.Set(0);
  loop_stop.request_stop();
  loop_thread.join();
  batches_.store(loop.batches_applied());
  messages_.store(loop.messages_applied());
  if (server) {
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server->Wait();
  }
  if (admin) admin->Stop();
  if (!loop_result.ok())
    log->error("org={} consumer loop failed: {}", org, std::string(loop_result.message()));
  return loop_result;
}

}  // namespace sfbridge::writer
