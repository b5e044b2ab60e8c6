#pragma once

// The two sockets of a session (the client's, and its own connection to the server) and the
// bytes waiting on each side: the only part of a session that reads or writes them. The
// protocol is the Handler's business: SessionIo moves bytes between the sockets and the buffers
// in batches, with back-pressure, and calls the Handler when bytes have arrived; the Handler
// consumes whole messages from the input buffers and appends to the output buffers.
//
// Not thread-safe: used by its session's thread only.

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "proxy/byte_buffer.h"
#include "proxy/stream.h"

namespace sfbridge::proxy {

class SessionIo {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Bytes from the client were appended to client_in().
    virtual void OnClientInput() = 0;
    // Bytes from the server were appended to server_in(); or the server closed the connection
    // (lost() is set), and server_in() holds what arrived before.
    virtual void OnServerInput() = 0;
    // The client closed its connection; `inside_message`: part of a message was left unread.
    virtual void OnClientClosed(bool inside_message) = 0;
    // Whether the server still owes replies (Drain's condition).
    virtual bool AwaitingServer() const = 0;
  };

  // `client` is an accepted connection. `stop_fd` becomes readable when the proxy stops.
  SessionIo(Fd client, int stop_fd);

  // The startup phase: short blocking exchanges with the client, then the server connection.
  // The first byte the client sent, left unread; -1 when none came within `timeout`.
  int PeekClientByte(std::chrono::milliseconds timeout) { return client_.PeekByte(timeout); }
  // Errors: kUnavailable (Stream::AcceptTls).
  absl::Status AcceptClientTls(SSL_CTX* ctx, std::chrono::milliseconds timeout) {
    return client_.AcceptTls(ctx, timeout);
  }
  bool client_tls() const { return client_.tls(); }
  enum class StartupRead { kData, kTimedOut, kClosed };
  // Waits until `deadline` for bytes from the client and appends up to `max` of them to
  // client_in(). kData also when the wait ended with nothing to read yet.
  StartupRead ReadClientUntil(std::chrono::steady_clock::time_point deadline, size_t max);
  // Sends `bytes` to the client ahead of anything else, waiting up to `timeout`.
  absl::Status SendToClientNow(std::string_view bytes, std::chrono::milliseconds timeout);
  // Connects the server side (Connect). Errors: kUnavailable.
  absl::Status ConnectServer(const std::string& host, uint16_t port,
                             std::chrono::milliseconds timeout);
  bool has_server() const { return server_ != nullptr; }

  // Relays until the client or the server closes, a socket fails, the proxy stops, or, once
  // StopReadingClient() was called, everything is written. Reads the client only while
  // reading_client() and the server's unsent bytes are few; the server while the client's are.
  // OK when the client ended the session; kUnavailable when a connection was lost; kCancelled
  // when the proxy stops.
  absl::Status Serve(Handler& handler);
  // Writes what is waiting for both sides and reads the server until handler.AwaitingServer()
  // is false, not reading the client meanwhile. False when a connection was lost or the proxy
  // stops (lost() is set then).
  bool Drain(Handler& handler);
  // The end: unless the server connection was lost, sends it `server_goodbye` in place of
  // anything unsent (up to 200 ms); then what is left for the client (up to 1 s).
  void Finish(std::string_view server_goodbye);

  InputBuffer& client_in() { return client_in_; }
  InputBuffer& server_in() { return server_in_; }
  ByteBuffer& client_out() { return client_out_; }
  ByteBuffer& server_out() { return server_out_; }

  // The server connection failed, or cannot be trusted (e.g. it sent a malformed message).
  bool lost() const { return lost_; }
  void MarkLost() { lost_ = true; }
  // Nothing more is read from the client (it sent Terminate, or a fatal error was sent).
  bool reading_client() const { return !closing_; }
  void StopReadingClient() { closing_ = true; }

 private:
  // Reads the server into server_in() and calls the handler. False when the server closed.
  bool ReadServer(Handler& handler);

  Stream client_;
  std::unique_ptr<Stream> server_;
  int stop_fd_;
  InputBuffer client_in_, server_in_;
  ByteBuffer client_out_, server_out_;
  bool closing_ = false;
  bool lost_ = false;
};

// Sends `request` (a CancelRequest) on a connection of its own to host:port and waits up to 5 s
// for the server to close it, which keeps the cancel ahead of what the client does next.
// Errors: kUnavailable when the connection cannot be made.
absl::Status SendCancelRequest(const std::string& host, uint16_t port,
                               std::chrono::milliseconds connect_timeout, std::string_view request);

}  // namespace sfbridge::proxy
