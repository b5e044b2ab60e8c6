// Hostile and broken input to sfsim over raw HTTP: malformed JSON, an oversized body, bad SOQL,
// malformed ids wherever an id goes, unknown objects and routes, wrong methods. Every reply must
// be a Salesforce-shaped error (never a crash, never a 5xx), and sfsim must answer normally
// afterwards.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/core/json_writer.h"
#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sfsim::SimulatorOptions options = SmallOrgOptions();
    options.org.counts = {{"User", 5}, {"Account", 50}, {"Contact", 100}};
    org_ = SfsimOrg::Start(options);
  }
  static void TearDownTestSuite() { org_.reset(); }
  void SetUp() override {
    ASSERT_NE(org_, nullptr);
    contact_ = org_->AdminCreate("Contact", R"({"LastName":"Target"})");
  }
  void TearDown() override {
    if (!org_) return;
    // sfsim still answers a normal client normally.
    std::unique_ptr<Client> client = org_->NewClient();
    absl::StatusOr<QueryPage> page = client->Query("SELECT Id FROM Account");
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->total_size, 50);
  }

  // The reply is `status` with Salesforce's error shape [{"message","errorCode"[,"fields"]}];
  // returns the errorCode.
  static std::string ExpectError(const Reply& reply, int status, const std::string& context) {
    EXPECT_EQ(reply.status, status) << context << ": " << reply.body.substr(0, 300);
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(reply.body).get(doc) != simdjson::SUCCESS) {
      ADD_FAILURE() << context << ": not JSON: " << reply.body.substr(0, 300);
      return {};
    }
    simdjson::dom::array errors;
    std::string_view code, message;
    if (doc.get_array().get(errors) != simdjson::SUCCESS || errors.size() == 0 ||
        errors.at(0)["errorCode"].get_string().get(code) != simdjson::SUCCESS ||
        errors.at(0)["message"].get_string().get(message) != simdjson::SUCCESS) {
      ADD_FAILURE() << context << ": not a Salesforce error: " << reply.body.substr(0, 300);
      return {};
    }
    EXPECT_FALSE(code.empty()) << context;
    return std::string(code);
  }

  static std::unique_ptr<SfsimOrg> org_;
  std::string contact_;
};

std::unique_ptr<SfsimOrg> BadInputTest::org_;

const std::vector<std::string>& MalformedJsonBodies() {
  static const std::vector<std::string> bodies = {
      "{",
      "[",
      "}",
      "null",
      "42",
      R"("just a string")",
      R"({"LastName":})",
      R"({"LastName":"unterminated)",
      R"({"LastName":"x",})",
      R"({LastName:"x"})",
      R"({"LastName":"x"} trailing)",
      "{\"LastName\":\"\xFF\xFE invalid utf-8\"}",
      R"({"LastName":"x","LastName":)",
      R"({"LastName":{"nested":{"object":true}}})",
      R"({"LastName":["an","array"]})",
      R"({"NumberOfEmployees":1e999999})",
      R"({"records":5,"allOrNone":"yes"})",
      R"({"allOrNone":true,"records":[5,"x",null]})",
      R"({"allOrNone":true,"records":[{"attributes":{"type":5}}]})",
      R"({"compositeRequest":"not a list"})",
      R"({"compositeRequest":[{"method":5,"url":null}]})",
      std::string(20000, '[') + std::string(20000, ']'),
      std::string(20000, '{'),
  };
  return bodies;
}

TEST_F(BadInputTest, MalformedJsonBodiesAreParserErrors) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/sobjects/Contact"},   {"PATCH", "/sobjects/Contact/" + contact_},
      {"POST", "/composite/sobjects"}, {"PATCH", "/composite/sobjects"},
      {"POST", "/composite"},          {"PATCH", "/sobjects/Contact/Legacy_Id__c/ZZ-UPSERT-1"},
  };
  for (const auto& [method, path] : routes) {
    for (const std::string& body : MalformedJsonBodies()) {
      const std::string context = core::StrCat(method, " ", path, " ", body.substr(0, 40));
      Reply reply = org_->Data(method, path, body);
      if (reply.status == 200 || reply.status == 201 || reply.status == 204) {
        // A body that is well-formed for some route (a collections body sent as a record) may
        // be refused record by record; the record itself must not have changed.
        continue;
      }
      EXPECT_LT(reply.status, 500) << context;
      ExpectError(reply, 400, context);
    }
  }
  // Nothing was written by any of them.
  Reply target = org_->Data("GET", "/sobjects/Contact/" + contact_ + "?fields=LastName");
  EXPECT_THAT(target.body, ::testing::HasSubstr(R"("LastName":"Target")"));
}

