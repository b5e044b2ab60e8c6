#include "common/salesforce/bulk_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/salesforce/api_error.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_transport.h"

namespace sfbridge::salesforce {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTokenReply[] = R"({"access_token":"00Dtoken!first","instance_url":)"
                               R"("https://acme.my.salesforce.com","id":)"
                               R"("https://login.salesforce.com/id/00DORG/005USER"})";
constexpr char kJobs[] = "https://acme.my.salesforce.com/services/data/v59.0/jobs/query";

std::string JobJson(std::string_view state, int64_t processed = 0) {
  return std::string(R"({"id":"750R0000000zlh9IAA","operation":"queryAll","object":"Contact",)") +
         R"("createdDate":"2024-01-02T03:04:05.000+0000","state":")" + std::string(state) +
         R"(","apiVersion":59.0,"numberRecordsProcessed":)" + std::to_string(processed) + "}";
}

class CountingGate final : public RequestGate {
 public:
  absl::Status Acquire(CallKind kind, Priority) override {
    kinds.push_back(kind);
    return absl::OkStatus();
  }
  void Observe(const LimitInfo&) override { ++observed; }
  std::vector<CallKind> kinds;
  int observed = 0;
};

// Every record of a CSV fed in slices of `slice` bytes, batches of `batch` records.
struct Decoded {
  absl::Status status;
  std::vector<Record> records;
  std::vector<size_t> batch_sizes;
};
Decoded Decode(std::string_view csv, size_t slice = 1'000'000, size_t batch = 100,
               std::optional<std::vector<std::string>> known = std::nullopt) {
  Decoded out;
  BulkCsvDecoder decoder(
      "Contact", ',', batch,
      [&](std::vector<Record>& b) {
        out.batch_sizes.push_back(b.size());
        for (auto& r : b) out.records.push_back(std::move(r));
        return absl::OkStatus();
      },
      std::move(known));
  for (size_t at = 0; at < csv.size() && out.status.ok(); at += slice) {
    out.status = decoder.Feed(csv.substr(at, slice));
  }
  if (out.status.ok()) out.status = decoder.Finish();
  return out;
}

TEST(BulkCsvDecoderTest, QuotingLineEndingsAndNulls) {
  const std::string csv =
      "Id,Name,Description,Amount\r\n"
      "003A,\"Smith, Jane\",\"said \"\"hi\"\"\r\nand left\",12.50\r\n"
      "003B,,\"\",\n"
      "003C,Plain,x,1";
  for (size_t slice : {1, 2, 3, 7, 1000}) {
    SCOPED_TRACE(slice);
    Decoded d = Decode(csv, slice);
    ASSERT_TRUE(d.status.ok()) << d.status;
    ASSERT_EQ(d.records.size(), 3u);
    const Record& a = d.records[0];
    EXPECT_EQ(a.type, "Contact");
    EXPECT_EQ(a.id, "003A");
    EXPECT_EQ(*a.Find("Name"), FieldValue::String("Smith, Jane"));
    // A CRLF inside quotes is data, kept as sent.
    EXPECT_EQ(*a.Find("Description"), FieldValue::String("said \"hi\"\r\nand left"));
    EXPECT_EQ(*a.Find("Amount"), FieldValue::String("12.50"));
    const Record& b = d.records[1];
    EXPECT_EQ(*b.Find("Name"), FieldValue::Null());
    EXPECT_EQ(*b.Find("Description"), FieldValue::Null());
    EXPECT_EQ(*b.Find("Amount"), FieldValue::Null());
    EXPECT_EQ(*d.records[2].Find("Description"), FieldValue::String("x"));
  }
}

