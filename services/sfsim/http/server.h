#pragma once

// The HTTP(S) server of sfsim: Poco underneath, every request handed to one Handler as a
// Request, its Response written back. Bodies above `max_body_bytes` are refused with 413 without
// being kept: up to 256 MiB of such a body is read and discarded first, so that a client still
// sending it gets the 413 rather than a reset connection, and the connection is then closed. A
// Response with drop_connection closes the socket unanswered; with cut_body, after the head and
// half the body.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sfsim/http/http_types.h"

namespace sfbridge::sfsim {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;          // 0: any free port
  std::string tls_cert_file;  // PEM; TLS when both are set
  std::string tls_key_file;
  int threads = 32;
  size_t max_body_bytes = 32 * 1024 * 1024;
};

class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  // `handler` is called from many threads at once.
  Server(ServerOptions options, Handler handler);
  // Stops, as Stop().
  ~Server();

  // Errors: kUnavailable when the address cannot be bound, kInvalidArgument for unusable TLS files.
  absl::StatusOr<uint16_t> Start();
  // Closes every connection and returns once no handler runs any more (a handler sleeping
  // through modelled latency is waited for).
  void Stop();
  // http(s)://host:port
  std::string BaseUrl() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfbridge::sfsim
