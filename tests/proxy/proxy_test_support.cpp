#include "tests/proxy/proxy_test_support.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "tests/harness/test_env.h"

namespace sfbridge::proxy::testing {

HostPort ParseUrlHostPort(const std::string& url) {
  // postgresql://user@host:port/db
  std::string rest = url.substr(url.find("://") + 3);
  rest = rest.substr(rest.find('@') + 1);
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  return {rest.substr(0, colon), std::stoi(rest.substr(colon + 1))};
}

InProcessProxy::InProcessProxy(std::unique_ptr<WritePath> write_path, ProxyOptions options) {
  HostPort pg = ParseUrlHostPort(sfbridge::testing::PostgresServerUrl());
  options.listen_host = "127.0.0.1";
  options.listen_port = 0;
  options.upstream_host = pg.host;
  options.upstream_port = pg.port;
  server_ = std::make_unique<ProxyServer>(options, std::move(write_path), metrics_);
  absl::Status started = server_->Start();
  if (!started.ok()) ADD_FAILURE() << started;
}

InProcessProxy::~InProcessProxy() { server_->Stop(); }

std::string InProcessProxy::ConnInfo(const std::string& database, const std::string& extra) const {
  std::ostringstream s;
  s << "host=127.0.0.1 port=" << port() << " user=postgres dbname=" << database
    << " sslmode=disable connect_timeout=20 " << extra;
  return s.str();
}

PgConn Connect(const std::string& conninfo) {
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect (" << conninfo << "): " << PQerrorMessage(conn.get());
    return nullptr;
  }
  return conn;
}

PgResult Exec(PGconn* conn, const std::string& sql) { return PgResult(PQexec(conn, sql.c_str())); }

std::string Scalar(PGconn* conn, const std::string& sql) {
  PgResult r = Exec(conn, sql);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) < 1) return "";
  return PQgetvalue(r.get(), 0, 0);
}

std::string SqlState(const PGresult* result) {
  const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return s ? s : "";
}

int RawConnect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string ReadUntilClosed(int fd, int timeout_ms, bool* closed) {
  std::string out;
  *closed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return out;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

double MetricValue(core::MetricsRegistry& metrics, const std::string& series) {
  std::istringstream text(metrics.RenderText());
  std::string line;
  while (std::getline(text, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

}  // namespace sfbridge::proxy::testing
