#include "proxy/proxy_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/logging.h"
#include "common/core/service_main.h"
#include "common/core/strings.h"

namespace sfbridge::proxy {
namespace {

using core::ConfigType;
using core::StrCat;

// Splits "postgresql://host:port[/db][?params]" into host and port. Credentials are refused:
// each client's own user and password are relayed.
absl::Status ParseUpstreamUrl(std::string_view url, std::string* host, int* port) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("upstream.url: ", why, " (got \"", url, "\")"));
  };
  std::string_view rest = url;
  if (rest.starts_with("postgresql://")) {
    rest.remove_prefix(13);
  } else if (rest.starts_with("postgres://")) {
    rest.remove_prefix(11);
  } else {
    return bad("expected postgresql://host:port");
  }
  rest = rest.substr(0, rest.find_first_of("/?"));
  if (rest.find('@') != std::string_view::npos) {
    return bad("must not carry a user or password; clients authenticate as themselves");
  }
  std::string_view host_part = rest;
  std::string_view port_part;
  if (rest.starts_with("[")) {  // [v6 address]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unbalanced [ in host");
    host_part = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (after.starts_with(":")) port_part = after.substr(1);
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host_part = rest.substr(0, colon);
    port_part = rest.substr(colon + 1);
  }
  if (host_part.empty()) return bad("no host");
  *host = std::string(host_part);
  *port = 5432;
  if (!port_part.empty()) {
    int p = 0;
    for (char c : port_part) {
      if (c < '0' || c > '9' || p > 65535) return bad("the port is not a number in 1..65535");
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return bad("the port is not a number in 1..65535");
    *port = p;
  }
  return absl::OkStatus();
}

}  // namespace

core::ConfigSchema ProxyConfigSchema() {
  core::ConfigSchema s;
  s.Add(
      {.name = "listen.host", .help = "Address clients connect to", .default_value = "127.0.0.1"});
  s.Add({.name = "listen.port",
         .type = ConfigType::kInt,
         .help = "Port clients connect to; 0 picks a free one",
         .default_value = "6432",
         .min = 0,
         .max = 65535});
  s.Add({.name = "upstream.host",
         .help = "PostgreSQL server behind the proxy: host name, address, or a Unix socket "
                 "directory (starting with /)",
         .default_value = "127.0.0.1"});
  s.Add({.name = "upstream.port",
         .type = ConfigType::kInt,
         .help = "Port of the PostgreSQL server",
         .default_value = "5432",
         .min = 1,
         .max = 65535});
  s.Add({.name = "upstream.url",
         .help = "The PostgreSQL server as postgresql://host:port (no user or password: each "
                 "client's own are relayed); when set, overrides upstream.host and upstream.port"});
  s.Add({.name = "tls.cert",
         .help = "PEM certificate chain for TLS to clients; empty: SSLRequest is answered 'N'"});
  s.Add({.name = "tls.key", .help = "PEM private key of tls.cert"});
  s.Add({.name = "limits.max-message-bytes",
         .type = ConfigType::kInt,
         .help = "Largest client message accepted; a longer one closes that connection",
         .default_value = "67108864",
         .min = 1024,
         .max = 1073741824});
  s.Add({.name = "limits.max-connections",
         .type = ConfigType::kInt,
         .help = "Most client connections open at once; more are refused with SQLSTATE 53300",
         .default_value = "1000",
         .min = 1,
         .max = 100000});
  core::AddAdminServerKeys(s);
  return s;
}

absl::StatusOr<ProxyOptions> ProxyOptionsFromConfig(const core::Config& c) {
  ProxyOptions o;
  o.listen_host = c.GetString("listen.host");
  o.listen_port = static_cast<int>(c.GetInt("listen.port"));
  o.upstream_host = c.GetString("upstream.host");
  o.upstream_port = static_cast<int>(c.GetInt("upstream.port"));
  if (!c.GetString("upstream.url").empty()) {
    if (absl::Status s =
            ParseUpstreamUrl(c.GetString("upstream.url"), &o.upstream_host, &o.upstream_port);
        !s.ok()) {
      return s;
    }
  }
  o.tls_cert_file = c.GetString("tls.cert");
  o.tls_key_file = c.GetString("tls.key");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("tls.cert and tls.key: set both or neither");
  }
  o.max_message_size = static_cast<size_t>(c.GetInt("limits.max-message-bytes"));
  o.max_connections = static_cast<int>(c.GetInt("limits.max-connections"));
  o.metrics_port = static_cast<int>(c.GetInt("metrics.port"));
  o.metrics_host = c.GetString("metrics.host");
  return o;
}