// Values are taken in runs up to the next delimiter, quote or line break: long values, and the
// delimiter of the job (not a comma) inside and outside quotes, come out whole wherever the
// slices cut them.
TEST(BulkCsvDecoderTest, LongValuesAndOtherDelimitersAcrossSlices) {
  const std::string long_text(300, 'x');
  for (char delimiter : {'\t', '|', '^'}) {
    const std::string d(1, delimiter);
    const std::string csv = "Id" + d + "Name" + d + "Description\n" + "003A" + d + long_text + d +
                            "\"a" + d + "b, \"\"c\"\"\n" + long_text + "\"\n" + "003B" + d + "a,b" +
                            d + "\n";
    for (size_t slice : {1, 2, 5, 64, 100'000}) {
      SCOPED_TRACE(::testing::Message()
                   << "delimiter " << static_cast<int>(delimiter) << " slice " << slice);
      std::vector<Record> records;
      BulkCsvDecoder decoder("Contact", delimiter, 10, [&](std::vector<Record>& batch) {
        for (Record& r : batch) records.push_back(std::move(r));
        return absl::OkStatus();
      });
      absl::Status status;
      for (size_t at = 0; at < csv.size() && status.ok(); at += slice) {
        status = decoder.Feed(std::string_view(csv).substr(at, slice));
      }
      if (status.ok()) status = decoder.Finish();
      ASSERT_TRUE(status.ok()) << status;
      ASSERT_EQ(records.size(), 2u);
      EXPECT_EQ(*records[0].Find("Name"), FieldValue::String(long_text));
      EXPECT_EQ(*records[0].Find("Description"),
                FieldValue::String("a" + d + "b, \"c\"\n" + long_text));
      EXPECT_EQ(records[1].id, "003B");
      EXPECT_EQ(*records[1].Find("Name"), FieldValue::String("a,b"));
      EXPECT_EQ(*records[1].Find("Description"), FieldValue::Null());
    }
  }
}

TEST(BulkCsvDecoderTest, HandsRecordsOutInBatches) {
  std::string csv = "Id\n";
  for (int i = 0; i < 25; ++i) csv += "001" + std::to_string(i) + "\n";
  Decoded d = Decode(csv, 5, 10);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_THAT(d.batch_sizes, ElementsAre(10, 10, 5));
}

TEST(BulkCsvDecoderTest, LaterPageWithOrWithoutHeader) {
  const std::vector<std::string> known = {"Id", "Name"};
  Decoded with = Decode("Id,Name\n001A,a\n", 1000, 10, known);
  ASSERT_TRUE(with.status.ok());
  ASSERT_EQ(with.records.size(), 1u);
  Decoded without = Decode("001B,b\n001C,c\n", 1000, 10, known);
  ASSERT_TRUE(without.status.ok());
  ASSERT_EQ(without.records.size(), 2u);
  EXPECT_EQ(without.records[0].id, "001B");
}

TEST(BulkCsvDecoderTest, MalformedInputNamesTheRowNotTheValue) {
  Decoded short_row = Decode("Id,Name\n001A,secret-value,extra\n");
  EXPECT_EQ(short_row.status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(short_row.status.message(), HasSubstr("row 2"));
  EXPECT_THAT(short_row.status.message(), ::testing::Not(HasSubstr("secret-value")));
  EXPECT_EQ(Decode("Id,Name\n001A,\"open\n").status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Decode("Id,Name\n001A,a\"b\n").status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Decode("Id,Name\n001A,\"a\"b\n").status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Decode("Name\nx\n").status.code(), absl::StatusCode::kInternal);
}

TEST(BulkCsvDecoderTest, CallbackErrorStopsDecoding) {
  int calls = 0;
  BulkCsvDecoder decoder("Contact", ',', 1, [&](std::vector<Record>&) {
    ++calls;
    return absl::UnavailableError("kafka down");
  });
  EXPECT_EQ(decoder.Feed("Id\n001A\n001B\n").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

class BulkQueryTest : public ::testing::Test {
 protected:
  BulkQueryTest() {
    options_.credentials.flow = AuthFlow::kPassword;
    options_.credentials.client_id = "c";
    options_.credentials.client_secret = "s";
    options_.credentials.username = "u";
    options_.credentials.password = "p";
    options_.jitter_seed = 1;
    options_.initial_backoff = std::chrono::milliseconds(10);
    transport_.Reply(200, kTokenReply);
    client_ = std::make_unique<Client>(options_, transport_, clock_, &gate_);
    bulk_ = std::make_unique<BulkQuery>(*client_);
  }
  testing::FakeHttpTransport transport_;
  testing::FakeClock clock_;
  CountingGate gate_;
  ClientOptions options_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<BulkQuery> bulk_;
};

TEST_F(BulkQueryTest, CreateSendsTheJobAndEveryCallTakesAToken) {
  transport_.Reply(200, JobJson("UploadComplete"), {{"Sforce-Limit-Info", "api-usage=10/15000"}});
  auto job = bulk_->Create("SELECT Id FROM Contact", BulkOperation::kQueryAll);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->id, "750R0000000zlh9IAA");
  EXPECT_EQ(job->state, BulkJobState::kUploadComplete);
  EXPECT_EQ(job->api_version, "59");
  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].url, kJobs);
  EXPECT_THAT(requests[1].body, HasSubstr(R"("operation":"queryAll")"));
  EXPECT_THAT(requests[1].body, HasSubstr(R"("query":"SELECT Id FROM Contact")"));
  EXPECT_THAT(gate_.kinds, ElementsAre(CallKind::kAuth, CallKind::kBulkQuery));
  EXPECT_EQ(gate_.observed, 1);
}

TEST_F(BulkQueryTest, CreateRefusalsComeBackAsApiErrors) {
  transport_.Reply(
      400, R"j([{"errorCode":"LIMIT_EXCEEDED","message":"Max bulk v2 query jobs (10000)"}])j");
  auto job = bulk_->Create("SELECT Id FROM Contact", BulkOperation::kQuery);
  ASSERT_FALSE(job.ok());
  auto error = GetApiError(job.status());
  ASSERT_TRUE(error);
  EXPECT_EQ(error->error_code, "LIMIT_EXCEEDED");
  EXPECT_EQ(transport_.request_count(), 2u);  // refused, not retried
}

TEST_F(BulkQueryTest, CreateDroppedIsNotSentAgain) {
  transport_.Fail(absl::UnavailableError("connection reset"));
  auto job = bulk_->Create("SELECT Id FROM Contact", BulkOperation::kQuery);
  EXPECT_FALSE(job.ok());
  EXPECT_TRUE(OutcomeUnknown(job.status()));
  EXPECT_EQ(transport_.request_count(), 2u);
}

TEST_F(BulkQueryTest, GetRetriesA503AndMapsA404) {
  transport_.Reply(503, "[]");
  transport_.Reply(200, JobJson("InProgress", 1500));
  auto job = bulk_->Get("750R0000000zlh9IAA");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, BulkJobState::kInProgress);
  EXPECT_EQ(job->records_processed, 1500);
  transport_.Reply(
      404, R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])");
  EXPECT_EQ(bulk_->Get("750R0000000zlh9IAA").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gate_.kinds, ElementsAre(CallKind::kAuth, CallKind::kBulkQuery, CallKind::kBulkQuery,
                                       CallKind::kBulkQuery));
}

