#pragma once

// What the proxy's integration tests share: the test PostgreSQL's host and port, an in-process
// ProxyServer in front of it, libpq connections through it, and raw sockets for bad input.

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "common/core/metrics.h"
#include "proxy/proxy_server.h"
#include "proxy/write_path.h"

namespace sfbridge::proxy::testing {

struct HostPort {
  std::string host;
  int port = 0;
};
// The host and port of a postgresql:// URL (the test server's).
HostPort ParseUrlHostPort(const std::string& url);

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// A ProxyServer on a free port in front of the test PostgreSQL.
class InProcessProxy {
 public:
  explicit InProcessProxy(std::unique_ptr<WritePath> write_path, ProxyOptions options = {});
  ~InProcessProxy();
  uint16_t port() const { return server_->port(); }
  // A libpq conninfo for `database` through the proxy, as the test superuser.
  std::string ConnInfo(const std::string& database, const std::string& extra = "") const;
  ProxyServer& server() { return *server_; }
  core::MetricsRegistry& metrics() { return metrics_; }

 private:
  core::MetricsRegistry metrics_;
  std::unique_ptr<ProxyServer> server_;
};

// Connects with libpq; fails the test (and returns null) when the connection does not open.
PgConn Connect(const std::string& conninfo);
// Runs `sql` and returns its last result.
PgResult Exec(PGconn* conn, const std::string& sql);
// The first value of the first row of `sql`, "" on error.
std::string Scalar(PGconn* conn, const std::string& sql);
// The SQLSTATE of a result ("" when none).
std::string SqlState(const PGresult* result);

// A raw TCP connection to 127.0.0.1:port; -1 on failure.
int RawConnect(uint16_t port);
// Reads until EOF or `timeout_ms`; returns the bytes read. *closed tells whether EOF came.
std::string ReadUntilClosed(int fd, int timeout_ms, bool* closed);

// The value of one series in the registry's text output ("name{labels} value"), 0 when absent.
double MetricValue(core::MetricsRegistry& metrics, const std::string& series);

}  // namespace sfbridge::proxy::testing
