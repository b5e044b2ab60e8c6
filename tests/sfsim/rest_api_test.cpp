// sfsim's REST API called directly (no sockets): routes, shapes, limits, faults, paging.

#include "sfsim/rest_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/core/strings.h"
#include "sfsim/body_json.h"
#include "sfsim/rest_calls.h"
#include "tests/fakes/fake_clock.h"
#include "tests/sfsim/rest_test_support.h"

namespace sfbridge::sfsim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org::OrgOptions options;
    options.seed = 42;
    options.counts = {{"User", 5}, {"Account", 50}, {"Contact", 4500}};
    auto o = org::Org::Create(options, clock_);
    ASSERT_TRUE(o.ok()) << o.status();
    org_ = std::move(*o);
    auth_ = std::make_unique<oauth::AuthServer>(rest_test::TestOAuthConfig(*org_), clock_);
    bulk_ = std::make_unique<BulkQueryJobs>(*org_, clock_);
    api_ = std::make_unique<RestApi>(*org_, *auth_, limits_, faults_, cursors_, *bulk_, clock_);
    token_ = rest_test::PasswordToken(*api_);
    ASSERT_FALSE(token_.empty());
  }

  static Request Form(std::string path, std::string body) {
    return rest_test::FormRequest(std::move(path), std::move(body));
  }

  Response Call(std::string method, std::string path_and_query, std::string body = "",
                std::map<std::string, std::string> headers = {}) {
    return api_->Handle(rest_test::ApiRequest(std::move(method), path_and_query, token_,
                                              std::move(body), std::move(headers)));
  }

  static std::string Header(const Response& r, const std::string& name) {
    return rest_test::ResponseHeader(r, name);
  }

  testing::FakeClock clock_;
  std::unique_ptr<org::Org> org_;
  std::unique_ptr<oauth::AuthServer> auth_;
  ApiLimits limits_{1'000'000, 2};
  Faults faults_{1};
  QueryCursors cursors_{clock_, std::chrono::minutes(15), 100};
  std::unique_ptr<BulkQueryJobs> bulk_;
  std::unique_ptr<RestApi> api_;
  std::string token_;
};

