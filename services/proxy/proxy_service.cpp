#include "proxy/proxy_service.h"

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/core/dependency.h"
#include "common/core/logging.h"
#include "common/core/metrics.h"
#include "common/http/admin_server.h"

namespace sfbridge::proxy {

absl::Status RunProxyService(const ProxyOptions& options, const WritePathFactory& make_write_path,
                             std::stop_token stop) {
  auto log = core::Logger("proxy");
  core::MetricsRegistry metrics;
  absl::StatusOr<std::unique_ptr<WritePath>> write_path = make_write_path(metrics);
  if (!write_path.ok()) return write_path.status();
  ProxyServer server(options, *std::move(write_path), metrics);
  // PostgreSQL is probed every 2 s (a TCP connect: the proxy holds no credentials of its own);
  // its loss and return are logged once each, with a reminder every minute in between.
  core::DependencyState postgres(
      "proxy", "postgres", core::SystemClock::Instance(),
      &metrics
           .GaugeFamily("sfbridge_proxy_dependency_up",
                        "1 while the dependency (postgres) is reachable, 0 while it is not.",
                        {"dependency"})
           .WithLabels({"postgres"}));
  core::Gauge& ready =
      metrics.GaugeFamily("sfbridge_proxy_ready", "1 while /readyz answers ready, else 0.").Get();
  auto probe = [&server, &postgres, &ready] {
    postgres.Report(server.CheckUpstream());
    ready.Set(postgres.up() ? 1 : 0);
  };
  probe();  // before the admin server answers /readyz
  std::jthread prober([&probe](std::stop_token probe_stop) {
    core::ProbeUntilStopped(probe_stop, std::chrono::seconds(2), probe);
  });
  absl::StatusOr<std::unique_ptr<http::AdminServer>> started = http::StartAdminServer(
      metrics, [&postgres] { return postgres.reason(); }, options.metrics_host,
      options.metrics_port);
  if (!started.ok()) return started.status();
  std::unique_ptr<http::AdminServer> admin = *std::move(started);
  if (admin) {
    log->info("admin server listening on port {}", admin->port());
    std::cout << "sfbridge-proxy admin on " << options.metrics_host << ":" << admin->port()
              << std::endl;
  }
  if (absl::Status s = server.Start(); !s.ok()) {
    if (admin) admin->Stop();
    return s;
  }
  std::cout << "sfbridge-proxy listening on " << options.listen_host << ":" << server.port()
            << std::endl;
  std::mutex mu;
  std::condition_variable cv;
  std::stop_callback wake(stop, [&] {
    std::lock_guard lock(mu);
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop.stop_requested(); });
  }
  log->info("stopping: {} client connections open", server.open_connections());
  server.Stop();
  if (admin) admin->Stop();
  return absl::OkStatus();
}

}  // namespace sfbridge::proxy
