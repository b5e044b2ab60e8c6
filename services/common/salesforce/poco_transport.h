#pragma once

// The real HttpTransport, on Poco's HTTP(S) client sessions.
//
// Connections are kept alive and reused per scheme+host+port (at most max_idle_per_host idle
// ones each); an idle connection the server has already closed is not reused. An idempotent
// request (GET, HEAD, PUT, DELETE, OPTIONS) that fails on a reused connection before any reply
// arrived (the server closed it while idle) is sent once more on a fresh connection; a POST or
// PATCH is not, since the server may have acted on it. TLS verifies the server's
// certificate and host name against the system CA store, plus `extra_ca_file` when given (for
// test servers with their own CA). Poco's exceptions never escape: they become statuses as the
// HttpTransport contract says, a certificate that does not verify being kFailedPrecondition.
//
// Thread-safe: each Send uses a connection of its own.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/salesforce/http_transport.h"

namespace sfbridge::salesforce {

struct PocoTransportOptions {
  std::string extra_ca_file;  // PEM file of extra trusted CAs; empty for none
  int max_idle_per_host = 4;
  std::chrono::seconds idle_timeout{30};  // an idle connection older than this is not reused
};

class PocoTransport final : public HttpTransport {
 public:
  // Errors: kInvalidArgument when the TLS context cannot be set up (unreadable CA file).
  static absl::StatusOr<std::unique_ptr<PocoTransport>> Create(PocoTransportOptions options);
  ~PocoTransport() override;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  struct Impl;
  explicit PocoTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfbridge::salesforce
