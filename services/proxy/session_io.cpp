#include "proxy/session_io.h"

#include <poll.h>

#include <cerrno>

namespace sfbridge::proxy {
namespace {

constexpr size_t kReadChunk = 64 << 10;
// Stop reading one side while the other side's unsent bytes exceed this (back-pressure).
constexpr size_t kHighWater = 4 << 20;

bool Failed(IoResult r) { return r == IoResult::kClosed || r == IoResult::kError; }

}  // namespace

SessionIo::SessionIo(Fd client, int stop_fd) : client_(std::move(client)), stop_fd_(stop_fd) {}

SessionIo::StartupRead SessionIo::ReadClientUntil(std::chrono::steady_clock::time_point deadline,
                                                  size_t max) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || !client_.WaitReadable(left)) return StartupRead::kTimedOut;
  return Failed(client_.Read(client_in_, max)) ? StartupRead::kClosed : StartupRead::kData;
}

absl::Status SessionIo::SendToClientNow(std::string_view bytes, std::chrono::milliseconds timeout) {
  ByteBuffer out;
  out.Append(bytes);
  return client_.WriteAll(out, timeout);
}

absl::Status SessionIo::ConnectServer(const std::string& host, uint16_t port,
                                      std::chrono::milliseconds timeout) {
  absl::StatusOr<Fd> fd = Connect(host, port, timeout);
  if (!fd.ok()) return fd.status();
  server_ = std::make_unique<Stream>(*std::move(fd));
  return absl::OkStatus();
}

bool SessionIo::ReadServer(Handler& handler) {
  IoResult r = server_->Read(server_in_, kReadChunk);
  if (Failed(r)) {
    lost_ = true;
    handler.OnServerInput();  // whatever complete messages arrived (a FATAL error, usually)
    return false;
  }
  if (r == IoResult::kOk) handler.OnServerInput();
  return true;
}

absl::Status SessionIo::Serve(Handler& handler) {
  while (!lost_) {
    if (closing_ && client_out_.empty() && server_out_.empty()) break;
    pollfd fds[3];
    short client_events = 0, server_events = 0;
    if (!closing_ && server_out_.size() < kHighWater) client_events |= client_.ReadEvents();
    if (!client_out_.empty()) client_events |= client_.WriteEvents();
    if (client_out_.size() < kHighWater) server_events |= server_->ReadEvents();
    if (!server_out_.empty()) server_events |= server_->WriteEvents();
    fds[0] = {client_.fd(), client_events, 0};
    fds[1] = {server_->fd(), server_events, 0};
    fds[2] = {stop_fd_, POLLIN, 0};
    bool buffered = client_.HasBufferedInput() && (client_events & POLLIN);
    int n = poll(fds, 3, buffered ? 0 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError("poll failed");
    }
    if (fds[2].revents) return absl::CancelledError("proxy stopping");
    bool want_read = !closing_ && server_out_.size() < kHighWater;
    if (want_read && ((fds[0].revents & (client_.ReadEvents() | POLLHUP | POLLERR)) || buffered)) {
      IoResult r = client_.Read(client_in_, kReadChunk);
      if (Failed(r)) {
        handler.OnClientClosed(!client_in_.empty());
        return absl::OkStatus();
      }
      if (r == IoResult::kOk) handler.OnClientInput();
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!ReadServer(handler)) return absl::UnavailableError("server closed the connection");
    }
    if (!server_out_.empty() && Failed(server_->Write(server_out_))) {
      lost_ = true;
      return absl::UnavailableError("server connection lost");
    }
    if (!client_out_.empty() && Failed(client_.Write(client_out_))) {
      client_out_.Clear();
      return absl::UnavailableError("client connection lost");
    }
  }
  return absl::OkStatus();
}

bool SessionIo::Drain(Handler& handler) {
  while (handler.AwaitingServer() && !lost_) {
    if (!server_out_.empty() && Failed(server_->Write(server_out_))) {
      lost_ = true;
      return false;
    }
    if (!client_out_.empty()) {
      if (client_.Write(client_out_) == IoResult::kError) client_out_.Clear();
    }
    pollfd fds[3];
    short server_events = server_->ReadEvents();
    if (!server_out_.empty()) server_events |= server_->WriteEvents();
    fds[0] = {server_->fd(), server_events, 0};
    fds[1] = {client_.fd(), static_cast<short>(client_out_.empty() ? 0 : client_.WriteEvents()), 0};
    fds[2] = {stop_fd_, POLLIN, 0};
    int n = poll(fds, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      lost_ = true;
      return false;
    }
    if (fds[2].revents) {
      lost_ = true;
      return false;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && !ReadServer(handler)) return false;
  }
  return !lost_;
}

void SessionIo::Finish(std::string_view server_goodbye) {
  if (server_ && !lost_) {
    // Tell Postgres the client is gone, so it does not log an unexpected EOF.
    server_out_.Clear();
    server_out_.Append(server_goodbye);
    (void)server_->WriteAll(server_out_, std::chrono::milliseconds(200));
  }
  if (!client_out_.empty()) (void)client_.WriteAll(client_out_, std::chrono::milliseconds(1000));
}

absl::Status SendCancelRequest(const std::string& host, uint16_t port,
                               std::chrono::milliseconds connect_timeout,
                               std::string_view request) {
  absl::StatusOr<Fd> fd = Connect(host, port, connect_timeout);
  if (!fd.ok()) return fd.status();
  Stream server(*std::move(fd));
  ByteBuffer out;
  out.Append(request);
  (void)server.WriteAll(out, std::chrono::milliseconds(5000));
  // Postgres closes the connection once it has the request; waiting for that keeps the cancel
  // ahead of anything the client does next.
  server.WaitReadable(std::chrono::milliseconds(5000));
  return absl::OkStatus();
}

}  // namespace sfbridge::proxy