TEST_F(BulkQueryTest, AbortAndDelete) {
  transport_.Reply(200, JobJson("Aborted"));
  transport_.Reply(204, "");
  auto job = bulk_->Abort("750R0000000zlh9IAA");
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(BulkJobEnded(job->state));
  EXPECT_TRUE(bulk_->Delete("750R0000000zlh9IAA").ok());
  auto requests = transport_.requests();
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].body, R"({"state":"Aborted"})");
  EXPECT_EQ(requests[2].method, "DELETE");
  EXPECT_EQ(requests[2].url, std::string(kJobs) + "/750R0000000zlh9IAA");
}

TEST_F(BulkQueryTest, ResultsPageByPage) {
  transport_.Reply(200, "Id,Name\n003A,a\n003B,\"b\nc\"\n",
                   {{"Sforce-Locator", "Mg"}, {"Sforce-NumberOfRecords", "2"}});
  transport_.Reply(200, "Id,Name\n003C,\n",
                   {{"Sforce-Locator", "null"}, {"Sforce-NumberOfRecords", "1"}});
  std::vector<std::string> ids;
  auto sink = [&](std::vector<Record>& batch) {
    for (auto& r : batch) ids.push_back(r.id);
    return absl::OkStatus();
  };
  auto first = bulk_->Results("750R0000000zlh9IAA", "Contact", "", 2, 1000, sink);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->records, 2);
  EXPECT_EQ(first->next_locator, "Mg");
  EXPECT_THAT(first->columns, ElementsAre("Id", "Name"));
  auto second = bulk_->Results("750R0000000zlh9IAA", "Contact", first->next_locator, 2, 1000, sink,
                               first->columns);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->next_locator, "");
  EXPECT_THAT(ids, ElementsAre("003A", "003B", "003C"));
  auto requests = transport_.requests();
  EXPECT_EQ(requests[1].url, std::string(kJobs) + "/750R0000000zlh9IAA/results?maxRecords=2");
  EXPECT_EQ(requests[2].url,
            std::string(kJobs) + "/750R0000000zlh9IAA/results?locator=Mg&maxRecords=2");
  EXPECT_EQ(FindHeader(requests[1].headers, "Accept"), "text/csv");
}

