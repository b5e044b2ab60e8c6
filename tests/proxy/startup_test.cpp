// The session's start-up against a scripted upstream (a socket that plays a server offering
// SCRAM-SHA-256-PLUS, which the test PostgreSQL behind plain TCP never does): GSSENCRequest and
// SSLRequest answers, and the PLUS mechanism withdrawn exactly when TLS ends at the proxy.

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "proxy/pg_wire.h"
#include "proxy/proxy_server.h"
#include "proxy/stream.h"
#include "tests/proxy/proxy_test_support.h"

namespace sfbridge::proxy::testing {
namespace {

// Accepts one connection, reads the startup packet, offers both SCRAM mechanisms, then closes.
class ScriptedUpstream {
 public:
  ScriptedUpstream() {
    absl::StatusOr<Fd> fd = Listen("127.0.0.1", 0, &port_);
    EXPECT_TRUE(fd.ok());
    listener_ = *std::move(fd);
    thread_ = std::thread([this] {
      Fd conn(accept(listener_.get(), nullptr, nullptr));
      if (!conn.valid()) return;
      std::string in;
      char buf[1024];
      wire::Frame frame;
      while (wire::DecodeStartupFrame(in, 10000, &frame) != wire::DecodeResult::kFrame) {
        ssize_t n = recv(conn.get(), buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      std::string out;
      wire::AppendAuthSasl(&out, {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"});
      send(conn.get(), out.data(), out.size(), MSG_NOSIGNAL);
      pollfd p{conn.get(), POLLIN, 0};
      poll(&p, 1, 5000);  // until the client gives up
    });
  }
  ~ScriptedUpstream() {
    shutdown(listener_.get(), SHUT_RDWR);  // wakes accept() when no connection came
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  Fd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string ReadSome(int fd, SSL* ssl, size_t at_least) {
  std::string got;
  char buf[1024];
  while (got.size() < at_least) {
    int n = ssl ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(recv(fd, buf, sizeof buf, 0));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

std::vector<std::string> OfferedMechanisms(const std::string& reply) {
  wire::Frame frame;
  if (wire::DecodeFrame(reply, 1 << 20, &frame) != wire::DecodeResult::kFrame) return {};
  absl::StatusOr<wire::AuthRequest> auth = wire::ReadAuthRequest(frame.body);
  return auth.ok() ? auth->mechanisms : std::vector<std::string>{};
}

class StartupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sfbridge_startup_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
        "/CN=localhost "
        "-keyout " +
        dir_ + "/key.pem -out " + dir_ + "/cert.pem > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    ProxyOptions options;
    options.listen_port = 0;
    options.upstream_host = "127.0.0.1";
    options.upstream_port = upstream_.port();
    options.tls_cert_file = dir_ + "/cert.pem";
    options.tls_key_file = dir_ + "/key.pem";
    server_ = std::make_unique<ProxyServer>(options, MakePassThroughWritePath(), metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  ScriptedUpstream upstream_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<ProxyServer> server_;
};

TEST_F(StartupTest, GssEncIsDeclinedAndTlsWithdrawsScramPlus) {
  int fd = RawConnect(server_->port());
  ASSERT_GE(fd, 0);
  std::string gss;
  wire::Writer(&gss).BeginStartup().Int32(wire::kGssEncRequestCode).End();
  send(fd, gss.data(), gss.size(), 0);
  EXPECT_EQ(ReadSome(fd, nullptr, 1), "N");
  std::string ssl_request;
  wire::Writer(&ssl_request).BeginStartup().Int32(wire::kSslRequestCode).End();
  send(fd, ssl_request.data(), ssl_request.size(), 0);
  ASSERT_EQ(ReadSome(fd, nullptr, 1), "S");
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  std::string startup;
  wire::AppendStartup(&startup, {{"user", "u"}});
  SSL_write(ssl, startup.data(), static_cast<int>(startup.size()));
  std::string reply = ReadSome(fd, ssl, 24);  // R, length, 10, one mechanism
  EXPECT_EQ(OfferedMechanisms(reply), std::vector<std::string>{"SCRAM-SHA-256"});
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
}

TEST_F(StartupTest, PlainClientSeesTheServersMechanismsUnchanged) {
  int fd = RawConnect(server_->port());
  ASSERT_GE(fd, 0);
  std::string startup;
  wire::AppendStartup(&startup, {{"user", "u"}});
  send(fd, startup.data(), startup.size(), 0);
  std::string reply = ReadSome(fd, nullptr, 40);
  EXPECT_EQ(OfferedMechanisms(reply),
            (std::vector<std::string>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}));
  close(fd);
}

TEST_F(StartupTest, PlaintextSmuggledBehindSslRequestIsRefused) {
  int fd = RawConnect(server_->port());
  ASSERT_GE(fd, 0);
  std::string packets;
  wire::Writer(&packets).BeginStartup().Int32(wire::kSslRequestCode).End();
  wire::AppendStartup(&packets, {{"user", "u"}});  // before the TLS handshake: not allowed
  send(fd, packets.data(), packets.size(), 0);
  bool closed = false;
  std::string reply = ReadUntilClosed(fd, 10000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(reply.find("unencrypted data after SSL request"), std::string::npos);
  close(fd);
}

}  // namespace
}  // namespace sfbridge::proxy::testing
