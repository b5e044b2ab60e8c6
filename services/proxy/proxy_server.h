#pragma once

// sfbridge-proxy: a PostgreSQL wire-protocol proxy in front of one Postgres server. Accepts
// clients on listen.host:listen.port, gives each a thread and a server connection of its own
// (session.h), and hands statements that may write to the WritePath.
//
// Metrics:
//   sfbridge_proxy_connections                         open client connections
//   sfbridge_proxy_connections_total{outcome}          accepted | rejected (max.connections)
//   sfbridge_proxy_statements_total{kind}              passthrough | mutation | refused
//   sfbridge_proxy_protocol_errors_total               connections closed for bad input

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/config.h"
#include "common/core/metrics.h"
#include "proxy/cancel_keys.h"
#include "proxy/session.h"
#include "proxy/stream.h"
#include "proxy/write_path.h"

namespace sfbridge::proxy {

struct ProxyOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 6432;  // 0: any free port
  std::string upstream_host = "127.0.0.1";
  int upstream_port = 5432;
  std::string tls_cert_file;  // both empty: no TLS (SSLRequest answered 'N')
  std::string tls_key_file;
  size_t max_message_size = 64 << 20;
  int max_connections = 1000;
  std::string metrics_host = "0.0.0.0";
  int metrics_port = 9466;  // 0: any free port; negative: no admin server
};

// The keys of sfbridge-proxy (logging keys not included).
core::ConfigSchema ProxyConfigSchema();
// Errors: kInvalidArgument naming the key (e.g. an upstream URL with credentials in it).
absl::StatusOr<ProxyOptions> ProxyOptionsFromConfig(const core::Config& config);

class ProxyServer {
 public:
  // `metrics` must outlive the server.
  ProxyServer(ProxyOptions options, std::unique_ptr<WritePath> write_path,
              core::MetricsRegistry& metrics);
  ~ProxyServer();  // Stop()s
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  // Loads TLS files, listens and accepts in a background thread. Errors: kInvalidArgument for
  // unusable TLS files, kUnavailable when the address cannot be bound.
  absl::Status Start();
  // The port clients connect to, once started.
  uint16_t port() const { return port_; }
  // Stops accepting, ends every session (clients see their connection close) and waits for
  // their threads.
  void Stop();

  // OK when a TCP connection to the upstream server can be opened (readiness).
  absl::Status CheckUpstream() const;
  int open_connections() const { return open_.load(); }

 private:
  void AcceptLoop();
  void Reject(Fd client);

  ProxyOptions options_;
  std::unique_ptr<WritePath> write_path_;
  core::Gauge& connections_;
  core::Counter& accepted_;
  core::Counter& rejected_;
  SessionCounters counters_;
  SessionOptions session_options_;
  std::unique_ptr<TlsContext> tls_;
  CancelKeys cancel_keys_;
  Fd listener_;
  uint16_t port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::thread acceptor_;
  std::atomic<int> open_{0};
  std::mutex mu_;
  std::condition_variable sessions_done_;
  uint64_t next_id_ = 1;
  bool stopped_ = false;
};

}  // namespace sfbridge::proxy
