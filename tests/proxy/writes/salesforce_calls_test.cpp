// The write path's Salesforce calls on a fake HTTP transport: each statement chunk is one
// Composite request holding its write and its read-back; statements of several sessions share
// requests (coalescing) and each keeps its own result; failures map to one SQLSTATE each.
// Over 500 lines: nineteen cases on one fake transport, each spelling out the Composite bodies it
// expects; splitting them would only spread the fixture over files.

#include "proxy/writes/salesforce_calls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/cord.h"
#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/client.h"
#include "proxy/writes/composite_batcher.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/priority_budget_gate.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_transport.h"

namespace sfbridge::proxy::writes {
namespace {

using salesforce::CompositeSubresponse;
using salesforce::Fields;
using salesforce::FieldValue;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTokenReply[] = R"({"access_token":"00Dtoken","instance_url":)"
                               R"("https://acme.my.salesforce.com","id":)"
                               R"("https://login.salesforce.com/id/00DORG/005USER",)"
                               R"("token_type":"Bearer","issued_at":"1700000000000"})";

SyncedTable Invoice() {
  SyncedTable t{.schema = "salesforce", .table = "invoice__c", .object = "Invoice__c"};
  t.fields = {
      {.field = "Id", .column = "id", .column_type = "text", .salesforce_type = "id"},
      {.field = "Status__c",
       .column = "status__c",
       .column_type = "text",
       .salesforce_type = "picklist",
       .createable = true,
       .updateable = true},
      {.field = "SystemModstamp",
       .column = "system_modstamp",
       .column_type = "timestamp with time zone",
       .salesforce_type = "datetime"},
  };
  return t;
}

Fields Status(std::string status) { return {{"Status__c", FieldValue::String(std::move(status))}}; }
Fields WithId(std::string id, std::string status) {
  return {{"Id", FieldValue::String(std::move(id))},
          {"Status__c", FieldValue::String(std::move(status))}};
}

std::string Record(std::string_view id, std::string_view status) {
  return core::StrCat(R"({"attributes":{"type":"Invoice__c"},"Id":")", id, R"(","Status__c":")",
                      status, R"(","SystemModstamp":"2026-01-02T03:04:05.000+0000"})");
}

// One statement's pair of subresponses: its collection results and its read-back.
std::string Accepted(std::string_view ref, const std::vector<std::string>& ids,
                     std::string_view status) {
  std::string results, records;
  for (size_t i = 0; i < ids.size(); ++i) {
    core::StrAppend(&results, i ? "," : "", R"({"id":")", ids[i],
                    R"(","success":true,"errors":[]})");
    core::StrAppend(&records, i ? "," : "", Record(ids[i], status));
  }
  return core::StrCat(R"({"body":[)", results, R"(],"httpHeaders":{},"httpStatusCode":200,)",
                      R"("referenceId":")", ref, R"(w"},{"body":[)", records,
                      R"(],"httpHeaders":{},"httpStatusCode":200,"referenceId":")", ref, R"(r"})");
}
std::string Refused(std::string_view ref, std::string_view code) {
  return core::StrCat(
      R"({"body":[{"id":null,"success":false,"errors":[{"statusCode":")", code,
      R"(","message":"refused","fields":["Status__c"]}]}],"httpHeaders":{},"httpStatusCode":200,)",
      R"("referenceId":")", ref,
      R"(w"},{"body":[{"errorCode":"PROCESSING_HALTED","message":"no value"}],"httpHeaders":{},)",
      R"("httpStatusCode":400,"referenceId":")", ref, R"(r"})");
}
std::string Composite(const std::vector<std::string>& parts) {
  return core::StrCat(R"({"compositeResponse":[)", core::StrJoin(parts, ","), "]}");
}

// Holds the first Composite request until Release(), so that others queue behind it.
class HoldingTransport final : public salesforce::HttpTransport {
 public:
  absl::StatusOr<salesforce::HttpResponse> Send(const salesforce::HttpRequest& r) override {
    if (r.url.ends_with("/composite")) {
      std::unique_lock lock(mu_);
      if (composites_++ == 0) {
        in_flight_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
      }
    }
    return fake.Send(r);
  }
  void WaitInFlight() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<salesforce::HttpRequest> Composites() const {
    std::vector<salesforce::HttpRequest> out;
    for (const auto& r : fake.requests()) {
      if (r.url.ends_with("/composite")) out.push_back(r);
    }
    return out;
  }

  sfbridge::testing::FakeHttpTransport fake;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int composites_ = 0;
  bool in_flight_ = false;
  bool released_ = false;
};

