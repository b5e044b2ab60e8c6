// The Salesforce client on a fake transport and a recording clock: every call's request and
// reply, retries and backoff, re-authentication, limits and errors. Over 500 lines: 34 cases on
// one fixture, grouped by call.

#include "common/salesforce/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "common/core/logging.h"
#include "common/salesforce/api_error.h"
#include "spdlog/sinks/ostream_sink.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_transport.h"

namespace sfbridge::salesforce {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTokenReply[] = R"({"access_token":"00Dtoken!first","instance_url":)"
                               R"("https://acme.my.salesforce.com","id":)"
                               R"("https://login.salesforce.com/id/00DORG/005USER",)"
                               R"("token_type":"Bearer","issued_at":"1700000000000"})";
constexpr char kSecondTokenReply[] = R"({"access_token":"00Dtoken!second","instance_url":)"
                                     R"("https://acme.my.salesforce.com","id":)"
                                     R"("https://login.salesforce.com/id/00DORG/005USER"})";
constexpr char kEmptyPage[] = R"({"totalSize":0,"done":true,"records":[]})";
constexpr char kData[] = "https://acme.my.salesforce.com/services/data/v59.0";

// Records every sleep, and moves the fake time forward by it.
class RecordingClock final : public core::Clock {
 public:
  WallTime Now() const override { return fake_.Now(); }
  MonoTime Monotonic() const override { return fake_.Monotonic(); }
  void SleepFor(std::chrono::nanoseconds d) override {
    sleeps_.push_back(d);
    fake_.SleepFor(d);
  }
  const std::vector<std::chrono::nanoseconds>& sleeps() const { return sleeps_; }
  testing::FakeClock& fake() { return fake_; }

 private:
  testing::FakeClock fake_;
  std::vector<std::chrono::nanoseconds> sleeps_;
};

class RecordingGate final : public RequestGate {
 public:
  absl::Status Acquire(CallKind kind, Priority priority) override {
    calls.emplace_back(kind, priority);
    if (clock != nullptr) clock->Advance(wait);
    return refuse ? absl::ResourceExhaustedError("budget spent") : absl::OkStatus();
  }
  void Observe(const LimitInfo& info) override { observed.push_back(info); }

  bool refuse = false;
  // Each Acquire takes `wait` of `clock`'s time (simulated), when a clock is set.
  testing::FakeClock* clock = nullptr;
  std::chrono::nanoseconds wait{0};
  std::vector<std::pair<CallKind, Priority>> calls;
  std::vector<LimitInfo> observed;
};

std::string ApiErrorBody(std::string_view code, std::string_view message) {
  return std::string(R"([{"message":")") + std::string(message) + R"(","errorCode":")" +
         std::string(code) + R"(","fields":[]}])";
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    options_.credentials.flow = AuthFlow::kPassword;
    options_.credentials.client_id = "3MVG9client";
    options_.credentials.client_secret = "CLIENT-SECRET-xyz";
    options_.credentials.username = "sync@example.com";
    options_.credentials.password = "PASSWORD-abc+TOKEN";
    options_.jitter_seed = 42;
  }

  Client& client() {
    if (!client_) client_ = std::make_unique<Client>(options_, transport_, clock_, &gate_);
    return *client_;
  }

  // Only the requests after the token request(s).
  std::vector<HttpRequest> ApiRequests() const {
    std::vector<HttpRequest> out;
    for (const HttpRequest& r : transport_.requests()) {
      if (r.url.find("/services/oauth2/token") == std::string::npos) out.push_back(r);
    }
    return out;
  }

  ClientOptions options_;
  testing::FakeHttpTransport transport_;
  RecordingClock clock_;
  RecordingGate gate_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, AuthenticatesLazilyOnceAndSendsTheBearerToken) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, kEmptyPage);
  transport_.Reply(200, kEmptyPage);
  EXPECT_EQ(transport_.request_count(), 0u);
  ASSERT_TRUE(client().Query("SELECT Id FROM Account").ok());
  ASSERT_TRUE(client().Query("SELECT Id FROM Contact").ok());
  std::vector<HttpRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].url, "https://login.salesforce.com/services/oauth2/token");
  for (int i : {1, 2}) {
    EXPECT_EQ(FindHeader(requests[i].headers, "Authorization"), "Bearer 00Dtoken!first");
  }
  EXPECT_EQ(client().OrgId().value(), "00DORG");
}

TEST_F(ClientTest, QueryUrlEncodesSoqlAndAsksForBatchSize) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, kEmptyPage);
  transport_.Reply(200, kEmptyPage);
  ASSERT_TRUE(client().Query("SELECT Id FROM Account WHERE Name = 'a&b+c' LIMIT 5", 500).ok());
  ASSERT_TRUE(client().QueryAll("SELECT Id FROM Account").ok());
  std::vector<HttpRequest> requests = ApiRequests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url, std::string(kData) +
                                 "/query?q=SELECT%20Id%20FROM%20Account%20WHERE%20Name%20%3D%20"
                                 "%27a%26b%2Bc%27%20LIMIT%205");
  EXPECT_EQ(FindHeader(requests[0].headers, "Sforce-Query-Options"), "batchSize=500");
  EXPECT_EQ(requests[1].url, std::string(kData) + "/queryAll?q=SELECT%20Id%20FROM%20Account");
  EXPECT_EQ(FindHeader(requests[1].headers, "Sforce-Query-Options"), std::nullopt);
}

