#pragma once

// The HTTP endpoints every service serves beside its real work:
//   GET /metrics  the registry in the Prometheus text format
//   GET /healthz  200 while the process is alive (liveness)
//   GET /readyz   200 when the readiness check says ready, else 503 with the reason (readiness)

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/core/metrics.h"

namespace sfbridge::http {

// Ready when it returns OK; otherwise the status message is the reason shown by /readyz.
using ReadinessCheck = std::function<absl::Status()>;

class AdminServer {
 public:
  // `metrics` must outlive the server. `ready` is called on each /readyz request, from server
  // threads: it must be thread-safe.
  AdminServer(core::MetricsRegistry& metrics, ReadinessCheck ready);
  ~AdminServer();  // stops the server if it runs
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Listens on host:port (port 0 picks a free one) and serves in background threads.
  // Returns the bound port. Errors: kUnavailable when the address cannot be bound.
  absl::StatusOr<uint16_t> Start(const std::string& host, uint16_t port);
  void Stop();
  // The bound port while it serves, else 0.
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The admin server of a service whose readiness is a reason (empty: ready, else what /readyz
// shows), started on host:port; null when `port` < 0 (the endpoints are off). Errors: as Start.
absl::StatusOr<std::unique_ptr<AdminServer>> StartAdminServer(
    core::MetricsRegistry& metrics, std::function<std::string()> not_ready_reason,
    const std::string& host, int port);

}  // namespace sfbridge::http
