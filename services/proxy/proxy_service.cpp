#include "proxy/proxy_service.h"

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>

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
  std::unique_ptr<http::AdminServer> admin;
  if (options.metrics_port >= 0) {
    admin = std::make_unique<http::AdminServer>(metrics, [&server] {
      absl::Status upstream = server.CheckUpstream();
      if (!upstream.ok()) {
        return absl::UnavailableError(
            std::string("PostgreSQL unreachable: ") +
            std::string(upstream.message().data(), upstream.message().size()));
      }
      return absl::OkStatus();
    });
    absl::StatusOr<uint16_t> port =
        admin->Start(options.metrics_host, static_cast<uint16_t>(options.metrics_port));
    if (!port.ok()) return port.status();
    log->info("admin server listening on port {}", *port);
    std::cout << "sfbridge-proxy admin on " << options.metrics_host << ":" << *port << std::endl;
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