TEST_F(ClientTest, FollowsNextRecordsUrlAndKeepsDecimalsExact) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"({"totalSize":3,"done":false,
      "nextRecordsUrl":"/services/data/v59.0/query/01gD0000002HU6KIAW-2",
      "records":[{"attributes":{"type":"Opportunity"},"Id":"006A","Amount":12345678901234567.89},
                 {"attributes":{"type":"Opportunity"},"Id":"006B","Amount":0.10}]})");
  transport_.Reply(200, R"({"totalSize":3,"done":true,
      "records":[{"attributes":{"type":"Opportunity"},"Id":"006C","Amount":null}]})");
  std::vector<Record> all;
  absl::StatusOr<QueryPage> page = client().Query("SELECT Id, Amount FROM Opportunity");
  while (true) {
    ASSERT_TRUE(page.ok()) << page.status();
    for (Record& r : page->records) all.push_back(std::move(r));
    if (page->done) break;
    page = client().QueryMore(page->next_records_url);
  }
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].Find("Amount")->text, "12345678901234567.89");
  EXPECT_EQ(all[1].Find("Amount")->text, "0.10");
  EXPECT_EQ(all[2].Find("Amount")->kind, FieldValue::Kind::kNull);
  std::vector<HttpRequest> requests = ApiRequests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].url,
            "https://acme.my.salesforce.com/services/data/v59.0/query/01gD0000002HU6KIAW-2");
  EXPECT_EQ(gate_.calls.back(), std::pair(CallKind::kQueryMore, Priority::kNormal));
}

TEST_F(ClientTest, QueryMoreNeverSendsTheTokenElsewhere) {
  for (const char* url :
       {"https://evil.example.com/services/data/v59.0/query/x", "//evil.example.com/services/data/",
        "/services/oauth2/token", "/services/data//evil"}) {
    absl::StatusOr<QueryPage> page = client().QueryMore(url);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << url;
  }
  EXPECT_EQ(transport_.request_count(), 0u);
}

TEST_F(ClientTest, ReauthenticatesOnceOnInvalidSession) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(401, ApiErrorBody("INVALID_SESSION_ID", "Session expired or invalid"));
  transport_.Reply(200, kSecondTokenReply);
  transport_.Reply(200, kEmptyPage);
  ASSERT_TRUE(client().Query("SELECT Id FROM Account").ok());
  std::vector<HttpRequest> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_THAT(requests[2].url, HasSubstr("/services/oauth2/token"));
  EXPECT_EQ(FindHeader(requests[3].headers, "Authorization"), "Bearer 00Dtoken!second");
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(ClientTest, ReauthenticatesOnlyOnce) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(401, ApiErrorBody("INVALID_SESSION_ID", "Session expired or invalid"));
  transport_.Reply(200, kSecondTokenReply);
  transport_.Reply(401, ApiErrorBody("INVALID_SESSION_ID", "Session expired or invalid"));
  transport_.Reply(200, kTokenReply);  // must stay unused
  absl::StatusOr<QueryPage> page = client().Query("SELECT Id FROM Account");
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetApiError(page.status())->error_code, "INVALID_SESSION_ID");
  EXPECT_EQ(transport_.request_count(), 4u);
  EXPECT_EQ(transport_.pending_replies(), 1u);
}

TEST_F(ClientTest, RetriesTransientFailuresWithGrowingJitteredBackoff) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(503, "");
  transport_.Reply(500, ApiErrorBody("UNKNOWN_EXCEPTION", "An unexpected error occurred"));
  transport_.Fail(absl::UnavailableError("connection reset by peer"));
  transport_.Fail(absl::DeadlineExceededError("timed out"));
  transport_.Reply(200, kEmptyPage);
  const auto start = clock_.Monotonic();
  ASSERT_TRUE(client().Query("SELECT Id FROM Account").ok());
  EXPECT_EQ(ApiRequests().size(), 5u);
  ASSERT_EQ(clock_.sleeps().size(), 4u);
  std::chrono::nanoseconds total{0};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_GE(clock_.sleeps()[i].count(), 0);
    EXPECT_LE(clock_.sleeps()[i], milliseconds(500) * (1 << i)) << i;
    total += clock_.sleeps()[i];
  }
  EXPECT_EQ(clock_.Monotonic() - start, total);  // slept on the clock, never for real
}

