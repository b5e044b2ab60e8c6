// The session's startup: TLS negotiation, the startup packet, cancel requests, and the
// authentication exchange relayed to the server (session.h).

#include "common/core/strings.h"
#include "proxy/pg_message_types.h"
#include "proxy/session.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;

// Postgres's own bound on a startup packet.
constexpr size_t kMaxStartupPacket = 10000;
// The first byte of a TLS ClientHello.
constexpr int kTlsHandshake = 0x16;

}  // namespace

absl::Status Session::ReadStartupPacket(wire::Frame* frame) {
  auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
  InputBuffer& in = io_.client_in();
  while (true) {
    switch (wire::DecodeStartupFrame(in.view(), kMaxStartupPacket, frame)) {
      case wire::DecodeResult::kFrame:
        return absl::OkStatus();
      case wire::DecodeResult::kTooLarge:
        ProtocolError("invalid length of startup packet");
        return absl::InvalidArgumentError("startup packet too large");
      case wire::DecodeResult::kBadLength:
        ProtocolError("invalid length of startup packet");
        return absl::InvalidArgumentError("startup packet length invalid");
      case wire::DecodeResult::kNeedMore:
        break;
    }
    switch (io_.ReadClientUntil(deadline, kMaxStartupPacket)) {
      case SessionIo::StartupRead::kData:
        break;
      case SessionIo::StartupRead::kTimedOut:
        return absl::DeadlineExceededError("no startup packet in time");
      case SessionIo::StartupRead::kClosed:
        if (!in.empty()) {
          counters_.protocol_errors->Increment();
          log_->warn("session={} protocol error: truncated startup packet", id_);
        }
        return absl::UnavailableError("client closed during startup");
    }
  }
}

absl::Status Session::Startup() {
  constexpr auto kShort = std::chrono::milliseconds(5000);
  // A TLS ClientHello as the very first byte: direct TLS (sslnegotiation=direct), no SSLRequest.
  if (options_.tls && io_.PeekClientByte(options_.startup_timeout) == kTlsHandshake) {
    if (absl::Status s = io_.AcceptClientTls(options_.tls, options_.startup_timeout); !s.ok()) {
      counters_.protocol_errors->Increment();
      return s;
    }
  }
  InputBuffer& in = io_.client_in();
  while (true) {
    wire::Frame frame;
    if (absl::Status s = ReadStartupPacket(&frame); !s.ok()) return s;
    absl::StatusOr<wire::StartupPacket> packet = wire::ParseStartup(frame.body);
    std::string raw(in.view().substr(0, frame.size));
    in.Consume(frame.size);
    if (!packet.ok()) {
      ProtocolError(core::ToString(packet.status().message()));
      return packet.status();
    }
    switch (packet->code) {
      case wire::kSslRequestCode:
      case wire::kGssEncRequestCode: {
        bool tls = packet->code == wire::kSslRequestCode && options_.tls && !io_.client_tls();
        // Bytes sent after the request but before the handshake would be trusted as if they
        // had come through TLS: refuse them.
        if (!in.empty()) {
          ProtocolError("received unencrypted data after SSL request");
          return absl::InvalidArgumentError("data after SSLRequest");
        }
        if (absl::Status s = io_.SendToClientNow(tls ? "S" : "N", kShort); !s.ok()) return s;
        if (tls) {
          if (absl::Status s = io_.AcceptClientTls(options_.tls, options_.startup_timeout);
              !s.ok()) {
            counters_.protocol_errors->Increment();
            return s;
          }
        }
        continue;
      }
      case wire::kCancelRequestCode:
        HandleCancel(*packet);
        return absl::OkStatus();
      default:
        break;
    }
    if (absl::Status s = io_.ConnectServer(options_.upstream_host, options_.upstream_port,
                                           options_.connect_timeout);
        !s.ok()) {
      PgError e;
      e.severity = "FATAL";
      e.sqlstate = "08006";
      e.message = StrCat("the proxy cannot reach the database: ", s.message());
      wire::AppendErrorResponse(io_.client_out().back(), e);
      log_->warn("session={} {}", id_, e.message);
      return s;
    }
    // Forwarded unchanged: Postgres answers a newer minor version or _pq_ options itself
    // (NegotiateProtocolVersion), and sees the client's own user, database and options.
    io_.server_out().Append(raw);
    log_->debug(
        "session={} user={} database={} tls={}", id_, packet->params["user"],
        packet->params.count("database") ? packet->params["database"] : packet->params["user"],
        io_.client_tls());
    return absl::OkStatus();
  }
}

void Session::HandleCancel(const wire::StartupPacket& packet) {
  std::optional<wire::BackendKey> server_key =
      cancel_keys_.Find({packet.cancel_pid, packet.cancel_secret});
  if (!server_key) {
    log_->info("session={} cancel request with an unknown key ignored", id_);
    return;
  }
  std::string request;
  wire::AppendCancelRequest(&request, *server_key);
  if (absl::Status s = SendCancelRequest(options_.upstream_host, options_.upstream_port,
                                         options_.connect_timeout, request);
      !s.ok()) {
    log_->warn("session={} cancel not delivered: {}", id_, core::ToString(s.message()));
    return;
  }
  log_->debug("session={} cancel forwarded to server pid {}", id_, server_key->pid);
}

void Session::OnAuthRequest(const wire::Frame& frame, std::string_view raw) {
  absl::StatusOr<wire::AuthRequest> auth = wire::ReadAuthRequest(frame.body);
  if (auth.ok() && auth->code == wire::kAuthSasl && io_.client_tls()) {
    // The channel Postgres would bind to is not the client's: no channel binding.
    std::vector<std::string> mechanisms;
    for (auto& m : auth->mechanisms) {
      if (m != "SCRAM-SHA-256-PLUS") mechanisms.push_back(std::move(m));
    }
    wire::AppendAuthSasl(io_.client_out().back(), mechanisms);
    return;
  }
  out_.Append(raw);
}

void Session::OnBackendKeyData(const wire::Frame& frame) {
  absl::StatusOr<wire::BackendKey> key = wire::ReadBackendKeyData(frame.body);
  if (!key.ok()) return;
  server_pid_ = static_cast<int>(key->pid);
  if (proxy_key_) cancel_keys_.Unregister(*proxy_key_);
  proxy_key_ = cancel_keys_.Register(*key);
  wire::AppendBackendKeyData(io_.client_out().back(), *proxy_key_);
}

}  // namespace sfbridge::proxy
