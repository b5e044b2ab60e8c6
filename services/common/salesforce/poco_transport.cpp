#include "common/salesforce/poco_transport.h"

#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "Poco/Exception.h"
#include "Poco/Net/Context.h"
#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/Net/HTTPSClientSession.h"
#include "Poco/Net/NetException.h"
#include "Poco/Net/SSLException.h"
#include "Poco/Net/SSLManager.h"
#include "Poco/StreamCopier.h"
#include "Poco/URI.h"
#include "common/core/strings.h"

namespace sfbridge::salesforce {
namespace {

struct IdleSession {
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  std::chrono::steady_clock::time_point since;
};

// Where a request goes: the key of the connection pool, and the path it asks for.
struct Target {
  std::string scheme;
  std::string host;
  uint16_t port = 0;
  std::string path_and_query;
  std::string Key() const { return core::StrCat(scheme, "://", host, ":", port); }
};

absl::StatusOr<Target> ParseTarget(const std::string& url) {
  try {
    Poco::URI uri(url);
    Target t;
    t.scheme = uri.getScheme();
    if (t.scheme != "http" && t.scheme != "https") {
      return absl::InvalidArgumentError(core::StrCat("unsupported URL scheme: ", t.scheme));
    }
    t.host = uri.getHost();
    if (t.host.empty()) return absl::InvalidArgumentError("URL without a host");
    t.port = uri.getPort();
    t.path_and_query = uri.getPathEtc();
    if (t.path_and_query.empty()) t.path_and_query = "/";
    return t;
  } catch (const Poco::Exception& e) {
    return absl::InvalidArgumentError(core::StrCat("bad URL: ", e.displayText()));
  }
}

// Failures on a kept-alive connection that mean "the server had closed it": worth one resend.
bool IsStaleConnection(const Poco::Exception& e) {
  return dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Net::ConnectionAbortedException*>(&e) != nullptr ||
         dynamic_cast<const Poco::Net::MessageException*>(&e) != nullptr;
}

// HTTP methods that may be sent twice with the effect of once (RFC 9110 §9.2.2). A POST or PATCH
// that broke after it was written may have been applied: it is never resent here.
bool IsIdempotentMethod(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

// Whether an idle kept-alive connection was closed by the server (or is otherwise unusable). An
// idle HTTP/1.1 connection has nothing to read: readable means end of stream or unasked data.
bool LooksClosed(Poco::Net::HTTPClientSession& session) {
  try {
    return !session.connected() ||
           session.socket().poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ);
  } catch (const Poco::Exception&) {
    return true;
  }
}

// A server certificate that does not verify. OpenSSL refuses an untrusted chain during the
// handshake, which Poco reports as a plain SSLException ("certificate verify failed"); Poco's own
// host name check throws CertificateValidationException.
bool IsCertificateFailure(const Poco::Exception& e) {
  if (dynamic_cast<const Poco::Net::CertificateValidationException*>(&e) != nullptr ||
      dynamic_cast<const Poco::Net::InvalidCertificateException*>(&e) != nullptr) {
    return true;
  }
  return dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr &&
         e.displayText().find("certificate verify failed") != std::string::npos;
}

absl::Status ToStatus(const Poco::Exception& e, const Target& target) {
  const std::string where = core::StrCat(target.scheme, "://", target.host, ":", target.port);
  if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) {
    return absl::DeadlineExceededError(core::StrCat(where, ": timed out: ", e.displayText()));
  }
  if (IsCertificateFailure(e)) {
    return absl::FailedPreconditionError(
        core::StrCat(where, ": TLS certificate not trusted: ", e.displayText()));
  }
  return absl::UnavailableError(core::StrCat(where, ": ", e.displayText()));
}

}  // namespace

struct PocoTransport::Impl {
  PocoTransportOptions options;
  Poco::Net::Context::Ptr tls;
  std::mutex mu;
  std::map<std::string, std::vector<IdleSession>> idle;  // guarded by mu

