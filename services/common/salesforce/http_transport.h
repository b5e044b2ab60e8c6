#pragma once

// The HTTP exchange the Salesforce client needs, behind an interface so that tests script the
// server's replies (tests/fakes/fake_http_transport.h) and production uses PocoTransport.

#include <chrono>
#include <cstddef>
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

struct HttpResponse;

// Takes a successful (2xx) reply's body piece by piece as it arrives, for bodies too large to
// hold whole (Bulk results pages). Not called for other replies: their bodies are read whole.
class HttpBodySink {
 public:
  virtual ~HttpBodySink() = default;
  // A 2xx body begins; `head` has the status and headers, no body. Called again when the
  // request is sent again after its body broke off: what Take had before is to be forgotten.
  virtual absl::Status Begin(const HttpResponse& head) = 0;
  // The next piece of the body, in order (at most kBodyPiece bytes).
  virtual absl::Status Take(std::string_view piece) = 0;
  // Once the body has ended as far as HTTP tells: false when what it carries says it is not
  // whole (a count in its headers not reached). A chunked body that breaks off between chunks
  // ends like a whole one; the Client then handles it as a dropped connection.
  virtual bool Whole() { return true; }
};
inline constexpr size_t kBodyPiece = 64 * 1024;

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PATCH, DELETE, ...
  std::string url;             // absolute: scheme://host[:port]/path[?query]
  HttpHeaders headers;
  std::string body;                            // sent as is; empty for none
  std::chrono::milliseconds timeout{120'000};  // the whole exchange, connect included
  HttpBodySink* body_sink = nullptr;           // not owned; null: a 2xx body is read whole
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;  // empty when it went to the request's body_sink
  // The body went to the request's body_sink (a transport may also read it whole: FeedBodySink).
  bool body_streamed = false;
  // The sink's refusal of a piece: the rest of the body was not read (nor will be retried).
  absl::Status sink_error;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// Hands a body read whole to `sink` as a streaming transport would (Begin, then pieces), and
// empties it; for transports that do not stream. Returns the sink's first error.
absl::Status FeedBodySink(HttpResponse& response, HttpBodySink& sink);

// Sends one request and reads its whole reply (a 2xx body through the request's body_sink when
// it has one: a sink's error ends the exchange, in HttpResponse::sink_error).
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
