#pragma once

// The sfbridge-proxy process around ProxyServer: the admin server (/metrics, /healthz, /readyz,
// ready while a connection to the upstream PostgreSQL opens: probed at start and every 2 s, shown
// by sfbridge_proxy_dependency_up{dependency="postgres"}, its loss and return logged once each),
// the proxy itself, and a clean stop.

#include <functional>
#include <memory>
#include <stop_token>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/metrics.h"
#include "proxy/proxy_server.h"
#include "proxy/write_path.h"

namespace sfbridge::proxy {

// Makes the write path once the process's metrics registry exists (the write path's metrics are
// served with the proxy's).
using WritePathFactory =
    std::function<absl::StatusOr<std::unique_ptr<WritePath>>(core::MetricsRegistry& metrics)>;

// Runs until `stop` is requested. Prints "sfbridge-proxy listening on HOST:PORT" on stdout once
// clients can connect. Errors: the write path could not be made; the server could not start
// (bad TLS files, address in use).
absl::Status RunProxyService(const ProxyOptions& options, const WritePathFactory& make_write_path,
                             std::stop_token stop);

}  // namespace sfbridge::proxy