TEST_F(BadInputTest, FortyMegabyteBodyIs413) {
  std::string body = R"({"LastName":")" + std::string(40 * 1024 * 1024, 'x') + R"("})";
  HttpRequest request;
  request.method = "POST";
  request.url = org_->base_url() + SfsimOrg::DataPath() + "/sobjects/Contact";
  request.headers = {{"Authorization", "Bearer " + org_->FetchAccessToken()},
                     {"Content-Type", "application/json"}};
  request.body = std::move(body);
  request.timeout = std::chrono::seconds(30);
  absl::StatusOr<HttpResponse> response = org_->transport().Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  Reply reply{response->status, response->body, response->headers};
  EXPECT_EQ(ExpectError(reply, 413, "40 MB"), "REQUEST_ENTITY_TOO_LARGE");

  // The same transport goes on working.
  Reply limits = org_->Data("GET", "/limits");
  EXPECT_EQ(limits.status, 200);
}

TEST_F(BadInputTest, BadSoqlIsA400) {
  const std::vector<std::string> queries = {
      "",
      "   ",
      "SELECT",
      "SELECT Id",
      "SELECT Id FROM",
      "SELECT , FROM Contact",
      "SELECT Id,, Name FROM Contact",
      "SELECT Id FROM Contact WHERE",
      "SELECT Id FROM Contact WHERE Name = 'unterminated",
      "SELECT Id FROM Contact WHERE Name = 'bad escape \\q'",
      "SELECT Id FROM Contact WHERE (Name = 'a'",
      "SELECT Id FROM Contact WHERE Name = 'a')",
      "SELECT Id FROM Contact WHERE Name == 'a'",
      "SELECT Id FROM Contact WHERE Name IN ()",
      "SELECT Id FROM Contact WHERE CreatedDate > 2024-13-45T99:99:99Z",
      "SELECT Id FROM Contact WHERE CreatedDate > 'yesterday'",
      "SELECT Id FROM Contact WHERE LastName > 5",
      "SELECT Id FROM Contact ORDER BY",
      "SELECT Id FROM Contact ORDER BY Nope__c",
      "SELECT Id FROM Contact LIMIT -1",
      "SELECT Id FROM Contact LIMIT 99999999999999999999999",
      "SELECT Id FROM Contact OFFSET 999999999",
      "SELECT Id FROM Contact GROUP BY",
      "SELECT FIELDS(ALL) FROM Contact",
      "SELECT FIELDS(NOPE) FROM Contact LIMIT 1",
      "SELECT Id FROM Nope__c",
      "SELECT Nope FROM Contact",
      "SELECT Account.Nope FROM Contact",
      "DELETE FROM Contact",
      "SELECT Id FROM Contact; DROP TABLE Contact",
      std::string("SELECT Id FROM Contact WHERE Name = 'a\0b'", 43),
      // Long, but within the ~16k characters a URL may have.
      "SELECT Id FROM Contact WHERE " + std::string(2000, '(') + "Name = 'a'" +
          std::string(1999, ')'),
      "SELECT Id FROM Contact WHERE Name = '" + std::string(12000, 'a'),
      "SELECT " + std::string(12000, 'x') + " FROM Contact",
  };
  for (const std::string& soql : queries) {
    const std::string context = core::StrCat("q=", soql.substr(0, 60), " (", soql.size(), ")");
    Reply reply = org_->Data("GET", "/query?" + EncodeParams({{"q", soql}}));
    std::string code = ExpectError(reply, 400, context);
    EXPECT_THAT(code, AnyOf(Eq("MALFORMED_QUERY"), Eq("INVALID_FIELD"), Eq("INVALID_TYPE"),
                            Eq("INVALID_QUERY_FILTER_OPERATOR"), Eq("NUMBER_OUTSIDE_VALID_RANGE")))
        << context;
  }
  ExpectError(org_->Data("GET", "/query"), 400, "no q");
  ExpectError(org_->Data("GET", "/queryAll?q="), 400, "empty q");
  ExpectError(org_->Data("GET", "/query/not-a-locator"), 400, "bad locator");
  ExpectError(org_->Data("GET", "/query/01gXX-99999999999999999999999"), 400, "huge offset");
}