TEST_F(ClientTest, BackoffIsCappedAndDeterministicForASeed) {
  options_.initial_backoff = milliseconds(10'000);
  options_.max_backoff = milliseconds(1'000);
  options_.max_attempts = 4;
  std::vector<std::vector<std::chrono::nanoseconds>> runs;
  for (int run = 0; run < 2; ++run) {
    testing::FakeHttpTransport transport;
    RecordingClock clock;
    transport.Reply(200, kTokenReply);
    for (int i = 0; i < 4; ++i) transport.Reply(502, "");
    Client client(options_, transport, clock);
    absl::StatusOr<QueryPage> page = client.Query("SELECT Id FROM Account");
    EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(transport.request_count(), 5u);  // token + max_attempts
    ASSERT_EQ(clock.sleeps().size(), 3u);
    for (auto d : clock.sleeps()) EXPECT_LE(d, milliseconds(1'000));
    runs.push_back(clock.sleeps());
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0][0], runs[0][1]);  // jittered, not a fixed delay
}

TEST_F(ClientTest, FullJitterSpreadsOverTheWholeWindow) {
  options_.max_attempts = 2;
  options_.initial_backoff = milliseconds(1'000);
  transport_.Reply(200, kTokenReply);
  for (int i = 0; i < 200; ++i) {
    transport_.Reply(503, "");
    transport_.Reply(200, kEmptyPage);
  }
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(client().Query("SELECT Id FROM Account").ok());
  ASSERT_EQ(clock_.sleeps().size(), 200u);
  int low = 0, high = 0;
  for (auto d : clock_.sleeps()) {
    ASSERT_LE(d, milliseconds(1'000));
    if (d < milliseconds(250)) ++low;
    if (d > milliseconds(750)) ++high;
  }
  EXPECT_GT(low, 20);
  EXPECT_GT(high, 20);
}

TEST_F(ClientTest, NeverRetriesPermanentErrors) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(400, ApiErrorBody("MALFORMED_QUERY", "unexpected token: FORM"));
  absl::StatusOr<QueryPage> page = client().Query("SELECT Id FORM Account");
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(page.status().message()), "MALFORMED_QUERY: unexpected token: FORM");
  EXPECT_EQ(ApiRequests().size(), 1u);

  transport_.Reply(400, R"([{"message":"Required fields are missing: [LastName]",)"
                        R"("errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}])");
  absl::StatusOr<std::vector<SaveResult>> saved =
      client().CreateRecords("Contact", {{{"FirstName", FieldValue::String("A")}}}, true);
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetApiError(saved.status())->fields, std::vector<std::string>{"LastName"});
  EXPECT_EQ(ApiRequests().size(), 2u);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(ClientTest, RetriesUnableToLockRowEvenForCreates) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(
      400, ApiErrorBody("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"));
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]}])");
  absl::StatusOr<std::vector<SaveResult>> saved =
      client().CreateRecords("Contact", {{{"LastName", FieldValue::String("A")}}}, true);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ((*saved)[0].id, "003A");
  EXPECT_EQ(ApiRequests().size(), 2u);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(ClientTest, CreateIsNotResentWhenItsOutcomeIsUnknown) {
  transport_.Reply(200, kTokenReply);
  transport_.Fail(absl::UnavailableError("connection dropped"));
  absl::StatusOr<std::vector<SaveResult>> saved =
      client().CreateRecords("Contact", {{{"LastName", FieldValue::String("A")}}}, true);
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(saved.status().message()), HasSubstr("may have been applied"));
  EXPECT_EQ(ApiRequests().size(), 1u);
  // An update is idempotent: it is resent.
  transport_.Fail(absl::UnavailableError("connection dropped"));
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]}])");
  saved = client().UpdateRecords(
      "Contact", {{{"Id", FieldValue::String("003A")}, {"LastName", FieldValue::String("B")}}},
      true);
  EXPECT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(ApiRequests().size(), 3u);
}

constexpr char kCompositeOk[] = R"({"compositeResponse":[{"body":null,"httpHeaders":{},)"
                                R"("httpStatusCode":204,"referenceId":"r1"}]})";

TEST_F(ClientTest, CompositeWithAWriteIsNotResentAfterAnUnansweredAttempt) {
  transport_.Reply(200, kTokenReply);
  transport_.Fail(absl::UnavailableError("connection dropped"));
  // A PATCH: not a POST, but a composite with any write is not resent when it may have run.
  absl::StatusOr<std::vector<CompositeSubresponse>> r =
      client().Composite({{"PATCH", "/composite/sobjects", "r1", "{}"}}, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(OutcomeUnknown(r.status()));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("may have been applied"));
  EXPECT_EQ(ApiRequests().size(), 1u);

  // A timeout is the same.
  transport_.Fail(absl::DeadlineExceededError("timed out"));
  r = client().Composite({{"DELETE", "/composite/sobjects?ids=003A", "r1", ""}}, false);
  EXPECT_TRUE(OutcomeUnknown(r.status()));
  EXPECT_EQ(ApiRequests().size(), 2u);

  // A 2xx reply that cannot be read says nothing of what was applied either.
  transport_.Reply(200, "<html>proxy error</html>");
  r = client().Composite({{"PATCH", "/composite/sobjects", "r1", "{}"}}, false);
  EXPECT_TRUE(OutcomeUnknown(r.status())) << r.status();
}

TEST_F(ClientTest, AnAnswerAfterAnUnansweredAttemptKeepsTheOutcomeUnknown) {
  options_.max_attempts = 3;
  transport_.Reply(200, kTokenReply);
  // A 503 first proves nothing ran: resent; then the connection drops: unknown.
  transport_.Reply(503, ApiErrorBody("SERVER_UNAVAILABLE", "try later"));
  transport_.Fail(absl::UnavailableError("connection dropped"));
  absl::StatusOr<std::vector<CompositeSubresponse>> r =
      client().Composite({{"POST", "/composite/sobjects", "r1", "{}"}}, false);
  EXPECT_TRUE(OutcomeUnknown(r.status())) << r.status();
  EXPECT_EQ(ApiRequests().size(), 2u);

  // An idempotent call is resent after a drop; when the next attempt is answered 503, the
  // dropped one may still have run: the failure stays unknown, and says both.
  transport_.Fail(absl::UnavailableError("connection dropped"));
  transport_.Reply(503, ApiErrorBody("SERVER_UNAVAILABLE", "try later"));
  transport_.Reply(503, ApiErrorBody("SERVER_UNAVAILABLE", "try later"));
  absl::StatusOr<QueryPage> page = client().QueryAll("SELECT Id FROM Contact");
  EXPECT_TRUE(OutcomeUnknown(page.status())) << page.status();
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(page.status().message()), HasSubstr("connection dropped"));
  EXPECT_THAT(std::string(page.status().message()), HasSubstr("SERVER_UNAVAILABLE"));
  EXPECT_FALSE(GetApiError(page.status()).has_value()) << "not Salesforce's answer alone";

  // Answered every time: not unknown, Salesforce's error.
  transport_.Reply(503, ApiErrorBody("SERVER_UNAVAILABLE", "try later"));
  transport_.Reply(503, ApiErrorBody("SERVER_UNAVAILABLE", "try later"));
  transport_.Reply(503, ApiErrorBody("SERVER_UNAVAILABLE", "try later"));
  r = client().Composite({{"POST", "/composite/sobjects", "r1", "{}"}}, false);
  EXPECT_FALSE(OutcomeUnknown(r.status()));
  ASSERT_TRUE(GetApiError(r.status()).has_value());
  EXPECT_EQ(GetApiError(r.status())->http_status, 503);
}