TEST_F(RestApiTest, VersionsNeedNoAuthAndCostNothing) {
  Request r;
  r.method = "GET";
  r.path = "/services/data/";
  Response resp = api_->Handle(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_THAT(resp.body, HasSubstr(R"("url":"/services/data/v59.0","version":"59.0")"));
  EXPECT_EQ(limits_.used(), 0);
}

TEST_F(RestApiTest, EveryCallNeedsAValidToken) {
  Request r;
  r.method = "GET";
  r.path = "/services/data/v59.0/limits";
  r.headers["authorization"] = "Bearer not-a-token";
  Response resp = api_->Handle(r);
  EXPECT_EQ(resp.status, 401);
  EXPECT_THAT(resp.body, HasSubstr("INVALID_SESSION_ID"));
  auth_->RevokeAll();
  EXPECT_EQ(Call("GET", "/services/data/v59.0/limits").status, 401);
}

TEST_F(RestApiTest, QueryPagesWithNextRecordsUrlAndBatchSize) {
  std::string soql = "SELECT Id, LastName, SystemModstamp FROM Contact ORDER BY Id";
  Response first = Call("GET", "/services/data/v59.0/query?q=" + soql, "",
                        {{"sforce-query-options", "batchSize=1000"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_THAT(first.body, HasSubstr(R"("totalSize":4500,"done":false,"nextRecordsUrl":)"));
  EXPECT_THAT(Header(first, "Sforce-Limit-Info"), HasSubstr("api-usage="));
  std::set<std::string> ids;
  auto collect = [&](const std::string& body) {
    size_t pos = 0;
    while ((pos = body.find("\"Id\":\"", pos)) != std::string::npos) {
      ids.insert(body.substr(pos + 6, 18));
      pos += 6;
    }
  };
  collect(first.body);
  std::string next = JsonMemberText(first.body, "nextRecordsUrl");
  int pages = 1;
  while (!next.empty()) {
    Response page = Call("GET", next, "", {{"sforce-query-options", "batchSize=1000"}});
    ASSERT_EQ(page.status, 200) << page.body;
    collect(page.body);
    next = JsonMemberText(page.body, "nextRecordsUrl");
    ++pages;
  }
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(ids.size(), 4500u);
  EXPECT_EQ(cursors_.open_count(), 0u) << "a finished locator is closed";
  EXPECT_EQ(Call("GET", "/services/data/v59.0/query/01gD00000000099-2000").status, 400);
}

TEST_F(RestApiTest, QueryErrorsAreSalesforceShaped) {
  Response bad = Call("GET", "/services/data/v59.0/query?q=SELEKT Id FROM Contact");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("MALFORMED_QUERY"));
  Response field = Call("GET", "/services/data/v59.0/query?q=SELECT Foo FROM Contact");
  EXPECT_THAT(field.body, HasSubstr("INVALID_FIELD"));
  Response type = Call("GET", "/services/data/v59.0/query?q=SELECT Id FROM Nope__c");
  EXPECT_THAT(type.body, HasSubstr("INVALID_TYPE"));
  EXPECT_EQ(Call("GET", "/services/data/v59.0/query").status, 400);
}

TEST_F(RestApiTest, DailyLimitGives403AndCountsEveryCall) {
  limits_.Set(limits_.used() + 2, std::nullopt);
  EXPECT_EQ(Call("GET", "/services/data/v59.0/limits").status, 200);
  EXPECT_EQ(Call("GET", "/services/data/v59.0/sobjects").status, 200);
  Response over = Call("GET", "/services/data/v59.0/limits");
  EXPECT_EQ(over.status, 403);
  EXPECT_THAT(over.body, HasSubstr("REQUEST_LIMIT_EXCEEDED"));
  EXPECT_THAT(over.body, HasSubstr("TotalRequests Limit exceeded."));
}

TEST_F(RestApiTest, CreateReadUpdateDeleteOneRecord) {
  Response created = Call("POST", "/services/data/v59.0/sobjects/Contact",
                          R"({"LastName":"O'Brien \"Q\"","Email":"q@example.com"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = JsonMemberText(created.body, "id");
  ASSERT_EQ(id.size(), 18u);
  EXPECT_TRUE(id.starts_with("003"));
  Response read =
      Call("GET", "/services/data/v59.0/sobjects/Contact/" + id + "?fields=LastName,Email");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_THAT(read.body, HasSubstr(R"("LastName":"O'Brien \"Q\"","Email":"q@example.com")"));
  EXPECT_EQ(
      Call("PATCH", "/services/data/v59.0/sobjects/Contact/" + id, R"({"LastName":"B"})").status,
      204);
  EXPECT_EQ(Call("DELETE", "/services/data/v59.0/sobjects/Contact/" + id).status, 204);
  Response gone = Call("GET", "/services/data/v59.0/sobjects/Contact/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_THAT(gone.body, HasSubstr("ENTITY_IS_DELETED"));
  Response missing = Call("POST", "/services/data/v59.0/sobjects/Contact", R"({"Email":"a@b.c"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, HasSubstr("REQUIRED_FIELD_MISSING"));
  EXPECT_THAT(missing.body, HasSubstr(R"("fields":["LastName"])"));
  Response malformed = Call("POST", "/services/data/v59.0/sobjects/Contact", "{\"LastName\":");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_THAT(malformed.body, HasSubstr("JSON_PARSER_ERROR"));
}

TEST_F(RestApiTest, CollectionsAllOrNoneRollsBackEverything) {
  int64_t before = org_->Count("Contact", false);
  Response r = Call("POST", "/services/data/v59.0/composite/sobjects",
                    R"({"allOrNone":true,"records":[)"
                    R"({"attributes":{"type":"Contact"},"LastName":"Ok"},)"
                    R"({"attributes":{"type":"Contact"},"Email":"no-last-name@x.y"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("ALL_OR_NONE_OPERATION_ROLLED_BACK"));
  EXPECT_THAT(r.body, HasSubstr(R"("statusCode":"REQUIRED_FIELD_MISSING")"));
  EXPECT_EQ(org_->Count("Contact", false), before);

  std::string records;
  for (int i = 0; i < 201; ++i) {
    records +=
        core::StrCat(i ? "," : "", R"({"attributes":{"type":"Contact"},"LastName":"n)", i, "\"}");
  }
  Response too_many = Call("POST", "/services/data/v59.0/composite/sobjects",
                           core::StrCat(R"({"allOrNone":true,"records":[)", records, "]}"));
  EXPECT_EQ(too_many.status, 400);
  EXPECT_THAT(too_many.body, HasSubstr("EXCEEDED_ID_LIMIT"));
}

TEST_F(RestApiTest, CompositeReferencesAndAllOrNoneUndo) {
  Response ok = Call(
      "POST", "/services/data/v59.0/composite",
      R"({"allOrNone":true,"compositeRequest":[)"
      R"({"method":"POST","url":"/services/data/v59.0/sobjects/Account","referenceId":"acc","body":{"Name":"Acme"}},)"
      R"({"method":"POST","url":"/services/data/v59.0/sobjects/Contact","referenceId":"con","body":{"LastName":"X","AccountId":"@{acc.id}"}},)"
      R"({"method":"GET","url":"/services/data/v59.0/sobjects/Contact/@{con.id}?fields=AccountId","referenceId":"get"}]})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_THAT(ok.body, Not(HasSubstr("PROCESSING_HALTED")));
  EXPECT_THAT(ok.body, HasSubstr(R"("httpStatusCode":201,"referenceId":"acc")"));
  EXPECT_THAT(ok.body, HasSubstr(R"("httpStatusCode":200,"referenceId":"get")"));

  int64_t accounts = org_->Count("Account", false);
  Response halted = Call(
      "POST", "/services/data/v59.0/composite",
      R"({"allOrNone":true,"compositeRequest":[)"
      R"({"method":"POST","url":"/services/data/v59.0/sobjects/Account","referenceId":"a1","body":{"Name":"Kept?"}},)"
      R"({"method":"POST","url":"/services/data/v59.0/sobjects/Contact","referenceId":"c1","body":{"Email":"x@y.z"}}]})");
  ASSERT_EQ(halted.status, 200);
  EXPECT_THAT(halted.body, HasSubstr("PROCESSING_HALTED"));
  EXPECT_THAT(halted.body, HasSubstr("REQUIRED_FIELD_MISSING"));
  EXPECT_EQ(org_->Count("Account", false), accounts) << "the first create was undone";
}

TEST_F(RestApiTest, CompositeWriteAndReadBackThroughArrayReferences) {
  Response r = Call(
      "POST", "/services/data/v59.0/composite",
      R"({"allOrNone":false,"compositeRequest":[)"
      R"({"method":"POST","url":"/services/data/v59.0/composite/sobjects","referenceId":"s1_w",)"
      R"("body":{"allOrNone":true,"records":[{"attributes":{"type":"Contact"},"LastName":"A1"},)"
      R"({"attributes":{"type":"Contact"},"LastName":"A2"}]}},)"
      R"({"method":"GET","url":"/services/data/v59.0/composite/sobjects/Contact?ids=@{s1_w[0].id},@{s1_w[1].id}&fields=Id,LastName,SystemModstamp","referenceId":"s1_r"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("httpStatusCode":200,"referenceId":"s1_w")"));
  EXPECT_THAT(r.body, HasSubstr(R"("httpStatusCode":200,"referenceId":"s1_r")"));
  // The read-back holds both new records, in order, with the values Salesforce stored.
  const size_t a1 = r.body.find(R"("LastName":"A1")");
  const size_t a2 = r.body.find(R"("LastName":"A2")");
  ASSERT_NE(a1, std::string::npos) << r.body;
  ASSERT_NE(a2, std::string::npos) << r.body;
  EXPECT_LT(a1, a2);
  EXPECT_THAT(r.body, HasSubstr("SystemModstamp"));
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[1].body[0].LastName"), "A1");
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[1].body[0].Id"),
            JsonMemberText(r.body, "compositeResponse[0].body[0].id"));
}

TEST_F(RestApiTest, CompositeWithoutAllOrNoneKeepsTheOtherStatementsWrites) {
  const int64_t before = org_->Count("Contact", false);
  Response r = Call(
      "POST", "/services/data/v59.0/composite",
      R"({"allOrNone":false,"compositeRequest":[)"
      R"({"method":"POST","url":"/services/data/v59.0/composite/sobjects","referenceId":"a_w",)"
      R"("body":{"allOrNone":true,"records":[{"attributes":{"type":"Contact"},"LastName":"Kept"}]}},)"
      R"({"method":"POST","url":"/services/data/v59.0/composite/sobjects","referenceId":"b_w",)"
      R"("body":{"allOrNone":true,"records":[{"attributes":{"type":"Contact"},"LastName":"Fine"},)"
      R"({"attributes":{"type":"Contact"},"Email":"no-last-name@x.y"}]}},)"
      R"({"method":"GET","url":"/services/data/v59.0/composite/sobjects/Contact?ids=@{b_w[0].id}&fields=Id","referenceId":"b_r"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  // The refused statement is rolled back on its own; its read-back has no id to read.
  EXPECT_THAT(r.body, HasSubstr("REQUIRED_FIELD_MISSING"));
  EXPECT_THAT(r.body, HasSubstr("ALL_OR_NONE_OPERATION_ROLLED_BACK"));
  EXPECT_THAT(r.body, Not(HasSubstr("PROCESSING_HALTED")));
  EXPECT_THAT(r.body, HasSubstr(R"("httpStatusCode":400,"referenceId":"b_r")"));
  EXPECT_EQ(org_->Count("Contact", false), before + 1);
}

TEST_F(RestApiTest, CompositeAllOrNoneRollsBackEverythingWhenACollectionRecordIsRefused) {
  const int64_t accounts = org_->Count("Account", false);
  const int64_t contacts = org_->Count("Contact", false);
  // The collection's own allOrNone is false: the Composite's true overrides it.
  Response r = Call(
      "POST", "/services/data/v59.0/composite",
      R"({"allOrNone":true,"compositeRequest":[)"
      R"({"method":"POST","url":"/services/data/v59.0/composite/sobjects","referenceId":"a_w",)"
      R"("body":{"allOrNone":false,"records":[{"attributes":{"type":"Account"},"Name":"Rolled"}]}},)"
      R"({"method":"POST","url":"/services/data/v59.0/composite/sobjects","referenceId":"b_w",)"
      R"("body":{"allOrNone":false,"records":[{"attributes":{"type":"Contact"},"LastName":"Fine",)"
      R"("AccountId":"@{a_w[0].id}"},{"attributes":{"type":"Contact"},"Email":"x@y.z"}]}},)"
      R"({"method":"GET","url":"/services/data/v59.0/composite/sobjects/Contact?ids=@{b_w[0].id}&fields=Id","referenceId":"b_r"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  // The refused collection answers 400 with its per-record results; the rest is halted.
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[1].httpStatusCode"), "400") << r.body;
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[1].body[1].errors[0].statusCode"),
            "REQUIRED_FIELD_MISSING")
      << r.body;
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[1].body[0].errors[0].statusCode"),
            "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[0].httpStatusCode"), "400");
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[0].body[0].errorCode"), "PROCESSING_HALTED");
  EXPECT_EQ(JsonMemberText(r.body, "compositeResponse[2].body[0].errorCode"), "PROCESSING_HALTED");
  EXPECT_EQ(org_->Count("Account", false), accounts);
  EXPECT_EQ(org_->Count("Contact", false), contacts);
}

TEST_F(RestApiTest, CollectionsUpsertByExternalIdCreatesOrUpdates) {
  const int64_t before = org_->Count("Contact", false);
  Response first =
      Call("PATCH", "/services/data/v59.0/composite/sobjects/Contact/Legacy_Id__c",
           R"({"allOrNone":true,"records":[)"
           R"({"attributes":{"type":"Contact"},"Legacy_Id__c":"UPS-Q-1","LastName":"One"},)"
           R"({"attributes":{"type":"Contact"},"Legacy_Id__c":"UPS-Q-2","LastName":"Two"}]})");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(JsonMemberText(first.body, "[0].created"), "true") << first.body;
  EXPECT_EQ(JsonMemberText(first.body, "[1].created"), "true");
  EXPECT_EQ(org_->Count("Contact", false), before + 2);
  const std::string id = JsonMemberText(first.body, "[0].id");

  Response second =
      Call("PATCH", "/services/data/v59.0/composite/sobjects/Contact/Legacy_Id__c",
           R"({"allOrNone":true,"records":[)"
           R"({"attributes":{"type":"Contact"},"Legacy_Id__c":"UPS-Q-1","LastName":"Uno"},)"
           R"({"attributes":{"type":"Contact"},"Legacy_Id__c":"UPS-Q-3","LastName":"Three"}]})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(JsonMemberText(second.body, "[0].created"), "false");
  EXPECT_EQ(JsonMemberText(second.body, "[0].id"), id);
  EXPECT_EQ(JsonMemberText(second.body, "[1].created"), "true");
  EXPECT_EQ(org_->Count("Contact", false), before + 3);
  Response read = Call("GET", "/services/data/v59.0/sobjects/Contact/" + id + "?fields=LastName");
  EXPECT_EQ(JsonMemberText(read.body, "LastName"), "Uno");

  // allOrNone: a record without its key, or one Salesforce refuses, leaves every record as it was.
  Response refused =
      Call("PATCH", "/services/data/v59.0/composite/sobjects/Contact/Legacy_Id__c",
           R"({"allOrNone":true,"records":[)"
           R"({"attributes":{"type":"Contact"},"Legacy_Id__c":"UPS-Q-1","LastName":"Changed"},)"
           R"({"attributes":{"type":"Contact"},"Legacy_Id__c":"UPS-Q-4"}]})");
  ASSERT_EQ(refused.status, 200) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("REQUIRED_FIELD_MISSING"));
  EXPECT_THAT(refused.body, HasSubstr("ALL_OR_NONE_OPERATION_ROLLED_BACK"));
  Response missing = Call("PATCH", "/services/data/v59.0/composite/sobjects/Contact/Legacy_Id__c",
                          R"({"allOrNone":true,"records":[)"
                          R"({"attributes":{"type":"Contact"},"LastName":"NoKey"}]})");
  EXPECT_THAT(missing.body, HasSubstr("MISSING_ARGUMENT"));
  EXPECT_EQ(org_->Count("Contact", false), before + 3);
  read = Call("GET", "/services/data/v59.0/sobjects/Contact/" + id + "?fields=LastName");
  EXPECT_EQ(JsonMemberText(read.body, "LastName"), "Uno");
  EXPECT_EQ(limits_.CallsByKind()["collections_upsert"], 4);
}

TEST_F(RestApiTest, Injected5xxAndLongRunningRefusalsApplyNothing) {
  const int64_t before = org_->Count("Contact", false);
  const std::string body =
      R"({"allOrNone":false,"compositeRequest":[)"
      R"({"method":"POST","url":"/services/data/v59.0/composite/sobjects","referenceId":"w",)"
      R"("body":{"allOrNone":true,"records":[{"attributes":{"type":"Contact"},"LastName":"N"}]}}]})";
  faults_.Set({.error_5xx_rate = 1});
  EXPECT_EQ(Call("POST", "/services/data/v59.0/composite", body).status, 503);
  EXPECT_EQ(
      Call("POST", "/services/data/v59.0/composite/sobjects",
           R"({"allOrNone":true,"records":[{"attributes":{"type":"Contact"},"LastName":"N"}]})")
          .status,
      503);
  EXPECT_EQ(org_->Count("Contact", false), before);

  faults_.Set({.latency_ms = 25'000});
  ASSERT_TRUE(limits_.BeginLongRunning());
  ASSERT_TRUE(limits_.BeginLongRunning());
  Response refused = Call("POST", "/services/data/v59.0/composite", body);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, HasSubstr("ConcurrentPerOrgLongTxn"));
  EXPECT_EQ(org_->Count("Contact", false), before) << "refused before it was applied";
  limits_.EndLongRunning();
  limits_.EndLongRunning();

  // A timeout on the client's side (the modelled latency) comes after the write is applied.
  faults_.Set({.slow_rate = 1, .slow_ms = 5'000});
  EXPECT_EQ(Call("POST", "/services/data/v59.0/composite", body).status, 200);
  EXPECT_EQ(org_->Count("Contact", false), before + 1);
}

TEST_F(RestApiTest, FaultsAnswer503DropAndLockErrors) {
  faults_.Set({.error_5xx_rate = 1});
  Response r = Call("GET", "/services/data/v59.0/limits");
  EXPECT_EQ(r.status, 503);
  faults_.Set({.drop_rate = 1});
  EXPECT_TRUE(Call("GET", "/services/data/v59.0/limits").drop_connection);
  faults_.Set({.lock_rate = 1});
  Response lock = Call("POST", "/services/data/v59.0/sobjects/Contact", R"({"LastName":"L"})");
  EXPECT_EQ(lock.status, 400);
  EXPECT_THAT(lock.body, HasSubstr("UNABLE_TO_LOCK_ROW"));
  EXPECT_EQ(Call("GET", "/services/data/v59.0/limits").status, 200) << "reads are not locked";
}

TEST_F(RestApiTest, LongRunningRequestsAreCapped) {
  faults_.Set({.latency_ms = 25'000});
  // The fake clock makes the modelled 25 s pass at once, so calls do not overlap here; hold
  // both slots to see the cap.
  ASSERT_TRUE(limits_.BeginLongRunning());
  ASSERT_TRUE(limits_.BeginLongRunning());
  Response r = Call("GET", "/services/data/v59.0/limits");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("ConcurrentPerOrgLongTxn Limit exceeded."));
  limits_.EndLongRunning();
  auto before = clock_.Now();
  EXPECT_EQ(Call("GET", "/services/data/v59.0/limits").status, 200);
  EXPECT_GE(clock_.Now() - before, std::chrono::seconds(25));
}

TEST_F(RestApiTest, DescribeAndUnknownRoutes) {
  Response global = Call("GET", "/services/data/v59.0/sobjects");
  EXPECT_THAT(global.body, HasSubstr(R"("name":"Invoice__c")"));
  Response describe = Call("GET", "/services/data/v59.0/sobjects/Contact/describe");
  ASSERT_EQ(describe.status, 200);
  EXPECT_THAT(describe.body, HasSubstr(R"("name":"SystemModstamp")"));
  EXPECT_EQ(Call("GET", "/services/data/v59.0/sobjects/Nope/describe").status, 404);
  EXPECT_EQ(Call("GET", "/services/data/v59.0/nothing").status, 404);
  EXPECT_EQ(Call("GET", "/services/data/v12.0/limits").status, 404);
}

TEST_F(RestApiTest, GetDeletedAndUpdatedWindows) {
  Response created = Call("POST", "/services/data/v59.0/sobjects/Contact", R"({"LastName":"D"})");
  std::string id = JsonMemberText(created.body, "id");
  clock_.Advance(std::chrono::minutes(2));
  ASSERT_EQ(Call("DELETE", "/services/data/v59.0/sobjects/Contact/" + id).status, 204);
  clock_.Advance(std::chrono::minutes(2));
  // '+' must travel as %2B in a query string, as clients encode it.
  auto encoded = [](std::string s) { return s.replace(s.find('+'), 1, "%2B"); };
  std::string start = encoded(FormatIsoDateTime(core::ToUnixMillis(clock_.Now()) - 3'600'000));
  std::string end = encoded(FormatIsoDateTime(core::ToUnixMillis(clock_.Now())));
  Response deleted =
      Call("GET", "/services/data/v59.0/sobjects/Contact/deleted/?start=" + start + "&end=" + end);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_THAT(deleted.body, HasSubstr(id));
  EXPECT_THAT(deleted.body, HasSubstr("latestDateCovered"));
  Response bad = Call("GET", "/services/data/v59.0/sobjects/Contact/updated/?start=x&end=y");
  EXPECT_THAT(bad.body, HasSubstr("INVALID_REPLICATION_DATE"));
}

}  // namespace
}  // namespace sfbridge::sfsim
