#include "proxy/stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "common/core/strings.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on Unix sockets
}

bool PollOne(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  while (true) {
    int r = poll(&p, 1, static_cast<int>(timeout.count()));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

// ALPN: accept "postgresql" (what direct-TLS clients offer); otherwise let the handshake go on
// without ALPN, as for a client that sent SSLRequest first.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kPostgresql[] = "\x0apostgresql";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kPostgresql, sizeof kPostgresql - 1, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

void Fd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::FromFiles(const std::string& cert_file,
                                                                  const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return absl::InternalError(StrCat("cannot create a TLS context: ", OpenSslError()));
  auto holder = std::unique_ptr<TlsContext>(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        StrCat("tls.cert: cannot load certificate ", cert_file, ": ", OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(
        StrCat("tls.key: cannot load private key ", key_file, ": ", OpenSslError()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        StrCat("tls.key: ", key_file, " does not match the certificate ", cert_file));
  }
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  return holder;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<Fd> Listen(const std::string& host, uint16_t port, uint16_t* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    return absl::InvalidArgumentError(StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    Fd fd(socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) continue;
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 || listen(fd.get(), 512) != 0) {
      last_error = strerror(errno);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    *bound_port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    freeaddrinfo(res);
    return fd;
  }
  freeaddrinfo(res);
  return absl::UnavailableError(StrCat("cannot listen on ", host, ":", port, ": ", last_error));
}

absl::StatusOr<Fd> Connect(const std::string& host, uint16_t port,
                           std::chrono::milliseconds timeout) {
  auto connect_with_timeout = [&](int fd, const sockaddr* addr, socklen_t len) -> bool {
    SetNonBlocking(fd);
    if (connect(fd, addr, len) == 0) return true;
    if (errno != EINPROGRESS) return false;
    if (!PollOne(fd, POLLOUT, timeout)) {
      errno = ETIMEDOUT;
      return false;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    errno = err;
    return err == 0;
  };
  if (!host.empty() && host[0] == '/') {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = StrCat(host, "/.s.PGSQL.", port);
    if (path.size() >= sizeof addr.sun_path) {
      return absl::InvalidArgumentError(StrCat("socket path too long: ", path));
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!connect_with_timeout(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr)) {
      return absl::UnavailableError(StrCat("cannot connect to ", path, ": ", strerror(errno)));
    }
    return fd;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0) {
    return absl::UnavailableError(StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    Fd fd(socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) continue;
    if (connect_with_timeout(fd.get(), a->ai_addr, a->ai_addrlen)) {
      SetNoDelay(fd.get());
      freeaddrinfo(res);
      return fd;
    }
    last_error = strerror(errno);
  }
  freeaddrinfo(res);
  return absl::UnavailableError(StrCat("cannot connect to ", host, ":", port, ": ", last_error));
}

Stream::Stream(Fd fd) : fd_(std::move(fd)) {
  SetNonBlocking(fd_.get());
  SetNoDelay(fd_.get());
}

Stream::~Stream() {
  if (ssl_) {
    SSL_shutdown(ssl_);  // best effort close_notify; the socket is non-blocking
    SSL_free(ssl_);
  }
}

IoResult Stream::Read(InputBuffer& in, size_t max) {
  char* dst = in.PrepareAppend(max);
  if (ssl_) {
    read_wants_write_ = false;
    size_t got = 0;
    int r = SSL_read_ex(ssl_, dst, max, &got);
    if (r == 1) {
      in.Commit(got);
      return IoResult::kOk;
    }
    in.Commit(0);
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return IoResult::kWouldBlock;
      case SSL_ERROR_WANT_WRITE:
        read_wants_write_ = true;
        return IoResult::kWouldBlock;
      case SSL_ERROR_ZERO_RETURN:
        return IoResult::kClosed;
      default:
        ERR_clear_error();
        return IoResult::kError;
    }
  }
  while (true) {
    ssize_t n = recv(fd_.get(), dst, max, 0);
    if (n > 0) {
      in.Commit(static_cast<size_t>(n));
      return IoResult::kOk;
    }
    if (n == 0) {
      in.Commit(0);
      return IoResult::kClosed;
    }
    if (errno == EINTR) continue;
    in.Commit(0);
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? IoResult::kWouldBlock : IoResult::kError;
  }
}

IoResult Stream::Write(ByteBuffer& out) {
  while (!out.empty()) {
    std::string_view data = out.view();
    if (ssl_) {
      write_wants_read_ = false;
      size_t put = 0;
      int r = SSL_write_ex(ssl_, data.data(), data.size(), &put);
      if (r == 1) {
        out.Consume(put);
        continue;
      }
      switch (SSL_get_error(ssl_, r)) {
        case SSL_ERROR_WANT_WRITE:
          return IoResult::kWouldBlock;
        case SSL_ERROR_WANT_READ:
          write_wants_read_ = true;
          return IoResult::kWouldBlock;
        default:
          ERR_clear_error();
          return IoResult::kError;
      }
    }
    ssize_t n = send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      out.Consume(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? IoResult::kWouldBlock : IoResult::kError;
  }
  return IoResult::kOk;
}

bool Stream::HasBufferedInput() const { return ssl_ && SSL_pending(ssl_) > 0; }

short Stream::ReadEvents() const { return read_wants_write_ ? POLLOUT : POLLIN; }

short Stream::WriteEvents() const { return write_wants_read_ ? POLLIN : POLLOUT; }

bool Stream::WaitReadable(std::chrono::milliseconds timeout) const {
  return HasBufferedInput() || PollOne(fd_.get(), ReadEvents(), timeout);
}

absl::Status Stream::WriteAll(ByteBuffer& out, std::chrono::milliseconds timeout) {
  while (!out.empty()) {
    IoResult r = Write(out);
    if (r == IoResult::kError || r == IoResult::kClosed) {
      return absl::UnavailableError("connection lost while writing");
    }
    if (r == IoResult::kWouldBlock && !PollOne(fd_.get(), WriteEvents(), timeout)) {
      return absl::DeadlineExceededError("timed out writing");
    }
  }
  return absl::OkStatus();
}

int Stream::PeekByte(std::chrono::milliseconds timeout) {
  if (!PollOne(fd_.get(), POLLIN, timeout)) return -1;
  unsigned char c = 0;
  while (true) {
    ssize_t n = recv(fd_.get(), &c, 1, MSG_PEEK);
    if (n == 1) return c;
    if (n < 0 && errno == EINTR) continue;
    return -1;
  }
}

absl::Status Stream::AcceptTls(SSL_CTX* ctx, std::chrono::milliseconds timeout) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) return absl::InternalError(StrCat("cannot start TLS: ", OpenSslError()));
  SSL_set_fd(ssl_, fd_.get());
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int r = SSL_accept(ssl_);
    if (r == 1) return absl::OkStatus();
    int err = SSL_get_error(ssl_, r);
    short events = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (events == 0) {
      return absl::UnavailableError(StrCat("TLS handshake failed: ", OpenSslError()));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !PollOne(fd_.get(), events, left)) {
      return absl::DeadlineExceededError("TLS handshake timed out");
    }
  }
}

}  // namespace sfbridge::proxy