ProxyServer::ProxyServer(ProxyOptions options, std::unique_ptr<WritePath> write_path,
                         core::MetricsRegistry& metrics)
    : options_(std::move(options)),
      write_path_(std::move(write_path)),
      connections_(
          metrics.GaugeFamily("sfbridge_proxy_connections", "Open client connections").Get()),
      accepted_(metrics
                    .CounterFamily("sfbridge_proxy_connections_total",
                                   "Client connections by outcome", {"outcome"})
                    .WithLabels({"accepted"})),
      rejected_(metrics
                    .CounterFamily("sfbridge_proxy_connections_total",
                                   "Client connections by outcome", {"outcome"})
                    .WithLabels({"rejected"})) {
  auto& statements = metrics.CounterFamily(
      "sfbridge_proxy_statements_total",
      "Statements by kind: passed through (a Query string passed whole counts once), run as "
      "mutations through the write path, refused by it",
      {"kind"});
  counters_.passthrough = &statements.WithLabels({"passthrough"});
  counters_.mutation = &statements.WithLabels({"mutation"});
  counters_.refused = &statements.WithLabels({"refused"});
  counters_.protocol_errors =
      &metrics
           .CounterFamily("sfbridge_proxy_protocol_errors_total",
                          "Client connections closed for bad input (length, framing, startup)")
           .Get();
  session_options_.upstream_host = options_.upstream_host;
  session_options_.upstream_port = static_cast<uint16_t>(options_.upstream_port);
  session_options_.max_message_size = options_.max_message_size;
}

ProxyServer::~ProxyServer() { Stop(); }

absl::Status ProxyServer::Start() {
  if (!options_.tls_cert_file.empty()) {
    absl::StatusOr<std::unique_ptr<TlsContext>> tls =
        TlsContext::FromFiles(options_.tls_cert_file, options_.tls_key_file);
    if (!tls.ok()) return tls.status();
    tls_ = *std::move(tls);
    session_options_.tls = tls_->get();
  }
  absl::StatusOr<Fd> listener =
      Listen(options_.listen_host, static_cast<uint16_t>(options_.listen_port), &port_);
  if (!listener.ok()) return listener.status();
  listener_ = *std::move(listener);
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) return absl::InternalError("cannot create a pipe");
  acceptor_ = std::thread([this] { AcceptLoop(); });
  core::Logger("proxy")->info("listening on {}:{} upstream={}:{} tls={}", options_.listen_host,
                              port_, options_.upstream_host, options_.upstream_port,
                              tls_ != nullptr);
  return absl::OkStatus();
}

void ProxyServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_ || stop_pipe_[1] < 0) {
      stopped_ = true;
      return;
    }
    stopped_ = true;
  }
  // Never read, the pipe stays readable: every poll() of the acceptor and sessions wakes.
  char c = 1;
  (void)!write(stop_pipe_[1], &c, 1);
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock lock(mu_);
  sessions_done_.wait(lock, [&] { return open_.load() == 0; });
  lock.unlock();
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
  stop_pipe_[0] = stop_pipe_[1] = -1;
  listener_.Reset();
}

absl::Status ProxyServer::CheckUpstream() const {
  absl::StatusOr<Fd> fd =
      Connect(options_.upstream_host, static_cast<uint16_t>(options_.upstream_port),
              std::chrono::milliseconds(2000));
  if (!fd.ok()) return fd.status();
  return absl::OkStatus();
}

void ProxyServer::Reject(Fd client) {
  rejected_.Increment();
  PgError e;
  e.severity = "FATAL";
  e.sqlstate = "53300";
  e.message = StrCat("sorry, too many clients already (the proxy's limit is ",
                     options_.max_connections, ")");
  std::string out;
  wire::AppendErrorResponse(&out, e);
  (void)!send(client.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  core::Logger("proxy")->warn("connection refused: {} open (limits.max-connections)",
                              options_.max_connections);
}

void ProxyServer::AcceptLoop() {
  auto log = core::Logger("proxy");
  while (true) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log->error("poll on the listening socket failed");
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    Fd client(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.valid()) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        log->warn("accept failed: {}", strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // e.g. out of descriptors
      }
      continue;
    }
    if (open_.load() >= options_.max_connections) {
      Reject(std::move(client));
      continue;
    }
    accepted_.Increment();
    open_.fetch_add(1);
    connections_.Add(1);
    uint64_t id = next_id_++;
    std::thread([this, id, fd = std::move(client)]() mutable {
      {
        Session session(std::move(fd), stop_pipe_[0], session_options_, *write_path_, cancel_keys_,
                        counters_, id);
        session.Run();
      }
      connections_.Add(-1);
      std::lock_guard lock(mu_);
      open_.fetch_sub(1);
      sessions_done_.notify_all();
    }).detach();
  }
}

}  // namespace sfbridge::proxy
