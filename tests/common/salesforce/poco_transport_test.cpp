#include "common/salesforce/poco_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <set>
#include <sstream>
#include <thread>

#include "Poco/Net/HTTPRequestHandler.h"
#include "Poco/Net/HTTPRequestHandlerFactory.h"
#include "Poco/Net/HTTPServer.h"
#include "Poco/Net/HTTPServerParams.h"
#include "Poco/Net/HTTPServerRequest.h"
#include "Poco/Net/HTTPServerRequestImpl.h"
#include "Poco/Net/HTTPServerResponse.h"
#include "Poco/Net/ServerSocket.h"
#include "Poco/StreamCopier.h"

namespace sfbridge::salesforce {
namespace {

using ::testing::HasSubstr;

std::string BigBody() {
  std::string text;
  for (int i = 0; text.size() < 3'000'000; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

// Keeps what it is given, piece by piece; refuses the piece after `refuse_after` bytes.
class RecordingSink final : public HttpBodySink {
 public:
  absl::Status Begin(const HttpResponse& head) override {
    ++begins;
    status = head.status;
    body.clear();
    return absl::OkStatus();
  }
  absl::Status Take(std::string_view piece) override {
    largest_piece = std::max(largest_piece, piece.size());
    if (body.size() >= refuse_after) return absl::CancelledError("enough");
    body.append(piece);
    return absl::OkStatus();
  }
  int begins = 0;
  int status = 0;
  std::string body;
  size_t largest_piece = 0;
  size_t refuse_after = SIZE_MAX;
};

// Echoes what it got, and says which client port (connection) sent it.
class EchoHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    std::ostringstream body;
    Poco::StreamCopier::copyStream(request.stream(), body);
    if (request.getURI() == "/big") {
      // 3 MB of numbered lines, in the usual way (the whole body, its length set).
      std::string text = BigBody();
      response.set("X-Client-Port", std::to_string(request.clientAddress().port()));
      response.setContentLength(static_cast<std::streamsize>(text.size()));
      response.send() << text;
      return;
    }
    if (request.getURI() == "/short") {
      // Says 100,000 bytes, sends 10, and closes: a reply broken off on the way.
      response.setContentLength(100'000);
      response.send() << "0123456789";
      response.send().flush();
      auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
      impl.socket().shutdown();
      impl.socket().close();
      return;
    }
    if (request.getURI() == "/chunked-stall") {
      // A chunked body whose second chunk comes only after the client's timeout.
      response.setChunkedTransferEncoding(true);
      std::ostream& out = response.send();
      out << "0123456789";
      out.flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      out << "abcdefghij";
      return;
    }
    if (request.getURI() == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(800));
    response.setStatus(request.getURI() == "/missing" ? Poco::Net::HTTPResponse::HTTP_NOT_FOUND
                                                      : Poco::Net::HTTPResponse::HTTP_OK);
    response.set("Sforce-Limit-Info", "api-usage=1/100");
    response.set("X-Client-Port", std::to_string(request.clientAddress().port()));
    response.setContentType("text/plain");
    std::string text = request.getMethod() + " " + request.getURI() + " " +
                       request.get("X-Test", "") + " " + body.str();
    response.setContentLength(static_cast<std::streamsize>(text.size()));
    response.send() << text;
  }
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new EchoHandler();
  }
};

class PocoTransportTest : public ::testing::Test {
 protected:
  void StartServer(Poco::Timespan keep_alive_timeout = Poco::Timespan(10, 0)) {
    auto* params = new Poco::Net::HTTPServerParams();
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(keep_alive_timeout);
    params->setMaxThreads(4);
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(), socket, params);
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stopAll(true);
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::unique_ptr<PocoTransport> Transport() {
    absl::StatusOr<std::unique_ptr<PocoTransport>> transport = PocoTransport::Create({});
    EXPECT_TRUE(transport.ok()) << transport.status();
    return *std::move(transport);
  }