TEST_F(ClientTest, AFailureBeforeSendingIsResentEvenForWrites) {
  options_.max_attempts = 2;
  transport_.Reply(200, kTokenReply);
  transport_.Fail(MarkNotSent(absl::UnavailableError("connection refused")));
  transport_.Reply(200, kCompositeOk);
  absl::StatusOr<std::vector<CompositeSubresponse>> r =
      client().Composite({{"POST", "/composite/sobjects", "r1", "{}"}}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ApiRequests().size(), 2u);

  transport_.Fail(MarkNotSent(absl::UnavailableError("connection refused")));
  transport_.Fail(MarkNotSent(absl::DeadlineExceededError("connect timed out")));
  r = client().Composite({{"POST", "/composite/sobjects", "r1", "{}"}}, false);
  EXPECT_FALSE(OutcomeUnknown(r.status())) << r.status();
  EXPECT_TRUE(WasNotSent(r.status()));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not sent"));
}

TEST_F(ClientTest, GateIsAskedBeforeEveryCallWithKindAndPriority) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"({"sobjects":[]})");
  transport_.Reply(200, R"({"name":"Contact","fields":[]})");
  transport_.Reply(200, kEmptyPage);
  transport_.Reply(200, R"({"DailyApiRequests":{"Max":15000,"Remaining":14000}})");
  transport_.Reply(200, R"({"deletedRecords":[],"earliestDateAvailable":"e",)"
                        R"("latestDateCovered":"l"})");
  transport_.Reply(200, R"({"ids":[],"latestDateCovered":"l"})");
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]}])");
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]}])");
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]}])");
  transport_.Reply(200, R"([null])");
  transport_.Reply(200, R"({"compositeResponse":[{"body":null,"httpHeaders":{},)"
                        R"("httpStatusCode":204,"referenceId":"r1"}]})");
  const Fields contact = {{"Id", FieldValue::String("003A")}};
  const auto t = clock_.Now();
  ASSERT_TRUE(client().DescribeGlobal().ok());
  ASSERT_TRUE(client().Describe("Contact").ok());
  ASSERT_TRUE(client().Query("SELECT Id FROM Contact", 0, Priority::kHigh).ok());
  ASSERT_TRUE(client().Limits().ok());
  ASSERT_TRUE(client().GetDeleted("Contact", t, t).ok());
  ASSERT_TRUE(client().GetUpdated("Contact", t, t).ok());
  ASSERT_TRUE(client().CreateRecords("Contact", {{}}, true).ok());
  ASSERT_TRUE(client().UpdateRecords("Contact", {contact}, true, Priority::kNormal).ok());
  ASSERT_TRUE(client().DeleteRecords({"003A"}, true).ok());
  ASSERT_TRUE(client().RetrieveRecords("Contact", {"003A"}, {"Id"}).ok());
  ASSERT_TRUE(client().Composite({{"DELETE", "/sobjects/Contact/003A", "r1", ""}}, true).ok());
  using P = Priority;
  EXPECT_THAT(
      gate_.calls,
      ElementsAre(
          std::pair(CallKind::kAuth, P::kNormal), std::pair(CallKind::kDescribe, P::kNormal),
          std::pair(CallKind::kDescribe, P::kNormal), std::pair(CallKind::kQuery, P::kHigh),
          std::pair(CallKind::kLimits, P::kNormal), std::pair(CallKind::kGetDeleted, P::kNormal),
          std::pair(CallKind::kGetUpdated, P::kNormal), std::pair(CallKind::kCollections, P::kHigh),
          std::pair(CallKind::kCollections, P::kNormal),
          std::pair(CallKind::kCollections, P::kHigh),
          std::pair(CallKind::kCollections, P::kNormal),
          std::pair(CallKind::kComposite, P::kHigh)));
  EXPECT_EQ(gate_.calls.size(), transport_.request_count());
}

TEST_F(ClientTest, GateIsAskedForEveryRetryAndReauthentication) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(503, "");
  transport_.Reply(401, ApiErrorBody("INVALID_SESSION_ID", "Session expired or invalid"));
  transport_.Reply(200, kSecondTokenReply);
  transport_.Reply(200, kEmptyPage);
  ASSERT_TRUE(client().Query("SELECT Id FROM Account").ok());
  EXPECT_EQ(gate_.calls.size(), transport_.request_count());
  EXPECT_EQ(gate_.calls[3].first, CallKind::kAuth);
}

TEST_F(ClientTest, GateRefusalSendsNothing) {
  gate_.refuse = true;
  absl::StatusOr<QueryPage> page = client().Query("SELECT Id FROM Account");
  EXPECT_EQ(page.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(page.status().message()), "budget spent");
  EXPECT_EQ(transport_.request_count(), 0u);
}

