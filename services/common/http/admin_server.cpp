#include "common/http/admin_server.h"

#include "Poco/Net/HTTPRequestHandler.h"
#include "Poco/Net/HTTPRequestHandlerFactory.h"
#include "Poco/Net/HTTPServer.h"
#include "Poco/Net/HTTPServerParams.h"
#include "Poco/Net/HTTPServerRequest.h"
#include "Poco/Net/HTTPServerResponse.h"
#include "Poco/Net/NetException.h"
#include "Poco/Net/ServerSocket.h"
#include "common/core/strings.h"

namespace sfbridge::http {
namespace {

using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void Reply(HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
           const std::string& content_type, const std::string& body) {
  response.setStatus(status);
  response.setContentType(content_type);
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send() << body;
}

class Handler final : public HTTPRequestHandler {
 public:
  Handler(core::MetricsRegistry& metrics, const ReadinessCheck& ready)
      : metrics_(metrics), ready_(ready) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const std::string path = request.getURI().substr(0, request.getURI().find('?'));
    if (request.getMethod() != "GET" && request.getMethod() != "HEAD") {
      Reply(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain", "use GET\n");
    } else if (path == "/metrics") {
      Reply(response, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
            metrics_.RenderText());
    } else if (path == "/healthz") {
      Reply(response, HTTPResponse::HTTP_OK, "text/plain", "ok\n");
    } else if (path == "/readyz") {
      absl::Status status = ready_ ? ready_() : absl::OkStatus();
      if (status.ok()) {
        Reply(response, HTTPResponse::HTTP_OK, "text/plain", "ready\n");
      } else {
        Reply(response, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "text/plain",
              core::StrCat("not ready: ", status.message(), "\n"));
      }
    } else {
      Reply(response, HTTPResponse::HTTP_NOT_FOUND, "text/plain",
            "not found; try /metrics, /healthz or /readyz\n");
    }
  }

 private:
  core::MetricsRegistry& metrics_;
  const ReadinessCheck& ready_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(core::MetricsRegistry& metrics, const ReadinessCheck& ready)
      : metrics_(metrics), ready_(ready) {}
  HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(metrics_, ready_);
  }

 private:
  core::MetricsRegistry& metrics_;
  const ReadinessCheck& ready_;
};

}  // namespace

struct AdminServer::Impl {
  core::MetricsRegistry& metrics;
  ReadinessCheck ready;
  std::unique_ptr<Poco::Net::HTTPServer> server;
};

AdminServer::AdminServer(core::MetricsRegistry& metrics, ReadinessCheck ready)
    : impl_(new Impl{metrics, std::move(ready), nullptr}) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<uint16_t> AdminServer::Start(const std::string& host, uint16_t port) {
  try {
    // No SO_REUSEPORT: a second server on a taken port must fail, not share it.
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(host, port), /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(64);
    auto* params = new Poco::Net::HTTPServerParams();
    params->setMaxThreads(4);
    params->setKeepAlive(true);
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(
        new Factory(impl_->metrics, impl_->ready), socket, params);
    impl_->server->start();
    return impl_->server->port();
  } catch (const Poco::Exception& e) {
    return absl::UnavailableError(
        core::StrCat("cannot serve metrics on ", host, ":", port, ": ", e.displayText()));
  }
}

void AdminServer::Stop() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
    impl_->server.reset();
  }
}

uint16_t AdminServer::port() const {
  return impl_ && impl_->server ? static_cast<uint16_t>(impl_->server->port()) : 0;
}

absl::StatusOr<std::unique_ptr<AdminServer>> StartAdminServer(
    core::MetricsRegistry& metrics, std::function<std::string()> not_ready_reason,
    const std::string& host, int port) {
  if (port < 0) return nullptr;
  auto admin = std::make_unique<AdminServer>(
      metrics, [reason = std::move(not_ready_reason)]() -> absl::Status {
        std::string why = reason();
        return why.empty() ? absl::OkStatus() : absl::UnavailableError(why);
      });
  absl::StatusOr<uint16_t> bound = admin->Start(host, static_cast<uint16_t>(port));
  if (!bound.ok()) return bound.status();
  return admin;
}

}  // namespace sfbridge::http