TEST_F(BulkQueryTest, APageWhoseBodyBreaksOffIsReadAgainAndHandsOutEachRecordOnce) {
  const std::string body = "Id,Name\n003A,a\n003B,b\n003C,c\n003D,d\n003E,e\n";
  const HttpHeaders headers = {{"Sforce-Locator", "null"}, {"Sforce-NumberOfRecords", "5"}};
  // The first attempt ends inside 003D's row: 003A and 003B were handed out (batches of 2), 003C
  // was decoded but not yet handed out.
  transport_.BreakOff(200, body, headers, body.find("003D") + 2);
  transport_.Reply(200, body, headers);
  std::vector<std::string> ids;
  int batches = 0;
  auto sink = [&](std::vector<Record>& batch) {
    ++batches;
    for (auto& r : batch) ids.push_back(r.id);
    return absl::OkStatus();
  };
  auto page = bulk_->Results("750R0000000zlh9IAA", "Contact", "", 0, 2, sink);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->records, 5);
  EXPECT_THAT(ids, ElementsAre("003A", "003B", "003C", "003D", "003E"));
  EXPECT_EQ(batches, 3);  // [A B], then [C D] and [E] from the second attempt
  // The second attempt is a call of its own.
  EXPECT_THAT(gate_.kinds,
              ElementsAre(CallKind::kAuth, CallKind::kBulkQuery, CallKind::kBulkQuery));
}

TEST_F(BulkQueryTest, ACallbackErrorEndsTheResultsCallWithoutARetry) {
  transport_.Reply(200, "Id\n003A\n003B\n",
                   {{"Sforce-Locator", "null"}, {"Sforce-NumberOfRecords", "2"}});
  auto page =
      bulk_->Results("750R0000000zlh9IAA", "Contact", "", 0, 1, [](std::vector<Record>& batch) {
        return batch[0].id == "003B" ? absl::AbortedError("Kafka is away") : absl::OkStatus();
      });
  EXPECT_EQ(page.status(), absl::AbortedError("Kafka is away"));
  EXPECT_EQ(transport_.request_count(), 2u);  // the token and the one results call
}

TEST_F(BulkQueryTest, ResultsBeforeCompletionIs412) {
  transport_.Reply(412,
                   R"([{"errorCode":"JOB_NOT_COMPLETE","message":"Current status: IN_PROGRESS"}])");
  auto page = bulk_->Results("750R0000000zlh9IAA", "Contact", "", 0, 10,
                             [](std::vector<Record>&) { return absl::OkStatus(); });
  EXPECT_EQ(page.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetApiError(page.status())->error_code, "JOB_NOT_COMPLETE");
}

TEST_F(BulkQueryTest, MoreRecordsThanAnnouncedIsAnError) {
  transport_.Reply(200, "Id\n003A\n003B\n",
                   {{"Sforce-Locator", "null"}, {"Sforce-NumberOfRecords", "1"}});
  auto page = bulk_->Results("750R0000000zlh9IAA", "Contact", "", 0, 10,
                             [](std::vector<Record>&) { return absl::OkStatus(); });
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(page.status().message(), HasSubstr("has 2 records, Sforce-NumberOfRecords says 1"));
}

// A chunked reply that breaks off between chunks ends, as far as HTTP tells, like a whole one:
// fewer records than announced mean the page is read again.
TEST_F(BulkQueryTest, APageEndingBeforeItsAnnouncedRecordsIsReadAgain) {
  const HttpHeaders headers = {{"Sforce-Locator", "null"}, {"Sforce-NumberOfRecords", "3"}};
  transport_.Reply(200, "Id\n003A\n003B\n", headers);
  transport_.Reply(200, "Id\n003A\n003B\n003C\n", headers);
  std::vector<std::string> ids;
  auto page =
      bulk_->Results("750R0000000zlh9IAA", "Contact", "", 0, 1, [&](std::vector<Record>& batch) {
        for (auto& r : batch) ids.push_back(r.id);
        return absl::OkStatus();
      });
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->records, 3);
  EXPECT_THAT(ids, ElementsAre("003A", "003B", "003C"));
  EXPECT_EQ(transport_.request_count(), 3u);  // the token and two reads of the page
}

}  // namespace
}  // namespace sfbridge::salesforce