constexpr char kCompositeOkR1[] = R"({"compositeResponse":[{"body":null,"httpHeaders":{},)"
                                  R"("httpStatusCode":204,"referenceId":"r1"}]})";

TEST_F(ClientTest, AReservationAddsUpTheCallsWaitsInTheGateAndNothingElse) {
  gate_.clock = &clock_.fake();
  gate_.wait = milliseconds(2'000);
  transport_.Reply(200, kTokenReply);
  transport_.Reply(503, "");
  transport_.Reply(200, kCompositeOkR1);
  Reservation reservation{.waited = milliseconds(500)};
  const auto start = clock_.Monotonic();
  ASSERT_TRUE(client()
                  .Composite({{"GET", "/limits", "r1", ""}}, false, Priority::kHigh, &reservation)
                  .ok());
  ASSERT_EQ(clock_.sleeps().size(), 1u) << "the backoff before the retry";
  EXPECT_EQ(clock_.Monotonic() - start, milliseconds(6'000) + clock_.sleeps()[0])
      << "the token request's wait, the two attempts' and the backoff";
  EXPECT_EQ(reservation.waited, milliseconds(500 + 4'000))
      << "added to: the two attempts' waits, not the token request's, the backoff or the replies";
  EXPECT_FALSE(reservation.token_ahead);
}

TEST_F(ClientTest, ATokenReservedAheadPaysForTheFirstRequestOfTheNextCallOnly) {
  gate_.clock = &clock_.fake();
  gate_.wait = milliseconds(3'000);
  Reservation reservation;
  ASSERT_TRUE(client().Reserve(CallKind::kComposite, Priority::kHigh, reservation).ok());
  EXPECT_TRUE(reservation.token_ahead);
  EXPECT_EQ(reservation.waited, milliseconds(3'000));
  ASSERT_TRUE(client().Reserve(CallKind::kComposite, Priority::kHigh, reservation).ok());
  EXPECT_EQ(gate_.calls.size(), 1u) << "one held is not asked for again";
  EXPECT_EQ(transport_.request_count(), 0u) << "nothing is sent to reserve";

  transport_.Reply(200, kTokenReply);
  transport_.Reply(503, "");
  transport_.Reply(200, kCompositeOkR1);
  transport_.Reply(200, kCompositeOkR1);
  ASSERT_TRUE(client()
                  .Composite({{"GET", "/limits", "r1", ""}}, false, Priority::kHigh, &reservation)
                  .ok());
  using P = Priority;
  EXPECT_THAT(gate_.calls, ElementsAre(std::pair(CallKind::kComposite, P::kHigh),
                                       std::pair(CallKind::kAuth, P::kHigh),
                                       std::pair(CallKind::kComposite, P::kHigh)))
      << "the token request asks (it does not spend the reservation), the first attempt goes "
         "on the reserved token, the retry asks";
  EXPECT_FALSE(reservation.token_ahead);
  EXPECT_EQ(reservation.waited, milliseconds(6'000)) << "Reserve's wait and the retry's";
  ASSERT_TRUE(client()
                  .Composite({{"GET", "/limits", "r1", ""}}, false, Priority::kHigh, &reservation)
                  .ok());
  EXPECT_EQ(gate_.calls.size(), 4u) << "spent: the next call asks";
}

TEST_F(ClientTest, AReservationTheGateRefusesHoldsNothing) {
  gate_.refuse = true;
  Reservation reservation;
  absl::Status s = client().Reserve(CallKind::kComposite, Priority::kHigh, reservation);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(reservation.token_ahead);
  EXPECT_EQ(transport_.request_count(), 0u);
}

TEST_F(ClientTest, ReadsLimitInfoFromEveryReply) {
  EXPECT_FALSE(client().last_limit_info().has_value());
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, kEmptyPage, {{"sforce-limit-info", "api-usage=25/15000"}});
  transport_.Reply(400, ApiErrorBody("MALFORMED_QUERY", "x"),
                   {{"Sforce-Limit-Info", "api-usage=26/15000"}});
  ASSERT_TRUE(client().Query("SELECT Id FROM Account").ok());
  EXPECT_EQ(client().last_limit_info(), (LimitInfo{25, 15000, std::nullopt}));
  EXPECT_FALSE(client().Query("SELECT").ok());
  EXPECT_EQ(client().last_limit_info(), (LimitInfo{26, 15000, std::nullopt}));
  ASSERT_EQ(gate_.observed.size(), 2u);
  EXPECT_EQ(gate_.observed[1].used, 26);
}

TEST_F(ClientTest, CollectionsOver200AreRefusedLocally) {
  std::vector<Fields> records(201, Fields{{"Id", FieldValue::String("003A")}});
  EXPECT_EQ(client().CreateRecords("Contact", records, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client().UpdateRecords("Contact", records, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client().DeleteRecords(std::vector<std::string>(201, "003A"), true).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<CompositeSubrequest> subrequests(26, {"GET", "/limits", "r", ""});
  EXPECT_EQ(client().Composite(subrequests, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 0u);
  EXPECT_TRUE(gate_.calls.empty());
}

TEST_F(ClientTest, CreateSendsExactJsonAndReadsPerRecordResults) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]},
      {"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING",
        "message":"Required fields are missing: [LastName]","fields":["LastName"]}]}])");
  std::vector<Fields> records = {{{"LastName", FieldValue::String("O'Brien \"Bob\"")},
                                  {"Amount__c", FieldValue::Number("12345678901234567.89")},
                                  {"Email", FieldValue::Null()},
                                  {"Active__c", FieldValue::Bool(true)}},
                                 {{"FirstName", FieldValue::String("NoLast")}}};
  absl::StatusOr<std::vector<SaveResult>> results =
      client().CreateRecords("Contact", records, false);
  ASSERT_TRUE(results.ok()) << results.status();
  HttpRequest request = ApiRequests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, std::string(kData) + "/composite/sobjects");
  EXPECT_EQ(FindHeader(request.headers, "Content-Type"), "application/json");
  EXPECT_EQ(request.body,
            R"({"allOrNone":false,"records":[{"attributes":{"type":"Contact"},)"
            R"("LastName":"O'Brien \"Bob\"","Amount__c":12345678901234567.89,"Email":null,)"
            R"("Active__c":true},{"attributes":{"type":"Contact"},"FirstName":"NoLast"}]})");
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0].success);
  EXPECT_TRUE(SaveResultStatus((*results)[0]).ok());
  EXPECT_FALSE((*results)[1].success);
  EXPECT_EQ(
      (*results)[1].errors,
      (std::vector<SaveError>{
          {"REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", {"LastName"}}}));
  absl::Status status = SaveResultStatus((*results)[1]);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)");
  EXPECT_EQ(GetApiError(status)->error_code, "REQUIRED_FIELD_MISSING");
}

TEST_F(ClientTest, UpdateDeleteAndRetrieveRequests) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]}])");
  transport_.Reply(200, R"([{"id":"003A","success":true,"errors":[]},)"
                        R"({"id":"003B","success":false,"errors":[{"statusCode":)"
                        R"("ENTITY_IS_DELETED","message":"entity is deleted","fields":[]}]}])");
  transport_.Reply(200, R"([{"attributes":{"type":"Contact"},"Id":"003A","Name":"X"},null])");
  ASSERT_TRUE(client()
                  .UpdateRecords(
                      "Contact",
                      {{{"Id", FieldValue::String("003A")}, {"Title", FieldValue::Null()}}}, true)
                  .ok());
  absl::StatusOr<std::vector<SaveResult>> deleted = client().DeleteRecords({"003A", "003B"}, true);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(SaveResultStatus((*deleted)[1]).code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<std::optional<Record>>> retrieved =
      client().RetrieveRecords("Contact", {"003A", "003Z"}, {"Id", "Name"});
  ASSERT_TRUE(retrieved.ok()) << retrieved.status();
  ASSERT_EQ(retrieved->size(), 2u);
  EXPECT_EQ((*retrieved)[0]->Find("Name")->text, "X");
  EXPECT_FALSE((*retrieved)[1].has_value());

  std::vector<HttpRequest> requests = ApiRequests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].body, R"({"allOrNone":true,"records":[{"attributes":{"type":"Contact"},)"
                              R"("Id":"003A","Title":null}]})");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[1].url,
            std::string(kData) + "/composite/sobjects?ids=003A%2C003B&allOrNone=true");
  EXPECT_EQ(requests[1].body, "");
  EXPECT_EQ(requests[2].method, "GET");
  EXPECT_EQ(requests[2].url,
            std::string(kData) + "/composite/sobjects/Contact?ids=003A%2C003Z&fields=Id%2CName");
}