  uint16_t port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

TEST_F(PocoTransportTest, SendsAndReadsWholeExchange) {
  StartServer();
  auto transport = Transport();
  HttpRequest request;
  request.method = "PATCH";
  request.url = Url("/services/data/v59.0/composite/sobjects?ids=a%2Cb");
  request.headers = {{"X-Test", "yes"}, {"Content-Type", "application/json"}};
  request.body = R"({"a":1})";
  absl::StatusOr<HttpResponse> response = transport->Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body,
            R"(PATCH /services/data/v59.0/composite/sobjects?ids=a%2Cb yes {"a":1})");
  EXPECT_EQ(response->Header("sforce-limit-info"), "api-usage=1/100");
}

TEST_F(PocoTransportTest, HttpErrorStatusIsAnOkReply) {
  StartServer();
  absl::StatusOr<HttpResponse> response = Transport()->Send({"GET", Url("/missing"), {}, "", {}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
}

TEST_F(PocoTransportTest, ReusesKeptAliveConnections) {
  StartServer();
  auto transport = Transport();
  std::set<std::string> ports;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> response =
        transport->Send({"GET", Url("/x"), {}, "", std::chrono::seconds(5)});
    ASSERT_TRUE(response.ok()) << response.status();
    ports.insert(response->Header("X-Client-Port").value_or(""));
  }
  EXPECT_EQ(ports.size(), 1u);
}

TEST_F(PocoTransportTest, ReconnectsOnceWhenTheServerClosedAnIdleConnection) {
  StartServer(Poco::Timespan(0, 100'000));  // the server drops idle connections after 100 ms
  auto transport = Transport();
  absl::StatusOr<HttpResponse> first =
      transport->Send({"POST", Url("/a"), {}, "1", std::chrono::seconds(5)});
  ASSERT_TRUE(first.ok()) << first.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  absl::StatusOr<HttpResponse> second =
      transport->Send({"POST", Url("/b"), {}, "2", std::chrono::seconds(5)});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body, "POST /b  2");
  EXPECT_NE(first->Header("X-Client-Port"), second->Header("X-Client-Port"));
}

TEST_F(PocoTransportTest, TimeoutIsDeadlineExceeded) {
  StartServer();
  absl::StatusOr<HttpResponse> response =
      Transport()->Send({"GET", Url("/slow"), {}, "", std::chrono::milliseconds(100)});
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  // The request was sent: the server may have acted on it.
  EXPECT_FALSE(WasNotSent(response.status()));
}

TEST_F(PocoTransportTest, RefusedConnectionIsUnavailable) {
  uint16_t port = 0;
  {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = socket.address().port();
  }
  absl::StatusOr<HttpResponse> response = Transport()->Send(
      {"GET", "http://127.0.0.1:" + std::to_string(port) + "/", {}, "", std::chrono::seconds(2)});
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  // Nothing left: the server cannot have seen it, even for a POST.
  EXPECT_TRUE(WasNotSent(response.status()));
  absl::StatusOr<HttpResponse> post =
      Transport()->Send({"POST",
                         "http://127.0.0.1:" + std::to_string(port) + "/",
                         {},
                         "{}",
                         std::chrono::seconds(2)});
  EXPECT_TRUE(WasNotSent(post.status()));
}

TEST_F(PocoTransportTest, ABodySinkTakesTheBodyInPiecesAndTheReplyHoldsNone) {
  StartServer();
  auto transport = Transport();
  RecordingSink sink;
  HttpRequest request{"GET", Url("/big"), {}, "", std::chrono::seconds(10), &sink};
  absl::StatusOr<HttpResponse> response = transport->Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->body_streamed);
  EXPECT_TRUE(response->body.empty());
  EXPECT_TRUE(response->sink_error.ok()) << response->sink_error;
  EXPECT_EQ(sink.begins, 1);
  EXPECT_EQ(sink.status, 200);
  EXPECT_EQ(sink.body, BigBody());
  EXPECT_LE(sink.largest_piece, kBodyPiece);
  // Not a 2xx: read whole, the sink not called.
  RecordingSink unused;
  absl::StatusOr<HttpResponse> missing =
      transport->Send({"GET", Url("/missing"), {}, "", std::chrono::seconds(5), &unused});
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404);
  EXPECT_FALSE(missing->body.empty());
  EXPECT_EQ(unused.begins, 0);
}

TEST_F(PocoTransportTest, ASinkThatRefusesEndsTheExchangeAndItsConnectionIsNotReused) {
  StartServer();
  auto transport = Transport();
  RecordingSink sink;
  sink.refuse_after = 100'000;
  absl::StatusOr<HttpResponse> refused =
      transport->Send({"GET", Url("/big"), {}, "", std::chrono::seconds(10), &sink});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->sink_error.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(sink.body.size(), 200'000u);
  // The rest of that body was never read: the next request has a connection of its own.
  RecordingSink next;
  absl::StatusOr<HttpResponse> again =
      transport->Send({"GET", Url("/big"), {}, "", std::chrono::seconds(10), &next});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(next.body, BigBody());
  EXPECT_NE(refused->Header("X-Client-Port"), again->Header("X-Client-Port"));
}

TEST_F(PocoTransportTest, ABodyThatBreaksOffIsUnavailableWithOrWithoutASink) {
  StartServer();
  auto transport = Transport();
  absl::StatusOr<HttpResponse> whole =
      transport->Send({"GET", Url("/short"), {}, "", std::chrono::seconds(5)});
  EXPECT_EQ(whole.status().code(), absl::StatusCode::kUnavailable) << whole.status();
  EXPECT_THAT(whole.status().message(), HasSubstr("connection closed after 10 of 100000"));
  EXPECT_FALSE(WasNotSent(whole.status()));
  RecordingSink sink;
  absl::StatusOr<HttpResponse> streamed =
      transport->Send({"GET", Url("/short"), {}, "", std::chrono::seconds(5), &sink});
  EXPECT_EQ(streamed.status().code(), absl::StatusCode::kUnavailable) << streamed.status();
  EXPECT_EQ(sink.body, "0123456789");
}

TEST_F(PocoTransportTest, AChunkedBodyThatStallsPastTheTimeoutIsUnavailableNotShort) {
  StartServer();
  auto transport = Transport();
  absl::StatusOr<HttpResponse> whole =
      transport->Send({"GET", Url("/chunked-stall"), {}, "", std::chrono::milliseconds(300)});
  EXPECT_EQ(whole.status().code(), absl::StatusCode::kUnavailable) << whole.status();
  EXPECT_THAT(whole.status().message(), HasSubstr("broke off"));
  RecordingSink sink;
  absl::StatusOr<HttpResponse> streamed = transport->Send(
      {"GET", Url("/chunked-stall"), {}, "", std::chrono::milliseconds(300), &sink});
  EXPECT_EQ(streamed.status().code(), absl::StatusCode::kUnavailable) << streamed.status();
  // What the sink had is at most the first chunk (a read cut by the timeout hands nothing on).
  EXPECT_TRUE(std::string("0123456789").starts_with(sink.body)) << sink.body;
}

TEST_F(PocoTransportTest, BadUrlAndBadCaFileAreInvalidArgument) {
  EXPECT_EQ(Transport()->Send({"GET", "ftp://x/", {}, "", {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  PocoTransportOptions options;
  options.extra_ca_file = "/nonexistent/ca.pem";
  absl::StatusOr<std::unique_ptr<PocoTransport>> transport = PocoTransport::Create(options);
  EXPECT_EQ(transport.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sfbridge::salesforce
