#pragma once

// The sockets under a session: a non-blocking TCP (or Unix) stream, optionally wrapped in TLS
// (OpenSSL) once the client asked for it. Reads and writes move as many bytes as the kernel
// takes in one call, so a batch of messages costs one syscall each way.

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proxy/byte_buffer.h"

namespace sfbridge::proxy {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.Release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.Release();
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

// A server-side TLS configuration: certificate chain and private key (PEM files). Thread-safe.
class TlsContext {
 public:
  // Errors: kInvalidArgument naming the file that cannot be loaded or does not match.
  static absl::StatusOr<std::unique_ptr<TlsContext>> FromFiles(const std::string& cert_file,
                                                               const std::string& key_file);
  ~TlsContext();
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// Listens on host:port (port 0: any free one). Returns the socket; *bound_port the port.
absl::StatusOr<Fd> Listen(const std::string& host, uint16_t port, uint16_t* bound_port);

// Connects to host:port (or, when `host` starts with '/', the Unix socket
// host/.s.PGSQL.port), waiting up to `timeout`. Errors: kUnavailable.
absl::StatusOr<Fd> Connect(const std::string& host, uint16_t port,
                           std::chrono::milliseconds timeout);

enum class IoResult { kOk, kWouldBlock, kClosed, kError };

class Stream {
 public:
  explicit Stream(Fd fd);  // makes the socket non-blocking
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int fd() const { return fd_.get(); }
  bool tls() const { return ssl_ != nullptr; }

  // Appends what is readable now (up to `max` bytes) to `in`.
  IoResult Read(InputBuffer& in, size_t max);
  // Writes as much of `out` as the socket takes now and consumes it.
  IoResult Write(ByteBuffer& out);
  // True when TLS holds decrypted bytes that poll() cannot see.
  bool HasBufferedInput() const;
  // poll() events to wait for before the next Read / Write (TLS may need the other direction).
  short ReadEvents() const;
  short WriteEvents() const;

  // Blocking helpers for the short startup exchanges: wait for readability / writability up
  // to `timeout`. False on timeout or error.
  bool WaitReadable(std::chrono::milliseconds timeout) const;
  // Writes all of `out` (waiting as needed, up to `timeout`).
  absl::Status WriteAll(ByteBuffer& out, std::chrono::milliseconds timeout);

  // Peeks at the first byte without consuming it (plain streams only); -1 on EOF/error/timeout.
  int PeekByte(std::chrono::milliseconds timeout);

  // Runs the server side of a TLS handshake on this stream. Errors: kUnavailable.
  absl::Status AcceptTls(SSL_CTX* ctx, std::chrono::milliseconds timeout);

 private:
  Fd fd_;
  SSL* ssl_ = nullptr;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
};

}  // namespace sfbridge::proxy
