#pragma once

// The HTTP exchange the Salesforce client needs, behind an interface so that tests script the
// server's replies (tests/fakes/fake_http_transport.h) and production uses PocoTransport.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sfbridge::salesforce {

// Header lists keep their order and may repeat a name; names compare case-insensitively.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (ASCII case-insensitive), if any.
std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PATCH, DELETE, ...
  std::string url;             // absolute: scheme://host[:port]/path[?query]
  HttpHeaders headers;
  std::string body;                            // sent as is; empty for none
  std::chrono::milliseconds timeout{120'000};  // the whole exchange, connect included
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// Sends one request and reads its whole reply.
//
// Any HTTP reply, whatever its status, is an OK StatusOr: interpreting 4xx/5xx is the caller's
// job. A failure to exchange is an error: kUnavailable when the connection could not be made or
// broke (refused, reset, dropped, TLS failure), kDeadlineExceeded when `timeout` ran out. A
// request whose connection broke may or may not have reached the server, unless the failure is
// marked "not sent" (MarkNotSent): it came before any byte of the request left (connection
// refused, DNS or TLS handshake failure, a connect timeout), so the server cannot have seen it.
//
// Implementations are thread-safe: Send may be called from several threads at once.
inline constexpr char kNotSentPayloadUrl[] = "type.sfbridge/salesforce.NotSent";

// `status` (not OK) marked as a failure before the request was sent; payloads kept.
absl::Status MarkNotSent(absl::Status status);
// Whether `status` is marked so.
bool WasNotSent(const absl::Status& status);

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace sfbridge::salesforce
