#include "common/http/admin_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>

#include "Poco/Net/HTTPClientSession.h"
#include "Poco/Net/HTTPRequest.h"
#include "Poco/Net/HTTPResponse.h"
#include "Poco/StreamCopier.h"

namespace sfbridge::http {
namespace {

using ::testing::HasSubstr;

struct Reply {
  int status = 0;
  std::string content_type, body;
};

Reply Get(uint16_t port, const std::string& path, const std::string& method = "GET") {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply r;
  r.status = response.getStatus();
  r.content_type = response.getContentType();
  std::ostringstream body;
  Poco::StreamCopier::copyStream(in, body);
  r.body = body.str();
  return r;
}

TEST(AdminServerTest, ServesMetricsHealthAndReadiness) {
  core::MetricsRegistry registry;
  registry.CounterFamily("sfbridge_test_requests_total", "Requests.").Get().Increment(5);
  std::atomic<bool> ready{false};
  AdminServer server(registry, [&]() -> absl::Status {
    if (ready) return absl::OkStatus();
    return absl::UnavailableError("kafka not reachable yet");
  });
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_GT(*port, 0);

  Reply metrics = Get(*port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.content_type, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(metrics.body, HasSubstr("sfbridge_test_requests_total 5\n"));

  EXPECT_EQ(Get(*port, "/healthz").status, 200);

  Reply not_ready = Get(*port, "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_THAT(not_ready.body, HasSubstr("kafka not reachable yet"));
  ready = true;
  EXPECT_EQ(Get(*port, "/readyz").status, 200);

  EXPECT_EQ(Get(*port, "/nope").status, 404);
  EXPECT_EQ(Get(*port, "/metrics", "POST").status, 405);
}

TEST(AdminServerTest, PortInUseIsAClearError) {
  core::MetricsRegistry registry;
  AdminServer first(registry, nullptr);
  auto port = first.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  AdminServer second(registry, nullptr);
  auto again = second.Start("127.0.0.1", *port);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(again.status().message()),
              HasSubstr("cannot serve metrics on 127.0.0.1:" + std::to_string(*port)));
}

TEST(AdminServerTest, StartedFromAReasonIsReadyWhenTheReasonIsEmpty) {
  core::MetricsRegistry registry;
  std::string reason = "starting";
  absl::StatusOr<std::unique_ptr<AdminServer>> server = StartAdminServer(
      registry, [&] { return reason; }, "127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE(*server, nullptr);
  const uint16_t port = (*server)->port();
  ASSERT_GT(port, 0);
  Reply not_ready = Get(port, "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_THAT(not_ready.body, HasSubstr("not ready: starting"));
  reason.clear();
  EXPECT_EQ(Get(port, "/readyz").status, 200);
  (*server)->Stop();
  EXPECT_EQ((*server)->port(), 0);
}

TEST(AdminServerTest, ANegativePortMeansNoServerAndATakenPortIsAnError) {
  core::MetricsRegistry registry;
  absl::StatusOr<std::unique_ptr<AdminServer>> off = StartAdminServer(
      registry, [] { return std::string(); }, "127.0.0.1", -1);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(*off, nullptr);

  absl::StatusOr<std::unique_ptr<AdminServer>> first = StartAdminServer(
      registry, [] { return std::string(); }, "127.0.0.1", 0);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<AdminServer>> second = StartAdminServer(
      registry, [] { return std::string(); }, "127.0.0.1", (*first)->port());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

}  // namespace
}  // namespace sfbridge::http
