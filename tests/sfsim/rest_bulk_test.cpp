// sfsim's Bulk API 2.0 query job resources called through RestApi::Handle (no sockets): paths,
// JSON shapes, headers, gzip, refusals, API accounting, /limits, faults and the admin API.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sfsim/admin_api.h"
#include "sfsim/body_json.h"
#include "sfsim/gzip.h"
#include "sfsim/rest_api.h"
#include "tests/fakes/fake_clock.h"
#include "tests/sfsim/rest_test_support.h"

namespace sfbridge::sfsim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kJobs[] = "/services/data/v59.0/jobs/query";

class RestBulkTest : public ::testing::Test {
 protected:
  void SetUp() override { Build({}); }

  void Build(RestApiOptions options) {
    org::OrgOptions org_options;
    org_options.seed = 7;
    org_options.counts = {{"User", 3}, {"Account", 20}, {"Contact", 2500}};
    auto o = org::Org::Create(org_options, clock_);
    ASSERT_TRUE(o.ok()) << o.status();
    org_ = std::move(*o);
    auth_ = std::make_unique<oauth::AuthServer>(rest_test::TestOAuthConfig(*org_), clock_);
    BulkSettings settings;
    settings.records_per_second = 1000;
    bulk_ = std::make_unique<BulkQueryJobs>(*org_, clock_, settings);
    api_ = std::make_unique<RestApi>(*org_, *auth_, limits_, faults_, cursors_, *bulk_, clock_,
                                     std::move(options));
    churn_ = std::make_unique<Churn>(*org_, 1);
    admin_ = std::make_unique<AdminApi>(*org_, *auth_, limits_, faults_, cursors_, *churn_, *bulk_);
    token_ = rest_test::PasswordToken(*api_);
    ASSERT_FALSE(token_.empty());
  }

  Response Call(std::string method, std::string path_and_query, std::string body = "",
                std::map<std::string, std::string> headers = {}) {
    return api_->Handle(rest_test::ApiRequest(std::move(method), path_and_query, token_,
                                              std::move(body), std::move(headers)));
  }

  Response Admin(std::string method, std::string path, std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.path = "/__sfsim/" + path;
    r.body = std::move(body);
    return admin_->Handle(r);
  }

  // Creates a job and returns its id ("" after a test failure).
  std::string Create(const std::string& soql, const std::string& extra = "") {
    Response r =
        Call("POST", kJobs, R"({"operation":"query","query":")" + soql + "\"" + extra + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    return JsonMemberText(r.body, "id");
  }

  static std::string Header(const Response& r, const std::string& name) {
    return rest_test::ResponseHeader(r, name);
  }

  void Advance(int64_t ms) { clock_.Advance(std::chrono::milliseconds(ms)); }

  testing::FakeClock clock_;
  std::unique_ptr<org::Org> org_;
  std::unique_ptr<oauth::AuthServer> auth_;
  ApiLimits limits_{1'000'000, 2};
  Faults faults_{1};
  QueryCursors cursors_{clock_, std::chrono::minutes(15), 100};
  std::unique_ptr<BulkQueryJobs> bulk_;
  std::unique_ptr<RestApi> api_;
  std::unique_ptr<Churn> churn_;
  std::unique_ptr<AdminApi> admin_;
  std::string token_;
};