// A clock whose sleeps (the coalescing window) last until Release().
class HeldClock final : public core::Clock {
 public:
  WallTime Now() const override { return fake_.Now(); }
  MonoTime Monotonic() const override { return fake_.Monotonic(); }
  void SleepFor(std::chrono::nanoseconds d) override {
    std::unique_lock lock(mu_);
    ++sleeping_;
    cv_.wait(lock, [&] { return released_; });
    fake_.Advance(d);
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int sleeping() {
    std::lock_guard lock(mu_);
    return sleeping_;
  }

 private:
  sfbridge::testing::FakeClock fake_;
  std::mutex mu_;
  std::condition_variable cv_;
  int sleeping_ = 0;
  bool released_ = false;
};

template <typename Pred>
void WaitUntil(Pred pred) {
  for (int i = 0; i < 5000 && !pred(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(pred());
}

salesforce::ClientOptions Options(int attempts = 1) {
  salesforce::ClientOptions o;
  o.credentials.flow = salesforce::AuthFlow::kPassword;
  o.credentials.client_id = "cid";
  o.credentials.client_secret = "secret";
  o.credentials.username = "u@x";
  o.credentials.password = "pw";
  o.max_attempts = attempts;
  o.jitter_seed = 1;
  return o;
}

AnalyzedWrite Write(Operation op) {
  AnalyzedWrite w;
  w.operation = op;
  w.relation = "invoice__c";
  return w;
}

TEST(ChunkRequestTest, InsertReadsBackTheCreatedIdsByReference) {
  ChunkRequest r =
      BuildChunkRequest(Operation::kInsert, Invoice(), {Status("Sent"), Status("Paid")}, "s7_");
  ASSERT_EQ(r.subrequests.size(), 2u);
  EXPECT_EQ(r.queries, 0);
  const auto& write = r.subrequests[0];
  EXPECT_EQ(write.method, "POST");
  EXPECT_EQ(write.url, "/composite/sobjects");
  EXPECT_EQ(write.reference_id, "s7_w");
  EXPECT_EQ(write.body,
            R"({"allOrNone":true,"records":[{"attributes":{"type":"Invoice__c"},)"
            R"("Status__c":"Sent"},{"attributes":{"type":"Invoice__c"},"Status__c":"Paid"}]})");
  const auto& read = r.subrequests[1];
  EXPECT_EQ(read.method, "GET");
  EXPECT_EQ(read.reference_id, "s7_r");
  EXPECT_EQ(read.url,
            "/composite/sobjects/Invoice__c?ids=@{s7_w[0].id},@{s7_w[1].id}"
            "&fields=Id,Status__c,SystemModstamp");
}

TEST(ChunkRequestTest, UpdateAndDeleteNameTheirIdsAndADeleteIsReadWithQueryAll) {
  ChunkRequest up = BuildChunkRequest(Operation::kUpdate, Invoice(),
                                      {WithId("a00A", "Paid"), WithId("a00B", "Void")}, "p_");
  EXPECT_EQ(up.subrequests[0].method, "PATCH");
  EXPECT_THAT(up.subrequests[0].body, HasSubstr(R"("allOrNone":true)"));
  EXPECT_THAT(up.subrequests[0].body, HasSubstr(R"("Id":"a00A")"));
  EXPECT_EQ(up.subrequests[1].url,
            "/composite/sobjects/Invoice__c?ids=a00A,a00B&fields=Id,Status__c,SystemModstamp");

  ChunkRequest del = BuildChunkRequest(
      Operation::kDelete, Invoice(),
      {{{"Id", FieldValue::String("a00A")}}, {{"Id", FieldValue::String("a00B")}}}, "d_");
  EXPECT_EQ(del.queries, 1);
  EXPECT_EQ(del.subrequests[0].method, "DELETE");
  EXPECT_EQ(del.subrequests[0].url, "/composite/sobjects?ids=a00A,a00B&allOrNone=true");
  EXPECT_EQ(del.subrequests[0].body, "");
  EXPECT_THAT(del.subrequests[1].url, HasSubstr("/queryAll?q=SELECT"));
  EXPECT_THAT(del.subrequests[1].url, HasSubstr("a00A"));
  EXPECT_THAT(del.subrequests[1].url, Not(HasSubstr(" ")));
}

TEST(ChunkReplyTest, AcceptedRefusedAndUnreadable) {
  const std::vector<Fields> two = {Status("Sent"), Status("Paid")};
  auto replies = [](const std::string& pair) {
    return *salesforce::ParseCompositeResponse(Composite({pair}));
  };
  ChunkOutcome ok = ReadChunkReply(Operation::kInsert, Invoice(), two,
                                   replies(Accepted("s_", {"a00A", "a00B"}, "Sent")), "org", 1);
  ASSERT_TRUE(ok.failure.ok()) << ok.failure;
  EXPECT_THAT(ok.accepted, ::testing::ElementsAre("a00A", "a00B"));
  ASSERT_TRUE(ok.changes.ok()) << ok.changes.status();
  ASSERT_EQ(ok.changes->size(), 2u);
  EXPECT_EQ((*ok.changes)[0].record_id(), "a00A");
  EXPECT_FALSE((*ok.changes)[0].deleted());

  ChunkOutcome refused =
      ReadChunkReply(Operation::kInsert, Invoice(), {Status("x")},
                     replies(Refused("s_", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")), "org", 1);
  ASSERT_FALSE(refused.failure.ok());
  EXPECT_TRUE(refused.accepted.empty());
  ASSERT_TRUE(salesforce::GetApiError(refused.failure).has_value());
  EXPECT_EQ(salesforce::GetApiError(refused.failure)->error_code,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");

  // Written, but the read-back failed: accepted, and the changes say why they are missing.
  std::string read_failed = Accepted("s_", {"a00A"}, "Sent");
  read_failed = read_failed.substr(0, read_failed.find(R"(},{"body")") + 1) +
                R"(,{"body":[{"errorCode":"SERVER_UNAVAILABLE","message":"x"}],)"
                R"("httpHeaders":{},"httpStatusCode":503,"referenceId":"s_r"})";
  ChunkOutcome half = ReadChunkReply(Operation::kUpdate, Invoice(), {WithId("a00A", "Sent")},
                                     replies(read_failed), "org", 1);
  EXPECT_TRUE(half.failure.ok());
  EXPECT_THAT(half.accepted, ::testing::ElementsAre("a00A"));
  EXPECT_FALSE(half.changes.ok());

  // A collection reply that cannot be read: the outcome is unknown.
  ChunkOutcome garbled =
      ReadChunkReply(Operation::kInsert, Invoice(), {Status("x")},
                     replies(R"({"body":{"no":"array"},"httpStatusCode":200,"referenceId":"s_w"},)"
                             R"({"body":[],"httpStatusCode":200,"referenceId":"s_r"})"),
                     "org", 1);
  EXPECT_TRUE(salesforce::OutcomeUnknown(garbled.failure)) << garbled.failure;
}

class CallsTest : public ::testing::Test {
 protected:
  sfbridge::testing::FakeClock clock_;
  sfbridge::testing::FakeHttpTransport transport_;
};

TEST_F(CallsTest, OneStatementIsOneCompositeRequestWithItsReadBack) {
  salesforce::Client client(Options(), transport_, clock_);
  CompositeBatcher batcher(client, clock_, std::chrono::microseconds(0));
  SalesforceCalls calls(batcher, clock_, "org");
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, Composite({Accepted("s0_", {"a00A"}, "Sent")}));
  std::chrono::nanoseconds sf{0};
  ChunkOutcome out = calls.SendChunk(Write(Operation::kInsert), Invoice(), {Status("Sent")}, &sf);
  ASSERT_TRUE(out.failure.ok()) << out.failure;
  ASSERT_TRUE(out.changes.ok());
  EXPECT_EQ(out.changes->size(), 1u);
  ASSERT_EQ(transport_.request_count(), 2u);  // the token, then one API call
  const salesforce::HttpRequest r = transport_.requests()[1];
  EXPECT_EQ(r.method, "POST");
  EXPECT_TRUE(r.url.ends_with("/services/data/v59.0/composite")) << r.url;
  EXPECT_THAT(r.body, HasSubstr(R"({"allOrNone":false,"compositeRequest":[)")) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("url":"/services/data/v59.0/composite/sobjects")"));
  EXPECT_THAT(r.body, HasSubstr(R"(ids=@{s0_w[0].id})"));
}

TEST_F(CallsTest, ARowLockIsResentOnlyWhenItAppliedNothing) {
  salesforce::Client client(Options(), transport_, clock_);
  CompositeBatcher batcher(client, clock_, std::chrono::microseconds(0));
  SalesforceCalls calls(batcher, clock_, "org", /*lock_attempts=*/2,
                        /*lock_backoff=*/std::chrono::milliseconds(300));
  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, Composite({Refused("s0_", "UNABLE_TO_LOCK_ROW")}));
  transport_.Reply(200, Composite({Accepted("s1_", {"a00A"}, "Paid")}));
  std::chrono::nanoseconds sf{0};
  const auto start = clock_.Monotonic();
  ChunkOutcome out =
      calls.SendChunk(Write(Operation::kUpdate), Invoice(), {WithId("a00A", "Paid")}, &sf);
  EXPECT_TRUE(out.failure.ok()) << out.failure;
  EXPECT_EQ(transport_.request_count(), 3u);
  EXPECT_EQ(clock_.Monotonic() - start, std::chrono::milliseconds(300));

  // The last attempt's lock error is the statement's: 55P03, nothing applied.
  transport_.Reply(200, Composite({Refused("s2_", "UNABLE_TO_LOCK_ROW")}));
  transport_.Reply(200, Composite({Refused("s3_", "UNABLE_TO_LOCK_ROW")}));
  out = calls.SendChunk(Write(Operation::kUpdate), Invoice(), {WithId("a00A", "Paid")}, &sf);
  EXPECT_EQ(MapCallFailure(out.failure, Operation::kUpdate, Invoice(), 0).error.sqlstate, "55P03");
  EXPECT_EQ(transport_.request_count(), 5u);
}

TEST(CoalescingTest, StatementsQueuedBehindARequestShareTheNextOneAndKeepTheirOwnResults) {
  sfbridge::testing::FakeClock clock;
  HoldingTransport transport;
  salesforce::Client client(Options(), transport, clock);
  CompositeBatcher batcher(client, clock, std::chrono::microseconds(1));
  SalesforceCalls calls(batcher, clock, "org");
  transport.fake.Reply(200, kTokenReply);
  transport.fake.Reply(200, Composite({Accepted("s0_", {"a00A"}, "Sent")}));
  // The next request: B and D accepted, C refused on its own.
  transport.fake.Reply(200, Composite({Accepted("s1_", {"a00B"}, "Paid"),
                                       Refused("s2_", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
                                       Accepted("s3_", {"a00D"}, "Void")}));
  const AnalyzedWrite update = Write(Operation::kUpdate);
  ChunkOutcome a, b, c, d;
  std::chrono::nanoseconds sf{0};
  std::thread ta([&] { a = calls.SendChunk(update, Invoice(), {WithId("a00A", "Sent")}, &sf); });
  transport.WaitInFlight();
  std::chrono::nanoseconds sf_b{0}, sf_c{0}, sf_d{0};
  std::thread tb([&] { b = calls.SendChunk(update, Invoice(), {WithId("a00B", "Paid")}, &sf_b); });
  WaitUntil([&] { return batcher.queued() == 1; });
  std::thread tc([&] { c = calls.SendChunk(update, Invoice(), {WithId("a00C", "Bad")}, &sf_c); });
  WaitUntil([&] { return batcher.queued() == 2; });
  std::thread td([&] { d = calls.SendChunk(update, Invoice(), {WithId("a00D", "Void")}, &sf_d); });
  WaitUntil([&] { return batcher.queued() == 3; });
  transport.Release();
  ta.join();
  tb.join();
  tc.join();
  td.join();

  EXPECT_EQ(batcher.requests_sent(), 2);
  std::vector<salesforce::HttpRequest> sent = transport.Composites();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_THAT(sent[1].body, HasSubstr(R"({"allOrNone":false,)"));
  for (const char* ref : {"s1_w", "s1_r", "s2_w", "s2_r", "s3_w", "s3_r"}) {
    EXPECT_THAT(sent[1].body, HasSubstr(core::StrCat(R"("referenceId":")", ref, "\"")));
  }
  EXPECT_TRUE(a.failure.ok()) << a.failure;
  EXPECT_TRUE(b.failure.ok()) << b.failure;
  EXPECT_TRUE(d.failure.ok()) << d.failure;
  EXPECT_THAT(b.accepted, ::testing::ElementsAre("a00B"));
  EXPECT_THAT(d.accepted, ::testing::ElementsAre("a00D"));
  ASSERT_TRUE(b.changes.ok());
  EXPECT_EQ((*b.changes)[0].record_id(), "a00B");
  ASSERT_TRUE(d.changes.ok());
  EXPECT_EQ((*d.changes)[0].record_id(), "a00D");
  ASSERT_FALSE(c.failure.ok());
  EXPECT_TRUE(c.accepted.empty());
  PgError error = MapCallFailure(c.failure, Operation::kUpdate, Invoice(), 0).error;
  EXPECT_EQ(error.sqlstate, "22023");
}

TEST(CoalescingTest, WritesWithinTheWindowShareOneRequest) {
  HeldClock clock;
  sfbridge::testing::FakeHttpTransport transport;
  salesforce::Client client(Options(), transport, clock);
  CompositeBatcher batcher(client, clock, std::chrono::milliseconds(5));
  SalesforceCalls calls(batcher, clock, "org");
  transport.Reply(200, kTokenReply);
  transport.Reply(200,
                  Composite({Accepted("s0_", {"a00A"}, "Sent"), Accepted("s1_", {"a00B"}, "Sent"),
                             Accepted("s2_", {"a00C"}, "Sent")}));
  const AnalyzedWrite update = Write(Operation::kUpdate);
  ChunkOutcome out[3];
  std::chrono::nanoseconds sf[3] = {};
  std::thread first(
      [&] { out[0] = calls.SendChunk(update, Invoice(), {WithId("a00A", "S")}, &sf[0]); });
  WaitUntil([&] { return clock.sleeping() == 1; });  // leading, waiting out the window
  std::thread second(
      [&] { out[1] = calls.SendChunk(update, Invoice(), {WithId("a00B", "S")}, &sf[1]); });
  WaitUntil([&] { return batcher.queued() == 2; });
  std::thread third(
      [&] { out[2] = calls.SendChunk(update, Invoice(), {WithId("a00C", "S")}, &sf[2]); });
  WaitUntil([&] { return batcher.queued() == 3; });
  clock.Release();
  first.join();
  second.join();
  third.join();
  EXPECT_EQ(batcher.requests_sent(), 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(out[i].failure.ok()) << i << out[i].failure;
    ASSERT_EQ(out[i].accepted.size(), 1u);
  }
  EXPECT_EQ(out[1].accepted[0], "a00B");
  EXPECT_EQ(transport.request_count(), 2u);  // the token and one Composite request
}

TEST(CoalescingTest, ALoneWriteAfterAQuietSpellDoesNotWaitOutTheWindow) {
  sfbridge::testing::FakeClock clock;
  sfbridge::testing::FakeHttpTransport transport;
  salesforce::Client client(Options(), transport, clock);
  CompositeBatcher batcher(client, clock, std::chrono::milliseconds(5));
  SalesforceCalls calls(batcher, clock, "org");
  transport.Reply(200, kTokenReply);
  transport.Reply(200, Composite({Accepted("s0_", {"a00A"}, "Sent")}));
  transport.Reply(200, Composite({Accepted("s1_", {"a00B"}, "Sent")}));
  transport.Reply(200, Composite({Accepted("s2_", {"a00C"}, "Sent")}));
  const AnalyzedWrite update = Write(Operation::kUpdate);
  std::chrono::nanoseconds sf{0};
  auto waited = [&](const char* id) {
    const auto start = clock.Monotonic();
    ChunkOutcome out = calls.SendChunk(update, Invoice(), {WithId(id, "S")}, &sf);
    EXPECT_TRUE(out.failure.ok()) << id << " " << out.failure;
    return clock.Monotonic() - start;
  };
  EXPECT_EQ(waited("a00A"), std::chrono::milliseconds(5)) << "the first write waits for others";
  clock.Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(waited("a00B"), std::chrono::nanoseconds(0)) << "alone after a quiet spell";
  EXPECT_EQ(waited("a00C"), std::chrono::milliseconds(5)) << "right behind another: the window";
  EXPECT_EQ(batcher.requests_sent(), 3);
}

// A budget gate whose token comes when the test says so.
class HeldGate final : public salesforce::RequestGate {
 public:
  absl::Status Acquire(salesforce::CallKind kind, salesforce::Priority) override {
    if (kind == salesforce::CallKind::kAuth) return absl::OkStatus();
    std::unique_lock lock(mu_);
    ++asked_;
    cv_.wait(lock, [&] { return released_; });
    return answer_;
  }
  void Observe(const salesforce::LimitInfo&) override {}
  void Release(absl::Status answer) {
    std::lock_guard lock(mu_);
    answer_ = std::move(answer);
    released_ = true;
    cv_.notify_all();
  }
  int asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int asked_ = 0;
  bool released_ = false;
  absl::Status answer_;
};

TEST(CoalescingTest, WritesArrivingWhileTheTokenIsAwaitedGoInThatRequestForOneToken) {
  for (const bool granted : {true, false}) {
    SCOPED_TRACE(granted ? "granted" : "refused");
    sfbridge::testing::FakeClock clock;
    sfbridge::testing::FakeHttpTransport transport;
    HeldGate budget;
    salesforce::Client client(Options(), transport, clock, &budget);
    CompositeBatcher batcher(client, clock, std::chrono::microseconds(1));
    SalesforceCalls calls(batcher, clock, "org");
    transport.Reply(200, kTokenReply);
    transport.Reply(200,
                    Composite({Accepted("s0_", {"a00A"}, "Sent"), Accepted("s1_", {"a00B"}, "Sent"),
                               Accepted("s2_", {"a00C"}, "Sent")}));
    const AnalyzedWrite update = Write(Operation::kUpdate);
    ChunkOutcome out[3];
    std::chrono::nanoseconds sf[3] = {};
    std::thread first(
        [&] { out[0] = calls.SendChunk(update, Invoice(), {WithId("a00A", "S")}, &sf[0]); });
    WaitUntil([&] { return budget.asked() == 1; });  // the leader waits for its token
    std::thread second(
        [&] { out[1] = calls.SendChunk(update, Invoice(), {WithId("a00B", "S")}, &sf[1]); });
    std::thread third(
        [&] { out[2] = calls.SendChunk(update, Invoice(), {WithId("a00C", "S")}, &sf[2]); });
    WaitUntil([&] { return batcher.queued() == 3; });
    absl::Status refusal = absl::ResourceExhaustedError("no token of the org's API budget");
    refusal.SetPayload(kBudgetRefusalPayload, absl::Cord("1"));
    budget.Release(granted ? absl::OkStatus() : refusal);
    first.join();
    second.join();
    third.join();
    EXPECT_EQ(budget.asked(), 1) << "one token for the request";
    for (int i = 0; i < 3; ++i) {
      if (granted) {
        EXPECT_TRUE(out[i].failure.ok()) << i << out[i].failure;
      } else {
        EXPECT_EQ(MapCallFailure(out[i].failure, Operation::kUpdate, Invoice(), 0).error.sqlstate,
                  "53400");
      }
    }
    // The token request only when refused; the token and the one Composite request otherwise.
    EXPECT_EQ(transport.request_count(), granted ? 2u : 0u);
  }
}

// A budget whose every token takes `wait` of simulated time (a token request to the OAuth
// endpoint none, as the priority lane's gate).
class WaitingGate final : public salesforce::RequestGate {
 public:
  WaitingGate(sfbridge::testing::FakeClock& clock, std::chrono::nanoseconds wait)
      : clock_(clock), wait_(wait) {}
  absl::Status Acquire(salesforce::CallKind kind, salesforce::Priority) override {
    if (kind != salesforce::CallKind::kAuth) clock_.Advance(wait_);
    return absl::OkStatus();
  }
  void Observe(const salesforce::LimitInfo&) override {}

 private:
  sfbridge::testing::FakeClock& clock_;
  const std::chrono::nanoseconds wait_;
};

// Each request takes `latency` of simulated time.
class SlowTransport final : public salesforce::HttpTransport {
 public:
  SlowTransport(sfbridge::testing::FakeClock& clock, std::chrono::nanoseconds latency)
      : clock_(clock), latency_(latency) {}
  absl::StatusOr<salesforce::HttpResponse> Send(const salesforce::HttpRequest& r) override {
    clock_.Advance(latency_);
    return fake.Send(r);
  }
  sfbridge::testing::FakeHttpTransport fake;

 private:
  sfbridge::testing::FakeClock& clock_;
  const std::chrono::nanoseconds latency_;
};

TEST(CoalescingTest, TheBudgetWaitOfAWriteIsNotSalesforcesTime) {
  using std::chrono::milliseconds;
  for (const milliseconds window : {milliseconds(0), milliseconds(5)}) {
    SCOPED_TRACE(window.count());
    sfbridge::testing::FakeClock clock;
    SlowTransport transport(clock, milliseconds(40));
    WaitingGate gate(clock, milliseconds(3'000));
    salesforce::Client client(Options(), transport, clock, &gate);
    CompositeBatcher batcher(client, clock, window);
    SalesforceCalls calls(batcher, clock, "org");
    transport.fake.Reply(200, kTokenReply);
    transport.fake.Reply(200, Composite({Accepted("s0_", {"a00A"}, "Sent")}));
    std::chrono::nanoseconds sf{0};
    const auto start = clock.Monotonic();
    ChunkOutcome out =
        calls.SendChunk(Write(Operation::kUpdate), Invoice(), {WithId("a00A", "Sent")}, &sf);
    ASSERT_TRUE(out.failure.ok()) << out.failure;
    EXPECT_EQ(clock.Monotonic() - start, window + milliseconds(3'000 + 80));
    // With a window the leader takes the token ahead (Client::Reserve), else the request does.
    EXPECT_EQ(sf, milliseconds(80)) << "the token request's and the Composite request's time";
  }
}

TEST(CoalescingTest, AFailedRequestIsTheFailureOfEveryStatementInIt) {
  sfbridge::testing::FakeClock clock;
  HoldingTransport transport;
  salesforce::Client client(Options(), transport, clock);
  CompositeBatcher batcher(client, clock, std::chrono::microseconds(1));
  SalesforceCalls calls(batcher, clock, "org");
  transport.fake.Reply(200, kTokenReply);
  transport.fake.Reply(200, Composite({Accepted("s0_", {"a00A"}, "Sent")}));
  transport.fake.Fail(absl::UnavailableError("connection dropped"));
  const AnalyzedWrite update = Write(Operation::kUpdate);
  ChunkOutcome a, b, c;
  std::chrono::nanoseconds sf{0};
  std::thread ta([&] { a = calls.SendChunk(update, Invoice(), {WithId("a00A", "S")}, &sf); });
  transport.WaitInFlight();
  std::thread tb([&] { b = calls.SendChunk(update, Invoice(), {WithId("a00B", "S")}, &sf); });
  std::thread tc([&] { c = calls.SendChunk(update, Invoice(), {WithId("a00C", "S")}, &sf); });
  WaitUntil([&] { return batcher.queued() == 2; });
  transport.Release();
  ta.join();
  tb.join();
  tc.join();
  EXPECT_TRUE(a.failure.ok());
  for (const ChunkOutcome* o : {&b, &c}) {
    EXPECT_EQ(MapCallFailure(o->failure, Operation::kUpdate, Invoice(), 0).error.sqlstate, "40003");
  }
}

SyncedTable InvoiceWithKey() {
  SyncedTable t = Invoice();
  t.fields.push_back({.field = "External_Id__c",
                      .column = "external_id__c",
                      .column_type = "text",
                      .salesforce_type = "string",
                      .createable = true,
                      .updateable = true});
  return t;
}

Fields Keyed(std::optional<std::string> key, std::string status) {
  return {{"Status__c", FieldValue::String(std::move(status))},
          {"External_Id__c", key ? FieldValue::String(*key) : FieldValue::Null()}};
}

AnalyzedWrite Upsert(bool do_nothing) {
  AnalyzedWrite w = Write(Operation::kInsert);
  w.upsert = AnalyzedWrite::Upsert{.column = "external_id__c", .do_nothing = do_nothing};
  return w;
}

TEST_F(CallsTest, OnConflictDoUpdateIsOneUpsertByTheExternalIdWithItsReadBack) {
  ChunkRequest r = BuildChunkRequest(Operation::kInsert, InvoiceWithKey(), {Keyed("E-1", "Sent")},
                                     "u_", "External_Id__c");
  EXPECT_EQ(r.subrequests[0].method, "PATCH");
  EXPECT_EQ(r.subrequests[0].url, "/composite/sobjects/Invoice__c/External_Id__c");
  EXPECT_THAT(r.subrequests[0].body, HasSubstr(R"("allOrNone":true)"));
  EXPECT_THAT(r.subrequests[0].body, HasSubstr(R"("External_Id__c":"E-1")"));
  EXPECT_THAT(r.subrequests[1].url, HasSubstr("ids=@{u_w[0].id}"));

  salesforce::Client client(Options(), transport_, clock_);
  CompositeBatcher batcher(client, clock_, std::chrono::microseconds(0));
  SalesforceCalls calls(batcher, clock_, "org");
  transport_.Reply(200, kTokenReply);
  transport_.Reply(
      200, Composite({core::StrCat(
               R"({"body":[{"id":"a00A","success":true,"errors":[],"created":false},)"
               R"({"id":"a00B","success":true,"errors":[],"created":true}],"httpHeaders":{},)"
               R"("httpStatusCode":200,"referenceId":"s0_w"},{"body":[)",
               Record("a00A", "Sent"), ",", Record("a00B", "Paid"),
               R"(],"httpHeaders":{},"httpStatusCode":200,"referenceId":"s0_r"})")}));
  std::chrono::nanoseconds sf{0};
  ChunkOutcome out = calls.SendChunk(Upsert(false), InvoiceWithKey(),
                                     {Keyed("E-1", "Sent"), Keyed("E-2", "Paid")}, &sf);
  ASSERT_TRUE(out.failure.ok()) << out.failure;
  EXPECT_THAT(out.accepted, ::testing::ElementsAre("a00A", "a00B"));
  EXPECT_THAT(out.created, ::testing::ElementsAre(false, true));  // updated, then inserted
  EXPECT_TRUE(out.skipped.empty());
  ASSERT_TRUE(out.changes.ok());
  EXPECT_EQ(out.changes->size(), 2u);
  EXPECT_EQ(transport_.request_count(), 2u);  // the token and one API call
  EXPECT_THAT(transport_.requests()[1].body,
              HasSubstr(R"("method":"PATCH","url":"/services/data/v59.0/composite/sobjects/)"
                        R"(Invoice__c/External_Id__c")"));
}

TEST_F(CallsTest, OnConflictDoNothingCreatesOnlyTheRecordsNotThereYet) {
  salesforce::Client client(Options(), transport_, clock_);
  CompositeBatcher batcher(client, clock_, std::chrono::microseconds(0));
  SalesforceCalls calls(batcher, clock_, "org");
  transport_.Reply(200, kTokenReply);
  // E-1 exists (Salesforce compares external ids without case).
  transport_.Reply(200, Composite({R"({"body":{"totalSize":1,"done":true,"records":[)"
                                   R"({"attributes":{"type":"Invoice__c"},"Id":"a00X",)"
                                   R"("External_Id__c":"e-1"}]},"httpHeaders":{},)"
                                   R"("httpStatusCode":200,"referenceId":"s0_q"})"}));
  transport_.Reply(200, Composite({Accepted("s1_", {"a00B", "a00N"}, "Paid")}));
  std::chrono::nanoseconds sf{0};
  // E-1 exists; e-2 repeats E-2 of an earlier row; a null key never conflicts.
  ChunkOutcome out = calls.SendChunk(Upsert(true), InvoiceWithKey(),
                                     {Keyed("E-1", "Sent"), Keyed("E-2", "Paid"),
                                      Keyed("e-2", "Void"), Keyed(std::nullopt, "Paid")},
                                     &sf);
  ASSERT_TRUE(out.failure.ok()) << out.failure;
  EXPECT_THAT(out.skipped, ::testing::ElementsAre(0u, 2u));
  EXPECT_THAT(out.accepted, ::testing::ElementsAre("a00B", "a00N"));
  EXPECT_THAT(out.created, ::testing::ElementsAre(true, true));
  std::vector<salesforce::HttpRequest> sent = transport_.requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_THAT(sent[1].body, HasSubstr("SELECT%20Id%2C%20External_Id__c%20FROM%20Invoice__c"));
  EXPECT_THAT(sent[1].body, HasSubstr("%27E-1%27%2C%27E-2%27%2C%27e-2%27"));
  EXPECT_THAT(sent[2].body, HasSubstr(R"("method":"POST")"));
  EXPECT_THAT(sent[2].body, HasSubstr(R"("External_Id__c":"E-2")"));
  EXPECT_THAT(sent[2].body, Not(HasSubstr(R"("External_Id__c":"E-1")")));
  EXPECT_THAT(sent[2].body, Not(HasSubstr(R"("External_Id__c":"e-2")")));

  // Every record there already: the query alone, nothing created.
  transport_.Reply(200, Composite({R"({"body":{"totalSize":1,"done":true,"records":[)"
                                   R"({"attributes":{"type":"Invoice__c"},"Id":"a00X",)"
                                   R"("External_Id__c":"E-1"}]},"httpHeaders":{},)"
                                   R"("httpStatusCode":200,"referenceId":"s2_q"})"}));
  out = calls.SendChunk(Upsert(true), InvoiceWithKey(), {Keyed("E-1", "Sent")}, &sf);
  ASSERT_TRUE(out.failure.ok()) << out.failure;
  EXPECT_THAT(out.skipped, ::testing::ElementsAre(0u));
  EXPECT_TRUE(out.accepted.empty());
  EXPECT_EQ(transport_.request_count(), 4u);

  // A concurrent creator between the query and the create: a unique field refuses it.
  transport_.Reply(200,
                   Composite({R"({"body":{"totalSize":0,"done":true,"records":[]},)"
                              R"("httpHeaders":{},"httpStatusCode":200,"referenceId":"s3_q"})"}));
  transport_.Reply(200, Composite({Refused("s4_", "DUPLICATE_VALUE")}));
  out = calls.SendChunk(Upsert(true), InvoiceWithKey(), {Keyed("E-9", "Sent")}, &sf);
  EXPECT_EQ(MapCallFailure(out.failure, Operation::kInsert, InvoiceWithKey(), 0).error.sqlstate,
            "23505");
}

// Through a real Client on scripted replies: what each kind of failure becomes.
class MappingTest : public ::testing::Test {
 protected:
  PgError Run(int attempts = 3) {
    salesforce::Client client(Options(attempts), transport_, clock_);
    CompositeBatcher batcher(client, clock_, std::chrono::microseconds(0));
    SalesforceCalls calls(batcher, clock_, "org");
    std::chrono::nanoseconds sf{0};
    ChunkOutcome out =
        calls.SendChunk(Write(Operation::kUpdate), Invoice(), {WithId("a00A", "Paid")}, &sf);
    EXPECT_FALSE(out.failure.ok());
    return MapCallFailure(out.failure, Operation::kUpdate, Invoice(), 0).error;
  }
  std::string Error503() {
    return R"([{"message":"The server is temporarily unable","errorCode":"SERVER_UNAVAILABLE"}])";
  }

  sfbridge::testing::FakeClock clock_;
  sfbridge::testing::FakeHttpTransport transport_;
};

TEST_F(MappingTest, ADroppedRequestMayHaveHappenedForEveryOperation) {
  transport_.Reply(200, kTokenReply);
  transport_.Fail(absl::UnavailableError("connection dropped"));
  PgError e = Run();
  EXPECT_EQ(e.sqlstate, "40003");
  EXPECT_THAT(e.detail, HasSubstr("may or may not have been applied"));
  EXPECT_EQ(transport_.request_count(), 2u) << "not resent";

  transport_.Reply(200, kTokenReply);
  transport_.Fail(absl::DeadlineExceededError("timed out"));
  EXPECT_EQ(Run().sqlstate, "40003");
}

TEST_F(MappingTest, A503AfterADroppedAttemptIsStillMaybe) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(503, Error503());
  transport_.Fail(absl::UnavailableError("connection dropped"));
  EXPECT_EQ(Run().sqlstate, "40003");
}

TEST_F(MappingTest, AnAnswered5xxChangedNothing) {
  transport_.Reply(200, kTokenReply);
  transport_.Reply(503, Error503());
  transport_.Reply(503, Error503());
  transport_.Reply(500, R"([{"message":"boom","errorCode":"UNKNOWN_EXCEPTION"}])");
  PgError e = Run();
  EXPECT_EQ(e.sqlstate, "08001");
  EXPECT_THAT(e.message, HasSubstr("HTTP 500"));
  EXPECT_THAT(e.detail, HasSubstr("nothing was changed"));
  EXPECT_THAT(e.hint, HasSubstr("Retrying is safe"));
}

TEST_F(MappingTest, NothingSentIs08001) {
  transport_.Fail(salesforce::MarkNotSent(absl::UnavailableError("connection refused")));
  transport_.Fail(salesforce::MarkNotSent(absl::UnavailableError("connection refused")));
  PgError e = Run(2);
  EXPECT_EQ(e.sqlstate, "08001");
  EXPECT_THAT(e.detail, HasSubstr("Nothing was sent"));
  transport_.Reply(200, kTokenReply);
  transport_.Fail(salesforce::MarkNotSent(absl::UnavailableError("connection refused")));
  EXPECT_EQ(Run(1).sqlstate, "08001");
}

TEST_F(MappingTest, ARefusedLoginSendsNothingAndSaysSo) {
  transport_.Reply(400,
                   R"({"error":"invalid_grant","error_description":"authentication failure"})");
  PgError e = Run();
  EXPECT_EQ(e.sqlstate, "08001");
  EXPECT_THAT(e.message, HasSubstr("refused the proxy's login"));
  EXPECT_THAT(e.detail, HasSubstr("Nothing was sent"));
  EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(MappingTest, BudgetAndRequestLimitAre53400AndRefusalsKeepTheirCodes) {
  absl::Status budget = absl::ResourceExhaustedError("no token of the org's API budget");
  budget.SetPayload(kBudgetRefusalPayload, absl::Cord("1"));
  PgError b = MapCallFailure(budget, Operation::kInsert, Invoice(), 0).error;
  EXPECT_EQ(b.sqlstate, "53400");
  EXPECT_THAT(b.detail, HasSubstr("Nothing was sent"));

  transport_.Reply(200, kTokenReply);
  transport_.Reply(403, R"([{"message":"TotalRequests Limit exceeded.",)"
                        R"("errorCode":"REQUEST_LIMIT_EXCEEDED"}])");
  EXPECT_EQ(Run().sqlstate, "53400");

  transport_.Reply(200, kTokenReply);
  transport_.Reply(200, Composite({Refused("s0_", "REQUIRED_FIELD_MISSING")}));
  PgError refused = Run();
  EXPECT_EQ(refused.sqlstate, "23502");
  EXPECT_THAT(refused.detail, HasSubstr("Nothing was changed"));
}

}  // namespace
}  // namespace sfbridge::proxy::writes