TEST_F(ClientTest, UpdateWithoutIdIsRefusedLocally) {
  absl::StatusOr<std::vector<SaveResult>> saved =
      client().UpdateRecords("Contact", {{{"LastName", FieldValue::String("B")}}}, true);
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 0u);
}

TEST_F(ClientTest, ResultCountMismatchIsAnError) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"([])");
  EXPECT_EQ(client().DeleteRecords({"003A"}, true).status().code(), absl::StatusCode::kInternal);
}

TEST_F(ClientTest, CompositeRequestAndResults) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"({"compositeResponse":[
      {"body":{"id":"001A","success":true,"errors":[]},"httpHeaders":{"Location":"/x"},
       "httpStatusCode":201,"referenceId":"acct"},
      {"body":[{"errorCode":"PROCESSING_HALTED","message":"halted"}],"httpHeaders":{},
       "httpStatusCode":400,"referenceId":"contact"}]})");
  std::vector<CompositeSubrequest> subrequests = {
      {"POST", "/sobjects/Account", "acct", R"({"Name":"Acme"})"},
      {"POST", "/services/data/v59.0/sobjects/Contact", "contact",
       R"({"LastName":"X","AccountId":"@{acct.id}"})"}};
  absl::StatusOr<std::vector<CompositeSubresponse>> results = client().Composite(subrequests, true);
  ASSERT_TRUE(results.ok()) << results.status();
  HttpRequest request = ApiRequests().at(0);
  EXPECT_EQ(request.url, std::string(kData) + "/composite");
  EXPECT_EQ(request.body,
            R"({"allOrNone":true,"compositeRequest":[)"
            R"({"method":"POST","url":"/services/data/v59.0/sobjects/Account",)"
            R"("referenceId":"acct","body":{"Name":"Acme"}},)"
            R"({"method":"POST","url":"/services/data/v59.0/sobjects/Contact",)"
            R"("referenceId":"contact","body":{"LastName":"X","AccountId":"@{acct.id}"}}]})");
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].http_status, 201);
  EXPECT_EQ((*results)[0].reference_id, "acct");
  EXPECT_EQ((*results)[0].body, R"({"id":"001A","success":true,"errors":[]})");
  EXPECT_EQ((*results)[1].http_status, 400);
  EXPECT_EQ(GetApiError(StatusFromErrorReply(400, (*results)[1].body))->error_code,
            "PROCESSING_HALTED");
}

