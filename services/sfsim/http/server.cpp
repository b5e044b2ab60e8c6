#include "sfsim/http/server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <istream>
#include <thread>

#include "Poco/Net/Context.h"
#include "Poco/Net/HTTPRequestHandler.h"
#include "Poco/Net/HTTPRequestHandlerFactory.h"
#include "Poco/Net/HTTPServer.h"
#include "Poco/Net/HTTPServerParams.h"
#include "Poco/Net/HTTPServerRequest.h"
#include "Poco/Net/HTTPServerRequestImpl.h"
#include "Poco/Net/HTTPServerResponse.h"
#include "Poco/Net/SecureServerSocket.h"
#include "Poco/Net/ServerSocket.h"
#include "Poco/URI.h"
#include "common/core/json_writer.h"
#include "common/core/strings.h"

namespace sfbridge::sfsim {
namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// A body over the limit is still read (and thrown away) up to this size before the 413 goes out:
// a client writes its whole body before it reads the reply, and closing on unread data resets
// the connection, so the client would see a broken pipe instead of the 413.
constexpr size_t kMaxDrainBytes = 256 * 1024 * 1024;

void Drain(std::istream& body, size_t limit) {
  char buf[65536];
  size_t total = 0;
  while (total < limit && (body.read(buf, sizeof buf) || body.gcount() > 0)) {
    total += static_cast<size_t>(body.gcount());
  }
}

class Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(const Server::Handler& handler, size_t max_body)
      : handler_(handler), max_body_(max_body) {}

  void handleRequest(HTTPServerRequest& in, HTTPServerResponse& out) override {
    Request request;
    request.method = in.getMethod();
    const std::string& uri = in.getURI();
    size_t q = uri.find('?');
    request.path = UrlDecode(std::string_view(uri).substr(0, q), false);
    if (q != std::string::npos)
      request.query = ParseFormEncoded(std::string_view(uri).substr(q + 1));
    for (const auto& [name, value] : in) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      request.headers[lower] = value;
    }
    Response response;
    if (in.hasContentLength() && static_cast<size_t>(in.getContentLength64()) > max_body_) {
      Drain(in.stream(), kMaxDrainBytes);
      response = TooLarge();
      out.setKeepAlive(false);
    } else {
      std::istream& body = in.stream();
      char buf[16384];
      bool too_large = false;
      while (body.read(buf, sizeof buf) || body.gcount() > 0) {
        request.body.append(buf, static_cast<size_t>(body.gcount()));
        if (request.body.size() > max_body_) {
          too_large = true;
          Drain(body, kMaxDrainBytes);
          out.setKeepAlive(false);
          break;
        }
      }
      response = too_large ? TooLarge() : handler_(request);
    }
    if (response.drop_connection) {
      auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(in);
      impl.socket().shutdown();
      impl.socket().close();
      return;
    }
    out.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
    for (const auto& [name, value] : response.headers) out.set(name, value);
    if (response.status == 204) {
      out.setContentLength(0);
      out.send();
      return;
    }
    if (!response.content_type.empty()) out.setContentType(response.content_type);
    out.setContentLength(static_cast<std::streamsize>(response.body.size()));
    if (response.cut_body) {
      std::ostream& stream = out.send();
      stream.write(response.body.data(), static_cast<std::streamsize>(response.body.size() / 2));
      stream.flush();
      auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(in);
      impl.socket().shutdown();
      impl.socket().close();
      return;
    }
    out.send().write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
  }

 private:
  Response TooLarge() const {
    Response r = ErrorResponse(
        413, "REQUEST_ENTITY_TOO_LARGE",
        core::StrCat("The request body exceeds the maximum of ", max_body_, " bytes"));
    return r;
  }
  const Server::Handler& handler_;
  size_t max_body_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(const Server::Handler& handler, size_t max_body)
      : handler_(handler), max_body_(max_body) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(handler_, max_body_);
  }

 private:
  const Server::Handler& handler_;
  size_t max_body_;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Server::Handler user_handler;
  Server::Handler handler;  // user_handler, counted in `active`
  std::unique_ptr<Poco::Net::HTTPServer> server;
  uint16_t port = 0;
  std::atomic<int> active{0};  // handlers running now
};

Server::Server(ServerOptions options, Handler handler) : impl_(new Impl) {
  impl_->options = std::move(options);
  impl_->user_handler = std::move(handler);
  Impl* impl = impl_.get();
  impl_->handler = [impl](const Request& request) {
    struct Active {
      std::atomic<int>& n;
      explicit Active(std::atomic<int>& count) : n(count) { ++n; }
      ~Active() { --n; }
    } active(impl->active);
    return impl->user_handler(request);
  };
}

Server::~Server() { Stop(); }

absl::StatusOr<uint16_t> Server::Start() {
  const ServerOptions& o = impl_->options;
  bool tls = !o.tls_cert_file.empty() && !o.tls_key_file.empty();
  try {
    Poco::Net::SocketAddress address(o.host, o.port);
    std::unique_ptr<Poco::Net::ServerSocket> socket;
    if (tls) {
      Poco::Net::Context::Ptr context =
          new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, o.tls_key_file,
                                 o.tls_cert_file, "", Poco::Net::Context::VERIFY_NONE);
      auto secure = std::make_unique<Poco::Net::SecureServerSocket>(context);
      secure->bind(address, true, false);
      secure->listen(128);
      socket = std::move(secure);
    } else {
      socket = std::make_unique<Poco::Net::ServerSocket>();
      socket->bind(address, true, false);
      socket->listen(128);
    }
    auto* params = new Poco::Net::HTTPServerParams();
    params->setMaxThreads(o.threads);
    params->setMaxQueued(256);
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);
    params->setKeepAliveTimeout(Poco::Timespan(30, 0));
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(
        new Factory(impl_->handler, o.max_body_bytes), *socket, params);
    impl_->server->start();
    impl_->port = impl_->server->port();
    return impl_->port;
  } catch (const Poco::Exception& e) {
    if (tls) {
      return absl::InvalidArgumentError(
          core::StrCat("sfsim: cannot serve TLS on ", o.host, ":", o.port, ": ", e.displayText()));
    }
    return absl::UnavailableError(
        core::StrCat("sfsim: cannot listen on ", o.host, ":", o.port, ": ", e.displayText()));
  }
}

void Server::Stop() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
    // stopAll closes the connections but does not wait for a handler still running (one in
    // modelled latency, say): what it uses must outlive it.
    while (impl_->active.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->server.reset();
  }
}

std::string Server::BaseUrl() const {
  bool tls = !impl_->options.tls_cert_file.empty() && !impl_->options.tls_key_file.empty();
  return core::StrCat(tls ? "https://" : "http://", impl_->options.host, ":", impl_->port);
}

}  // namespace sfbridge::sfsim