TEST_F(BadInputTest, OverlongUrlIsRefusedWithoutHarm) {
  // Past Poco's request-line limit (16,210 characters) the server refuses the request before
  // sfsim sees it and closes the connection; the client must get an error, not hang or crash.
  HttpRequest request;
  request.url = core::StrCat(org_->base_url(), SfsimOrg::DataPath(), "/query?",
                             EncodeParams({{"q", "SELECT Id FROM Contact WHERE Name = '" +
                                                     std::string(100000, 'a') + "'"}}));
  request.headers = {{"Authorization", "Bearer " + org_->FetchAccessToken()}};
  request.timeout = std::chrono::seconds(10);
  absl::StatusOr<HttpResponse> response = org_->transport().Send(request);
  if (response.ok()) {
    EXPECT_GE(response->status, 400);
    EXPECT_LT(response->status, 500);
  } else {
    EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  }
}

TEST_F(BadInputTest, MalformedIdsInEveryIdPosition) {
  const std::vector<std::string> bad_ids = {
      "x",
      "003",
      "00300000000000",
      "0030000000000000",
      "0030000000000000000",
      "003!!!!!!!!!!!!",
      "003000000000000ZZZ",
      std::string(1000, 'a'),
      "003%00000000000",
      "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"};
  for (const std::string& id : bad_ids) {
    const std::string enc = UrlEncode(id);
    const std::string context = "id " + id.substr(0, 30);
    Reply read = org_->Data("GET", "/sobjects/Contact/" + enc);
    EXPECT_THAT(read.status, AnyOf(Eq(400), Eq(404))) << context;
    ExpectError(read, read.status, "read " + context);
    Reply update = org_->Data("PATCH", "/sobjects/Contact/" + enc, R"({"Title":"x"})");
    ExpectError(update, update.status, "update " + context);
    EXPECT_THAT(update.status, AnyOf(Eq(400), Eq(404))) << context;
    Reply del = org_->Data("DELETE", "/sobjects/Contact/" + enc);
    ExpectError(del, del.status, "delete " + context);
    EXPECT_THAT(del.status, AnyOf(Eq(400), Eq(404))) << context;

    // Collections answer 200 with one refused result per id.
    Reply bulk_delete = org_->Data("DELETE", "/composite/sobjects?ids=" + enc + "&allOrNone=false");
    EXPECT_EQ(bulk_delete.status, 200) << context << bulk_delete.body.substr(0, 200);
    EXPECT_THAT(bulk_delete.body, ::testing::HasSubstr(R"("success":false)")) << context;
    Reply retrieve = org_->Data("GET", "/composite/sobjects/Contact?ids=" + enc + "&fields=Id");
    EXPECT_EQ(retrieve.status, 200) << context;
    EXPECT_EQ(retrieve.body, "[null]") << context;
    simdjson::dom::parser parser;
    const std::string record_id = core::JsonWriter().String(id).Take();
    Reply bulk_update = org_->Data(
        "PATCH", "/composite/sobjects",
        core::StrCat(R"({"allOrNone":false,"records":[{"attributes":{"type":"Contact"},)",
                     R"("id":)", record_id, R"(,"Title":"x"}]})"));
    EXPECT_EQ(bulk_update.status, 200) << context;
    EXPECT_THAT(bulk_update.body, ::testing::HasSubstr(R"("success":false)")) << context;
    // A reference field.
    Reply reference = org_->Data("POST", "/sobjects/Contact",
                                 core::StrCat(R"({"LastName":"R","AccountId":)", record_id, "}"));
    EXPECT_THAT(ExpectError(reference, 400, "reference " + context),
                AnyOf(Eq("MALFORMED_ID"), Eq("STRING_TOO_LONG")));
    // Upsert through the Id field.
    Reply upsert = org_->Data("PATCH", "/sobjects/Contact/Id/" + enc, R"({"Title":"x"})");
    ExpectError(upsert, upsert.status, "upsert " + context);
    EXPECT_THAT(upsert.status, AnyOf(Eq(400), Eq(404))) << context;
  }
  // A composite reference to nothing.
  Reply composite =
      org_->Data("POST", "/composite",
                 R"({"allOrNone":true,"compositeRequest":[{"method":"GET","referenceId":"a",)"
                 R"("url":"/services/data/v59.0/sobjects/Contact/@{nothing.id}"}]})");
  EXPECT_EQ(composite.status, 200);
  EXPECT_THAT(composite.body, ::testing::HasSubstr(R"("httpStatusCode":400)"));
}