TEST_F(RestBulkTest, CreateGetAndListShowTheJobAsSalesforceDoes) {
  Response created = Call("POST", kJobs,
                          R"({"operation":"queryAll","query":"SELECT Id, Name FROM Account",)"
                          R"("columnDelimiter":"PIPE","lineEnding":"CRLF","contentType":"CSV"})");
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = JsonMemberText(created.body, "id");
  EXPECT_THAT(created.body, HasSubstr(R"("operation":"queryAll","object":"Account",)"
                                      R"("createdById":"005000000000001AAA","createdDate":")"));
  EXPECT_THAT(created.body, HasSubstr(R"("state":"UploadComplete","concurrencyMode":"Parallel",)"
                                      R"("contentType":"CSV","apiVersion":59.0,)"
                                      R"("lineEnding":"CRLF","columnDelimiter":"PIPE"})"));
  EXPECT_THAT(JsonMemberText(created.body, "createdDate"), HasSubstr(".000+0000"));

  Advance(60'000);
  Response info = Call("GET", std::string(kJobs) + "/" + id);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_THAT(info.body, HasSubstr(R"("state":"JobComplete")"));
  EXPECT_THAT(info.body, HasSubstr(R"("jobType":"V2Query")"));
  EXPECT_THAT(info.body, HasSubstr(R"("numberRecordsProcessed":20,"retries":0,)"
                                   R"("totalProcessingTime":20})"));
  EXPECT_THAT(info.body, Not(HasSubstr("errorMessage")));

  Response list = Call("GET", kJobs);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_THAT(list.body, HasSubstr(R"({"done":true,"records":[{"id":")" + id));
  EXPECT_THAT(list.body, HasSubstr(R"("nextRecordsUrl":null})"));
  EXPECT_THAT(Call("GET", std::string(kJobs) + "?jobType=V2Ingest").body,
              HasSubstr(R"("records":[])"));
  EXPECT_THAT(Call("GET", std::string(kJobs) + "?jobType=V2Query").body, HasSubstr(id));
}

TEST_F(RestBulkTest, ListPagesByQueryLocator) {
  for (int i = 0; i < 1001; ++i) Create("SELECT Id FROM User");
  Response first = Call("GET", kJobs);
  EXPECT_THAT(first.body, HasSubstr(R"({"done":false,)"));
  const std::string next = JsonMemberText(first.body, "nextRecordsUrl");
  EXPECT_EQ(next, "/services/data/v59.0/jobs/query?queryLocator=1000");
  Response second = Call("GET", next);
  EXPECT_THAT(second.body, HasSubstr(R"({"done":true,)"));
  EXPECT_EQ(Call("GET", std::string(kJobs) + "?queryLocator=x").status, 400);
}

TEST_F(RestBulkTest, ResultsCarryLocatorAndCountHeaders) {
  const std::string id = Create("SELECT Id, LastName FROM Contact ORDER BY Id");
  Advance(60'000);
  const std::string results = std::string(kJobs) + "/" + id + "/results";
  Response first = Call("GET", results + "?maxRecords=1000");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.content_type, "text/csv");
  EXPECT_EQ(Header(first, "Sforce-NumberOfRecords"), "1000");
  EXPECT_EQ(Header(first, "Sforce-Locator"), "MTAwMA");  // base64("1000")
  EXPECT_THAT(first.body, ::testing::StartsWith("Id,LastName\n"));
  EXPECT_THAT(Header(first, "Sforce-Limit-Info"), HasSubstr("api-usage="));
  Response last = Call("GET", results + "?maxRecords=5000&locator=MTAwMA");
  EXPECT_EQ(Header(last, "Sforce-NumberOfRecords"), "1500");
  EXPECT_EQ(Header(last, "Sforce-Locator"), "null");
  EXPECT_EQ(Header(last, "Content-Encoding"), "");

  Response gzipped = Call("GET", results + "?maxRecords=5000&locator=MTAwMA", "",
                          {{"accept-encoding", "gzip, deflate"}});
  ASSERT_EQ(gzipped.status, 200);
  EXPECT_EQ(Header(gzipped, "Content-Encoding"), "gzip");
  EXPECT_LT(gzipped.body.size(), last.body.size() / 2);
  EXPECT_EQ(GzipDecompress(gzipped.body), last.body);
}

TEST_F(RestBulkTest, RefusalsComeBackAsSalesforceErrorBodies) {
  auto expect = [&](const Response& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_THAT(r.body, HasSubstr(R"("errorCode":")" + code + "\"")) << r.body;
    EXPECT_THAT(r.body, ::testing::StartsWith(R"([{"message":")")) << r.body;
  };
  expect(Call("POST", kJobs, "{nope"), 400, "JSON_PARSER_ERROR");
  expect(Call("POST", kJobs, R"({"operation":"query","query":7})"), 400, "JSON_PARSER_ERROR");
  expect(Call("POST", kJobs, R"({"operation":"upsert","query":"SELECT Id FROM Account"})"), 400,
         "INVALIDJOB");
  expect(Call("POST", kJobs,
              R"({"operation":"query","query":"SELECT Id FROM Account",)"
              R"("columnDelimiter":"COLON"})"),
         400, "INVALIDJOB");
  expect(Call("POST", kJobs,
              R"({"operation":"query","query":"SELECT Id, BillingAddress FROM Account"})"),
         400, "API_ERROR");
  expect(Call("POST", kJobs, R"({"operation":"query","query":"SELECT Nope FROM Account"})"), 400,
         "INVALID_FIELD");
  expect(Call("PUT", kJobs), 405, "METHOD_NOT_ALLOWED");

  const std::string id = Create("SELECT Id FROM Contact");
  const std::string job = std::string(kJobs) + "/" + id;
  expect(Call("GET", job + "/results"), 412, "JOB_NOT_COMPLETE");
  expect(Call("GET", std::string(kJobs) + "/750000000000000AAA"), 404, "NOT_FOUND");
  expect(Call("GET", job + "/resultz"), 404, "NOT_FOUND");
  expect(Call("POST", job + "/results"), 405, "METHOD_NOT_ALLOWED");
  expect(Call("PUT", job), 405, "METHOD_NOT_ALLOWED");
  expect(Call("PATCH", job, "{nope"), 400, "JSON_PARSER_ERROR");
  expect(Call("PATCH", job, R"({"state":"UploadComplete"})"), 400, "INVALIDJOB");
  expect(Call("PATCH", job, R"({})"), 400, "INVALIDJOB");
  Advance(300);
  expect(Call("DELETE", job), 400, "INVALIDJOB");  // in progress
  Advance(60'000);
  expect(Call("GET", job + "/results?maxRecords=0"), 400, "INVALID_FIELD");
  expect(Call("GET", job + "/results?maxRecords=ten"), 400, "INVALID_FIELD");
  expect(Call("GET", job + "/results?locator=bad!"), 400, "INVALID_LOCATOR");
  expect(Call("GET", "/services/data/v60.0/jobs/query/" + id + "/results"), 409, "INVALIDJOB");
  expect(Call("PATCH", job, R"({"state":"Aborted"})"), 400, "INVALIDJOB");  // complete
  // Job info is readable through any version.
  EXPECT_EQ(Call("GET", "/services/data/v60.0/jobs/query/" + id).status, 200);
}

TEST_F(RestBulkTest, BelowV47TheResourceDoesNotExist) {
  RestApiOptions options;
  options.versions = {"46.0", "47.0", "59.0"};
  Build(options);
  Response old = Call("POST", "/services/data/v46.0/jobs/query",
                      R"({"operation":"query","query":"SELECT Id FROM Account"})");
  EXPECT_EQ(old.status, 404);
  EXPECT_THAT(old.body, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(Call("GET", "/services/data/v46.0/jobs/query").status, 404);
  EXPECT_EQ(Call("POST", "/services/data/v47.0/jobs/query",
                 R"({"operation":"query","query":"SELECT Id FROM Account"})")
                .status,
            200);
}

TEST_F(RestBulkTest, AbortAndDeleteThroughRest) {
  const std::string id = Create("SELECT Id FROM Contact");
  const std::string job = std::string(kJobs) + "/" + id;
  Response aborted = Call("PATCH", job, R"({"state":"Aborted"})");
  ASSERT_EQ(aborted.status, 200) << aborted.body;
  EXPECT_THAT(aborted.body, HasSubstr(R"("state":"Aborted")"));
  Response deleted = Call("DELETE", job);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_EQ(Call("GET", job).status, 404);
}

TEST_F(RestBulkTest, EveryBulkCallIsAnApiRequestAndJobsSpendTheirOwnAllocation) {
  const int64_t before = limits_.used();
  const std::string id = Create("SELECT Id FROM Account");
  Call("GET", std::string(kJobs) + "/" + id);
  Call("GET", kJobs);
  Advance(60'000);
  Call("GET", std::string(kJobs) + "/" + id + "/results");
  Call("DELETE", std::string(kJobs) + "/" + id);
  EXPECT_EQ(limits_.used() - before, 5);
  std::map<std::string, int64_t> kinds = limits_.CallsByKind();
  for (const char* kind : {"bulk_query_create", "bulk_query_info", "bulk_query_list",
                           "bulk_query_results", "bulk_query_delete"}) {
    EXPECT_EQ(kinds[kind], 1) << kind;
  }

  Response limits = Call("GET", "/services/data/v59.0/limits");
  EXPECT_THAT(limits.body, HasSubstr(R"("DailyBulkV2QueryJobs":{"Max":10000,"Remaining":9999})"));
  bulk_->SetDaily(1, std::nullopt);
  Response spent = Call("POST", kJobs, R"({"operation":"query","query":"SELECT Id FROM Account"})");
  EXPECT_EQ(spent.status, 400);
  EXPECT_THAT(spent.body, HasSubstr(R"("errorCode":"LIMIT_EXCEEDED")"));
  EXPECT_THAT(spent.body, HasSubstr("Max bulk v2 query jobs (1) per 24 hrs has been reached"));
  EXPECT_THAT(Call("GET", "/services/data/v59.0/limits").body,
              HasSubstr(R"("DailyBulkV2QueryJobs":{"Max":1,"Remaining":0})"));

  limits_.Set(limits_.used(), std::nullopt);  // DailyApiRequests spent
  Response refused = Call("GET", kJobs);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, HasSubstr("REQUEST_LIMIT_EXCEEDED"));
}

TEST_F(RestBulkTest, FaultsApplyToBulkCalls) {
  const std::string create = R"({"operation":"query","query":"SELECT Id FROM Contact"})";
  faults_.Set({.error_5xx_rate = 1});
  Response failed = Call("POST", kJobs, create);
  EXPECT_EQ(failed.status, 503);
  EXPECT_THAT(failed.body, HasSubstr("SERVER_UNAVAILABLE"));
  EXPECT_TRUE(bulk_->List().empty()) << "a 503 creates nothing";
  faults_.Set({.drop_rate = 1});
  EXPECT_TRUE(Call("POST", kJobs, create).drop_connection);
  EXPECT_TRUE(bulk_->List().empty());
  faults_.Set({.failing_objects = {"Contact"}});
  EXPECT_EQ(Call("POST", kJobs, create).status, 503);
  EXPECT_EQ(Call("POST", kJobs, R"({"operation":"query","query":"SELECT Id FROM Account"})").status,
            200);

  faults_.Set({.slow_rate = 1, .slow_ms = 5'000});
  const auto start = clock_.Now();
  const std::string id = Create("SELECT Id FROM Contact");
  EXPECT_EQ(clock_.Now() - start, std::chrono::milliseconds(5'000));
  faults_.Set({.latency_per_record_us = 1'000});
  Advance(60'000);
  const auto before = clock_.Now();
  Response page = Call("GET", std::string(kJobs) + "/" + id + "/results?maxRecords=2000");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(clock_.Now() - before, std::chrono::milliseconds(2'000)) << "1 ms a record";
}

TEST_F(RestBulkTest, AdminApiSetsRateLimitsAndFailures) {
  Response set = Admin("POST", "bulk",
                       R"({"recordsPerSecond":10,"failNext":1,"errorMessage":"Retried too often",)"
                       R"("dailyMax":3,"failingObjects":["Lead"],"cutResults":2})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_THAT(set.body, HasSubstr(R"("recordsPerSecond":10,"dailyMax":3,"dailyRemaining":3,)"
                                  R"("failNext":1,"cutResults":2,"failingObjects":["Lead"],)"
                                  R"("refusedFields":[],"errorMessage":"Retried too often"})"));
  EXPECT_EQ(bulk_->faults().cut_results, 2);
  const std::string failing = Create("SELECT Id FROM Account");
  const std::string slow = Create("SELECT Id FROM Account");
  Advance(200 + 1999);  // 20 records at 10 a second
  EXPECT_THAT(Call("GET", std::string(kJobs) + "/" + slow).body,
              HasSubstr(R"("state":"InProgress","concurrencyMode")"));
  Advance(1);
  EXPECT_THAT(Call("GET", std::string(kJobs) + "/" + slow).body,
              HasSubstr(R"("state":"JobComplete")"));
  Response failed = Call("GET", std::string(kJobs) + "/" + failing);
  EXPECT_THAT(failed.body, HasSubstr(R"("state":"Failed")"));
  EXPECT_THAT(failed.body, HasSubstr(R"("errorMessage":"Retried too often"})"));

  const std::string victim = Create("SELECT Id FROM Contact");
  Response now = Admin("POST", "bulk/fail/" + victim, R"({"errorMessage":"gone"})");
  EXPECT_EQ(now.status, 200) << now.body;
  EXPECT_THAT(Call("GET", std::string(kJobs) + "/" + victim).body,
              HasSubstr(R"("errorMessage":"gone"})"));
  EXPECT_EQ(Admin("POST", "bulk/fail/" + victim).status, 400);
  EXPECT_EQ(Admin("POST", "bulk/fail/750000000000000AAA").status, 404);
  EXPECT_EQ(Admin("POST", "bulk", R"({"recordsPerSecond":0})").status, 400);
  EXPECT_EQ(Admin("POST", "bulk", R"({"failingObjects":"Lead"})").status, 400);
  EXPECT_EQ(Admin("POST", "bulk", R"({"refusedFields":[1]})").status, 400);
  EXPECT_EQ(Admin("POST", "bulk", "[").status, 400);
  EXPECT_THAT(Admin("GET", "bulk").body, HasSubstr(R"("dailyRemaining":0)"));
}

TEST_F(RestBulkTest, ARefusedFieldIsRefusedAtCreationWithoutSpendingAJob) {
  ASSERT_EQ(Admin("POST", "bulk", R"({"refusedFields":["lastname"]})").status, 200);
  Response refused =
      Call("POST", kJobs, R"({"operation":"query","query":"SELECT Id, LastName FROM Contact"})");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr(R"("message":"LastName not supported in Bulk Query")"));
  EXPECT_THAT(refused.body, HasSubstr(R"("errorCode":"API_ERROR")"));
  EXPECT_THAT(Admin("GET", "bulk").body, HasSubstr(R"("dailyRemaining":10000)"));
  EXPECT_NE(Create("SELECT Id, FirstName FROM Contact"), "");
  ASSERT_EQ(Admin("POST", "bulk", R"({"refusedFields":[]})").status, 200);
  EXPECT_NE(Create("SELECT Id, LastName FROM Contact"), "");
}

}  // namespace
}  // namespace sfbridge::sfsim
