#pragma once

// The sfbridge-writer service: applies one org's Kafka stream to Postgres and serves the gRPC
// Writer.Apply for the proxy.
//
// On start: serves /metrics /healthz /readyz on metrics.host:metrics.port, migrates the control
// plane and creates the writer's tables, starts the gRPC server (sfbridge.v1.Writer and the
// standard grpc.health.v1.Health) on grpc.host:grpc.port and the consumer loop
// (consumer_loop.h) in a thread of its own. Stops when asked (the loop leaves its uncommitted
// batch for the next run) or when the loop fails for good.
//
// Outages. PostgreSQL lost: the loop retries its batch with backoff over a new connection, gRPC
// Apply requests reconnect their pooled connections (or answer UNAVAILABLE after a few tries).
// Kafka lost: librdkafka reconnects by itself; the writer probes the cluster every
// dependency_probe on a client of its own (kafka/probe.h). Each lost dependency is logged once
// when it goes, every dependency_reminder while away, and once when back (core/dependency.h),
// and shown by sfbridge_writer_dependency_up{org,dependency="postgres|kafka"}.
//
// Time: every wait the service's behaviour depends on (the schema grace, batch waits, backoffs
// and retries) runs on the injected core::Clock; only the pacing of its status polls is real.
//
// Ready (/readyz 200) once all of that runs and while PostgreSQL and Kafka are reachable;
// otherwise 503 with every reason.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/core/config.h"
#include "common/core/dependency.h"
#include "common/core/metrics.h"

namespace sfbridge::writer {

struct WriterOptions {
  std::string postgres_url;
  std::string kafka_brokers;
  std::string org_id;
  std::string schema = "salesforce";
  std::string read_role = "sfbridge_read";
  int batch_size = 5000;
  std::chrono::milliseconds batch_wait{200};
  std::chrono::milliseconds session_timeout{10'000};
  std::chrono::milliseconds ddl_lock_timeout{2000};
  std::chrono::milliseconds schema_grace{10'000};  // see consumer_loop.h
  std::string grpc_host = "0.0.0.0";
  int grpc_port = 50051;    // 0: any free port; negative: no gRPC server
  int metrics_port = 9464;  // 0: any free port; negative: no admin server
  std::string metrics_host = "0.0.0.0";
  int grpc_connections = 4;
  // Outages (see above; tests shorten them).
  std::chrono::milliseconds dependency_probe{2'000};
  std::chrono::milliseconds dependency_reminder{60'000};
};

// The keys of sfbridge-writer (logging keys not included).
core::ConfigSchema WriterConfigSchema();
absl::StatusOr<WriterOptions> WriterOptionsFromConfig(const core::Config& config);

class WriterService {
 public:
  // `clock` (not owned) must outlive the service.
  explicit WriterService(WriterOptions options, core::Clock& clock = core::SystemClock::Instance());

  // Runs until `stop` is requested (OK) or a failure that retrying cannot cure.
  absl::Status Run(std::stop_token stop);

  core::MetricsRegistry& metrics() { return metrics_; }
  uint16_t bound_metrics_port() const { return bound_metrics_port_.load(); }
  // The gRPC server's port once it listens; 0 before.
  int bound_grpc_port() const { return bound_grpc_port_.load(); }
  // What /readyz answers: empty when ready, else every reason it is not. Thread-safe.
  std::string NotReadyReason() const;
  bool ready() const { return NotReadyReason().empty(); }
  // Batches and messages the consumer loop has committed so far.
  int64_t batches_applied() const { return batches_.load(); }
  int64_t messages_applied() const { return messages_.load(); }

 private:
  WriterOptions options_;
  core::Clock& clock_;
  core::MetricsRegistry metrics_;
  std::atomic<uint16_t> bound_metrics_port_{0};
  std::atomic<int> bound_grpc_port_{0};
  std::atomic<bool> started_{false};  // everything runs (the loop may have stopped since)
  std::atomic<bool> loop_running_{false};
  core::DependencyState postgres_;
  core::DependencyState kafka_;
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> messages_{0};
};

}  // namespace sfbridge::writer