TEST_F(BadInputTest, UnknownObjectsAndRoutesAre404) {
  for (const std::string& path :
       {std::string("/sobjects/Nope__c"), std::string("/sobjects/Nope__c/describe"),
        std::string("/sobjects/Nope__c/003000000000000"), std::string("/nope"),
        std::string("/sobjects/Contact/describe/extra/parts/here"),
        std::string("/composite/sobjects/Nope__c?ids=003000000000000&fields=Id"),
        std::string("/sobjects/Contact/Nope__c/value"),
        std::string("/sobjects/%2E%2E/%2E%2E/etc/passwd")}) {
    Reply reply = org_->Data(path.starts_with("/sobjects/Contact/Nope") ? "PATCH" : "GET", path,
                             path.starts_with("/sobjects/Contact/Nope") ? R"({"Title":"x"})" : "");
    EXPECT_EQ(ExpectError(reply, 404, path), "NOT_FOUND");
  }
  for (const std::string& path :
       {std::string("/services/data/v12.0/limits"), std::string("/services/nope"), std::string("/"),
        std::string("/services/data/vX/query?q=SELECT+Id+FROM+Contact")}) {
    Reply reply = org_->Send("GET", path);
    EXPECT_EQ(ExpectError(reply, 404, path), "NOT_FOUND");
  }
  Reply admin = org_->Admin("GET", "nope");
  EXPECT_EQ(ExpectError(admin, 404, "admin"), "NOT_FOUND");
}

TEST_F(BadInputTest, WrongMethodsAre405) {
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"DELETE", "/query?q=SELECT+Id+FROM+Contact"},
      {"POST", "/limits"},
      {"PUT", "/sobjects/Contact"},
      {"GET", "/composite"},
      {"DELETE", "/sobjects"},
      {"POST", "/sobjects/Contact/describe"},
      {"PUT", "/sobjects/Contact/" + contact_},
      {"PUT", "/composite/sobjects"},
      {"GET", "/sobjects/Contact/Legacy_Id__c/ZZ-UPSERT-1"},
      {"POST", "/sobjects/Contact/updated"},
  };
  for (const auto& [method, path] : calls) {
    Reply reply = org_->Data(method, path);
    EXPECT_EQ(ExpectError(reply, 405, method + " " + path), "METHOD_NOT_ALLOWED");
  }
  Reply token = org_->Send("GET", "/services/oauth2/token");
  EXPECT_EQ(token.status, 405);
  EXPECT_THAT(token.body, ::testing::HasSubstr(R"("error":"invalid_request")"));
  Reply versions = org_->Send("DELETE", "/services/data/");
  EXPECT_EQ(ExpectError(versions, 405, "versions"), "METHOD_NOT_ALLOWED");
}

TEST_F(BadInputTest, GarbageAtTheTokenEndpointIsAnOAuthError) {
  for (const std::string& body :
       {std::string(""), std::string("grant_type="), std::string("grant_type=magic"),
        std::string("%%%%&&&==="), std::string(R"({"grant_type":"password"})"),
        std::string("grant_type=password&client_id=") + std::string(100000, 'x'),
        std::string(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"),
        std::string("grant_type=refresh_token&client_id=3MVG9sfbridgeIntegrationConsumerKey")}) {
    Reply reply = org_->Send("POST", "/services/oauth2/token", body,
                             {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(reply.status, 400) << body.substr(0, 60);
    simdjson::dom::parser parser;
    std::string_view error;
    EXPECT_EQ(ParseJson(parser, reply.body)["error"].get_string().get(error), simdjson::SUCCESS)
        << reply.body;
    EXPECT_FALSE(error.empty());
  }
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