TEST_F(ClientTest, DescribeParsesObjectAndFields) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"({"encoding":"UTF-8","maxBatchSize":200,"sobjects":[
      {"name":"Account","label":"Account","labelPlural":"Accounts","keyPrefix":"001",
       "custom":false,"queryable":true,"replicateable":true,"createable":true,
       "updateable":true,"deletable":true,"urls":{"sobject":"/x"}},
      {"name":"Foo__Share","label":"Foo Share","labelPlural":"Foo Share","keyPrefix":null,
       "custom":true,"queryable":true,"replicateable":false}]})");
  transport_.Reply(200, R"({"name":"Account","label":"Account","custom":false,
      "fields":[
        {"name":"Id","type":"id","soapType":"tns:ID","length":18,"byteLength":18,
         "nillable":false,"createable":false,"updateable":false,"referenceTo":[],
         "relationshipName":null,"picklistValues":[],"idLookup":true},
        {"name":"AnnualRevenue","type":"currency","soapType":"xsd:double","precision":18,
         "scale":2,"nillable":true,"createable":true,"updateable":true},
        {"name":"ParentId","type":"reference","referenceTo":["Account"],
         "relationshipName":"Parent"},
        {"name":"Rating","type":"picklist","restrictedPicklist":true,"picklistValues":[
          {"active":true,"defaultValue":false,"label":"Hot","validFor":null,"value":"Hot"},
          {"active":false,"defaultValue":true,"label":"Cold","value":"Cold"}]},
        {"name":"BillingCity","type":"string","length":40,"byteLength":120,
         "compoundFieldName":"BillingAddress"},
        {"name":"Score__c","type":"double","calculated":true,"calculatedFormula":"1 + 2",
         "custom":true,"digits":0,"externalId":false,"unique":false,"autoNumber":false,
         "htmlFormatted":true,"defaultedOnCreate":true}]})");
  absl::StatusOr<std::vector<SObjectSummary>> global = client().DescribeGlobal();
  ASSERT_TRUE(global.ok()) << global.status();
  ASSERT_EQ(global->size(), 2u);
  EXPECT_EQ((*global)[0].label_plural, "Accounts");
  EXPECT_EQ((*global)[0].key_prefix, "001");
  EXPECT_TRUE((*global)[0].replicateable);
  EXPECT_EQ((*global)[1].key_prefix, "");
  EXPECT_TRUE((*global)[1].custom);

  absl::StatusOr<SObjectDescribe> account = client().Describe("Account");
  ASSERT_TRUE(account.ok()) << account.status();
  EXPECT_EQ(ApiRequests()[1].url, std::string(kData) + "/sobjects/Account/describe");
  ASSERT_EQ(account->fields.size(), 6u);
  const FieldDescribe* id = account->FindField("Id");
  EXPECT_EQ(id->soap_type, "tns:ID");
  EXPECT_EQ(id->length, 18);
  EXPECT_TRUE(id->id_lookup);
  EXPECT_FALSE(id->createable);
  const FieldDescribe* revenue = account->FindField("AnnualRevenue");
  EXPECT_EQ(revenue->type, "currency");
  EXPECT_EQ(revenue->precision, 18);
  EXPECT_EQ(revenue->scale, 2);
  EXPECT_EQ(account->FindField("ParentId")->reference_to, std::vector<std::string>{"Account"});
  EXPECT_EQ(account->FindField("ParentId")->relationship_name, "Parent");
  const FieldDescribe* rating = account->FindField("Rating");
  EXPECT_TRUE(rating->restricted_picklist);
  ASSERT_EQ(rating->picklist_values.size(), 2u);
  EXPECT_EQ(rating->picklist_values[0].value, "Hot");
  EXPECT_TRUE(rating->picklist_values[0].active);
  EXPECT_TRUE(rating->picklist_values[1].default_value);
  EXPECT_EQ(account->FindField("BillingCity")->compound_field_name, "BillingAddress");
  EXPECT_EQ(account->FindField("BillingCity")->byte_length, 120);
  const FieldDescribe* score = account->FindField("Score__c");
  EXPECT_TRUE(score->calculated);
  EXPECT_EQ(score->calculated_formula, "1 + 2");
  EXPECT_TRUE(score->html_formatted);
  EXPECT_TRUE(score->defaulted_on_create);
  EXPECT_TRUE(score->custom);
}