  // An idle session for `target`, or nullptr.
  std::unique_ptr<Poco::Net::HTTPClientSession> TakeIdle(const Target& target) {
    std::lock_guard lock(mu);
    auto it = idle.find(target.Key());
    if (it == idle.end()) return nullptr;
    const auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
      IdleSession s = std::move(it->second.back());
      it->second.pop_back();
      if (now - s.since < options.idle_timeout && !LooksClosed(*s.session)) {
        return std::move(s.session);
      }
    }
    return nullptr;
  }

  void GiveBack(const Target& target, std::unique_ptr<Poco::Net::HTTPClientSession> session) {
    std::lock_guard lock(mu);
    std::vector<IdleSession>& sessions = idle[target.Key()];
    if (static_cast<int>(sessions.size()) >= options.max_idle_per_host) return;
    sessions.push_back({std::move(session), std::chrono::steady_clock::now()});
  }

  std::unique_ptr<Poco::Net::HTTPClientSession> NewSession(const Target& target) {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (target.scheme == "https") {
      session = std::make_unique<Poco::Net::HTTPSClientSession>(target.host, target.port, tls);
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(target.host, target.port);
    }
    session->setKeepAlive(true);
    session->setKeepAliveTimeout(Poco::Timespan(options.idle_timeout.count(), 0));
    return session;
  }

  // One exchange on `session`; throws Poco exceptions. `*sent` turns true once the connection
  // is up and the request's head is written (before that, the server cannot have seen it).
  HttpResponse Exchange(Poco::Net::HTTPClientSession& session, const Target& target,
                        const HttpRequest& request, bool* sent) {
    const long long timeout_us =
        std::chrono::duration_cast<std::chrono::microseconds>(request.timeout).count();
    session.setTimeout(Poco::Timespan(timeout_us));
    Poco::Net::HTTPRequest poco_request(request.method, target.path_and_query,
                                        Poco::Net::HTTPMessage::HTTP_1_1);
    poco_request.setKeepAlive(true);
    for (const auto& [name, value] : request.headers) poco_request.add(name, value);
    if (!request.body.empty() || request.method == "POST" || request.method == "PATCH" ||
        request.method == "PUT") {
      poco_request.setContentLength(static_cast<std::streamsize>(request.body.size()));
    }
    std::ostream& out = session.sendRequest(poco_request);
    *sent = true;
    out.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
    Poco::Net::HTTPResponse poco_response;
    std::istream& in = session.receiveResponse(poco_response);
    HttpResponse response;
    response.status = static_cast<int>(poco_response.getStatus());
    for (const auto& [name, value] : poco_response) response.headers.emplace_back(name, value);
    int64_t received = 0;
    if (request.body_sink != nullptr && response.status >= 200 && response.status < 300) {
      response.body_streamed = true;
      response.sink_error = request.body_sink->Begin(response);
      std::string piece(kBodyPiece, '\0');
      while (response.sink_error.ok() && in) {
        in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
        const std::streamsize n = in.gcount();
        if (n <= 0) break;
        received += n;
        response.sink_error =
            request.body_sink->Take(std::string_view(piece.data(), static_cast<size_t>(n)));
      }
      // A refused piece leaves the rest unread: the caller drops the connection.
      if (!response.sink_error.ok()) return response;
    } else {
      std::ostringstream body;
      Poco::StreamCopier::copyStream(in, body);
      response.body = std::move(body).str();
      received = static_cast<int64_t>(response.body.size());
    }
    // A failure while reading the body does not throw: the stream swallows it (badbit), and
    // Poco's reader of a fixed-length body ends quietly when the connection closes early.
    if (in.bad()) throw Poco::Net::MessageException("the reply's body broke off");
    if (poco_response.hasContentLength() && received < poco_response.getContentLength64()) {
      throw Poco::Net::MessageException(core::StrCat("connection closed after ", received, " of ",
                                                     poco_response.getContentLength64(),
                                                     " body bytes"));
    }
    return response;
  }
};

absl::StatusOr<std::unique_ptr<PocoTransport>> PocoTransport::Create(PocoTransportOptions options) {
  static std::once_flag ssl_init;
  std::call_once(ssl_init, [] { Poco::Net::initializeSSL(); });
  auto impl = std::make_unique<Impl>();
  try {
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
    params.loadDefaultCAs = true;
    params.caLocation = options.extra_ca_file;
    params.cipherList = "HIGH:!aNULL:!MD5";
    impl->tls = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    impl->tls->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  } catch (const Poco::Exception& e) {
    return absl::InvalidArgumentError(core::StrCat("TLS setup failed (extra CA file '",
                                                   options.extra_ca_file, "'): ", e.displayText()));
  }
  impl->options = std::move(options);
  return std::unique_ptr<PocoTransport>(new PocoTransport(std::move(impl)));
}

PocoTransport::PocoTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PocoTransport::~PocoTransport() = default;

absl::StatusOr<HttpResponse> PocoTransport::Send(const HttpRequest& request) {
  absl::StatusOr<Target> target = ParseTarget(request.url);
  if (!target.ok()) return target.status();
  std::unique_ptr<Poco::Net::HTTPClientSession> session = impl_->TakeIdle(*target);
  bool reused = session != nullptr;
  if (!session) session = impl_->NewSession(*target);
  for (;;) {
    bool sent = false;
    try {
      HttpResponse response = impl_->Exchange(*session, *target, request, &sent);
      if (session->getKeepAlive() && session->connected() && response.sink_error.ok()) {
        impl_->GiveBack(*target, std::move(session));
      }
      return response;
    } catch (const Poco::Exception& e) {
      if (reused && IsStaleConnection(e) && IsIdempotentMethod(request.method)) {
        reused = false;
        session = impl_->NewSession(*target);
        continue;
      }
      absl::Status status = ToStatus(e, *target);
      return sent ? status : MarkNotSent(std::move(status));
    } catch (const std::exception& e) {
      absl::Status status = absl::UnavailableError(core::StrCat(target->Key(), ": ", e.what()));
      return sent ? status : MarkNotSent(std::move(status));
    }
  }
}

}  // namespace sfbridge::salesforce