TEST_F(ClientTest, LimitsDeletedAndUpdated) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, R"({"DailyApiRequests":{"Max":15000,"Remaining":14998,
      "Ant Migration Tool":{"Max":0,"Remaining":0}},
      "DailyBulkV2QueryJobs":{"Max":10000,"Remaining":9999}})");
  transport_.Reply(200, R"({"deletedRecords":[{"id":"003A","deletedDate":
      "2024-01-15T10:20:00.000+0000"}],"earliestDateAvailable":"2024-01-01T00:00:00.000+0000",
      "latestDateCovered":"2024-01-15T10:00:00.000+0000"})");
  transport_.Reply(200,
                   R"({"ids":["003A","003B"],"latestDateCovered":"2024-01-15T10:00:00.000+0000"})");
  absl::StatusOr<std::map<std::string, LimitValue>> limits = client().Limits();
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->at("DailyApiRequests").max, 15000);
  EXPECT_EQ(limits->at("DailyApiRequests").remaining, 14998);
  EXPECT_EQ(limits->at("DailyBulkV2QueryJobs").remaining, 9999);

  const core::Clock::WallTime start{std::chrono::seconds(1'705'276'800)};  // 2024-01-15T00:00Z
  absl::StatusOr<DeletedRecords> deleted =
      client().GetDeleted("Contact", start, start + std::chrono::hours(10));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  ASSERT_EQ(deleted->deleted_records.size(), 1u);
  EXPECT_EQ(deleted->deleted_records[0].id, "003A");
  EXPECT_EQ(deleted->deleted_records[0].deleted_date, "2024-01-15T10:20:00.000+0000");
  EXPECT_EQ(deleted->earliest_date_available, "2024-01-01T00:00:00.000+0000");
  EXPECT_EQ(deleted->latest_date_covered, "2024-01-15T10:00:00.000+0000");
  absl::StatusOr<UpdatedRecords> updated =
      client().GetUpdated("Contact", start, start + std::chrono::hours(10));
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->ids, (std::vector<std::string>{"003A", "003B"}));

  std::vector<HttpRequest> requests = ApiRequests();
  EXPECT_EQ(requests[0].url, std::string(kData) + "/limits");
  EXPECT_EQ(requests[1].url, std::string(kData) +
                                 "/sobjects/Contact/deleted/?start=2024-01-15T00%3A00%3A00%2B00"
                                 "%3A00&end=2024-01-15T10%3A00%3A00%2B00%3A00");
  EXPECT_EQ(requests[2].url, std::string(kData) +
                                 "/sobjects/Contact/updated/?start=2024-01-15T00%3A00%3A00%2B00"
                                 "%3A00&end=2024-01-15T10%3A00%3A00%2B00%3A00");
}

TEST_F(ClientTest, VersionsNeedNoTokenAndNoBudget) {
  transport_.Reply(200,
                   R"([{"label":"Winter '24","url":"/services/data/v59.0","version":"59.0"}])");
  absl::StatusOr<std::vector<ApiVersion>> versions = client().Versions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].version, "59.0");
  EXPECT_EQ((*versions)[0].url, "/services/data/v59.0");
  HttpRequest request = transport_.requests().at(0);
  EXPECT_EQ(request.url, "https://login.salesforce.com/services/data/");
  EXPECT_EQ(FindHeader(request.headers, "Authorization"), std::nullopt);
  EXPECT_TRUE(gate_.calls.empty());
}

TEST_F(ClientTest, AuthFailureIsPermanentAndNamesNoSecret) {
  transport_.Reply(400,
                   R"({"error":"invalid_grant","error_description":"authentication failure"})");
  absl::StatusOr<QueryPage> page = client().Query("SELECT Id FROM Account");
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnauthenticated);
  const std::string message(page.status().message());
  EXPECT_THAT(message, HasSubstr("invalid_grant"));
  EXPECT_THAT(message, HasSubstr("username=sync@example.com"));
  EXPECT_THAT(message, Not(HasSubstr("PASSWORD-abc")));
  EXPECT_THAT(message, Not(HasSubstr("CLIENT-SECRET")));
  EXPECT_EQ(transport_.request_count(), 1u);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(ClientTest, AuthRetriesTransientFailures) {
  transport_.Fail(absl::UnavailableError("connection refused"));
  transport_.Reply(503, "");
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, kEmptyPage);
  ASSERT_TRUE(client().Query("SELECT Id FROM Account").ok());
  EXPECT_EQ(transport_.request_count(), 4u);
  EXPECT_EQ(clock_.sleeps().size(), 2u);
}

TEST_F(ClientTest, NoSecretInAnyStatusOrLogLine) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  std::shared_ptr<spdlog::logger> logger = core::Logger("salesforce");
  logger->sinks().push_back(sink);
  const spdlog::level::level_enum level = logger->level();
  logger->set_level(spdlog::level::trace);

  std::vector<std::string> messages;
  transport_.Fail(absl::UnavailableError("connection reset"));
  transport_.Reply(200, kTokenReply);
  transport_.Reply(503, "");
  transport_.Reply(401, ApiErrorBody("INVALID_SESSION_ID", "Session expired or invalid"));
  transport_.Reply(200, kSecondTokenReply);
  transport_.Reply(401, ApiErrorBody("INVALID_SESSION_ID", "Session expired or invalid"));
  messages.emplace_back(client().Query("SELECT Id FROM Account").status().message());
  transport_.Reply(400, R"({"error":"invalid_client","error_description":"invalid client"})");
  messages.emplace_back(client().Authenticate().message());
  transport_.Reply(200, kTokenReply);
  transport_.Fail(absl::UnavailableError("connection dropped"));
  messages.emplace_back(
      client()
          .CreateRecords("Contact", {{{"LastName", FieldValue::String("x")}}}, true)
          .status()
          .message());

  logger->sinks().pop_back();
  logger->set_level(level);
  messages.push_back(log.str());
  EXPECT_THAT(log.str(), HasSubstr("retry_in_ms"));  // the log was captured
  for (const std::string& text : messages) {
    for (const char* secret :
         {"PASSWORD-abc", "CLIENT-SECRET", "00Dtoken!first", "00Dtoken!second"}) {
      EXPECT_THAT(text, Not(HasSubstr(secret)));
    }
  }
}

}  // namespace
}  // namespace sfbridge::salesforce
