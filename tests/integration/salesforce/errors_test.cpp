// Every error code of the reference's table (§4) and the query errors (§3), produced by sfsim
// and surfaced by the client as an ApiError with the right code, message, fields and status code.
// (UNABLE_TO_LOCK_ROW needs a fault and lives in faults_test.cpp.)

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ErrorsTest : public SmallOrgTest {
 protected:
  // Creates one record of `object` alone and returns the error sfsim gave it.
  absl::Status CreateOne(std::string_view object, Fields fields) {
    absl::StatusOr<std::vector<SaveResult>> results =
        client_->CreateRecords(object, {std::move(fields)}, true);
    if (!results.ok()) return results.status();
    return SaveResultStatus(results->at(0));
  }
  absl::Status UpdateOne(std::string_view object, Fields fields) {
    absl::StatusOr<std::vector<SaveResult>> results =
        client_->UpdateRecords(object, {std::move(fields)}, true);
    if (!results.ok()) return results.status();
    return SaveResultStatus(results->at(0));
  }
  absl::Status DeleteOne(const std::string& id) {
    absl::StatusOr<std::vector<SaveResult>> results = client_->DeleteRecords({id}, true);
    if (!results.ok()) return results.status();
    return SaveResultStatus(results->at(0));
  }
  std::string AnAccountId() {
    absl::StatusOr<QueryPage> page = client_->Query("SELECT Id FROM Account LIMIT 1");
    EXPECT_TRUE(page.ok() && !page->records.empty());
    return page.ok() && !page->records.empty() ? page->records[0].id : "";
  }
};

TEST_F(ErrorsTest, RequiredFieldMissing) {
  absl::Status status = CreateOne("Contact", StringFields({{"FirstName", "Only"}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  ApiError error = ExpectApiError(status);
  EXPECT_EQ(error.error_code, "REQUIRED_FIELD_MISSING");
  EXPECT_EQ(error.message, "Required fields are missing: [LastName]");
  EXPECT_EQ(error.fields, std::vector<std::string>{"LastName"});
  EXPECT_EQ(std::string(status.message()),
            "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)");
}

TEST_F(ErrorsTest, InvalidFieldOnWriteAndInQuery) {
  ApiError error = ExpectApiError(
      CreateOne("Contact", StringFields({{"LastName", "X"}, {"Shoe_Size__c", "42"}})));
  EXPECT_EQ(error.error_code, "INVALID_FIELD");
  EXPECT_THAT(error.message, HasSubstr("No such column 'Shoe_Size__c'"));

  Fields with_id = StringFields({{"Id", "003000000000001"}, {"LastName", "X"}});
  error = ExpectApiError(CreateOne("Contact", with_id));
  EXPECT_EQ(error.error_code, "INVALID_FIELD");
  EXPECT_EQ(error.fields, std::vector<std::string>{"Id"});

  absl::StatusOr<QueryPage> query = client_->Query("SELECT Id, Shoe_Size__c FROM Contact");
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
  error = ExpectApiError(query.status());
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.error_code, "INVALID_FIELD");
  EXPECT_THAT(error.message, HasSubstr("No such column 'Shoe_Size__c' on entity 'Contact'"));
}

TEST_F(ErrorsTest, InvalidFieldForInsertUpdate) {
  ApiError error =
      ExpectApiError(CreateOne("Contact", StringFields({{"LastName", "X"}, {"Name", "Full"}})));
  EXPECT_EQ(error.error_code, "INVALID_FIELD_FOR_INSERT_UPDATE");
  EXPECT_THAT(error.message, StartsWith("Unable to create/update fields: Name."));
  EXPECT_EQ(error.fields, std::vector<std::string>{"Name"});

  Fields formula = {{"Name", FieldValue::String("Opp")},
                    {"StageName", FieldValue::String("Prospecting")},
                    {"CloseDate", FieldValue::String("2030-01-01")},
                    {"ExpectedRevenue", FieldValue::Number("10")}};
  error = ExpectApiError(CreateOne("Opportunity", formula));
  EXPECT_EQ(error.error_code, "INVALID_FIELD_FOR_INSERT_UPDATE");
  EXPECT_EQ(error.fields, std::vector<std::string>{"ExpectedRevenue"});
}

TEST_F(ErrorsTest, StringTooLong) {
  ApiError error =
      ExpectApiError(CreateOne("Contact", StringFields({{"LastName", std::string(81, 'x')}})));
  EXPECT_EQ(error.error_code, "STRING_TOO_LONG");
  EXPECT_THAT(error.message, HasSubstr("data value too large"));
  EXPECT_THAT(error.message, HasSubstr("(max length=80)"));
  EXPECT_EQ(error.fields, std::vector<std::string>{"LastName"});
  // 80 characters, several bytes each, fit: the limit counts characters.
  std::string eighty;
  for (int i = 0; i < 80; ++i) eighty += "\xC3\xA9";  // é
  EXPECT_TRUE(CreateOne("Contact", StringFields({{"LastName", eighty}})).ok());
}

TEST_F(ErrorsTest, DuplicateValue) {
  Fields invoice = StringFields({{"External_Id__c", "DUP-0001"}});
  absl::StatusOr<std::vector<SaveResult>> first =
      client_->CreateRecords("Invoice__c", {invoice}, true);
  ASSERT_TRUE(first.ok() && first->at(0).success);
  absl::Status status = CreateOne("Invoice__c", invoice);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  ApiError error = ExpectApiError(status);
  EXPECT_EQ(error.error_code, "DUPLICATE_VALUE");
  EXPECT_EQ(
      error.message,
      core::StrCat("duplicate value found: External_Id__c duplicates value on record with id: ",
                   first->at(0).id));
  EXPECT_EQ(error.fields, std::vector<std::string>{"External_Id__c"});
}

TEST_F(ErrorsTest, FieldCustomValidationException) {
  ApiError error = ExpectApiError(
      CreateOne("Invoice__c",
                StringFields({{"Status__c", "Draft"}, {"Paid_At__c", "2024-01-15T10:00:00Z"}})));
  EXPECT_EQ(error.error_code, "FIELD_CUSTOM_VALIDATION_EXCEPTION");
  EXPECT_EQ(error.message, "Paid At can only be set on a paid invoice.");
  EXPECT_EQ(error.fields, std::vector<std::string>{"Paid_At__c"});
  EXPECT_TRUE(CreateOne("Invoice__c", StringFields({{"Status__c", "Paid"},
                                                    {"Paid_At__c", "2024-01-15T10:00:00Z"}}))
                  .ok());
}

TEST_F(ErrorsTest, InvalidOrNullForRestrictedPicklist) {
  ApiError error =
      ExpectApiError(CreateOne("Account", StringFields({{"Name", "P"}, {"Tier__c", "Platinum"}})));
  EXPECT_EQ(error.error_code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
  EXPECT_THAT(error.message, HasSubstr("bad value for restricted picklist field: Platinum"));
  EXPECT_EQ(error.fields, std::vector<std::string>{"Tier__c"});
}

TEST_F(ErrorsTest, InvalidCrossReferenceKeyAndMalformedIdInReferences) {
  // Well-formed Account id, but no such record.
  ApiError error = ExpectApiError(
      CreateOne("Contact", StringFields({{"LastName", "X"}, {"AccountId", "001000000000000"}})));
  EXPECT_EQ(error.error_code, "INVALID_CROSS_REFERENCE_KEY");
  EXPECT_EQ(error.fields, std::vector<std::string>{"AccountId"});

  // A deleted parent is no parent either.
  const std::string account = org_->AdminCreate("Account", R"({"Name":"Soon gone"})");
  ASSERT_TRUE(DeleteOne(account).ok());
  error = ExpectApiError(
      CreateOne("Contact", StringFields({{"LastName", "X"}, {"AccountId", account}})));
  EXPECT_EQ(error.error_code, "INVALID_CROSS_REFERENCE_KEY");

  error = ExpectApiError(
      CreateOne("Contact", StringFields({{"LastName", "X"}, {"AccountId", "not-an-id"}})));
  EXPECT_EQ(error.error_code, "MALFORMED_ID");
  EXPECT_EQ(error.fields, std::vector<std::string>{"AccountId"});
  // An id of another object in a reference field.
  absl::StatusOr<QueryPage> user = client_->Query("SELECT Id FROM User LIMIT 1");
  ASSERT_TRUE(user.ok());
  error = ExpectApiError(CreateOne(
      "Contact", StringFields({{"LastName", "X"}, {"AccountId", user->records.at(0).id}})));
  EXPECT_EQ(error.error_code, "MALFORMED_ID");
}

TEST_F(ErrorsTest, MalformedIdInUpdateAndDelete) {
  ApiError error =
      ExpectApiError(UpdateOne("Contact", StringFields({{"Id", "zzz"}, {"Title", "T"}})));
  EXPECT_EQ(error.error_code, "MALFORMED_ID");
  EXPECT_THAT(error.message, HasSubstr("malformed id zzz"));
  error = ExpectApiError(DeleteOne("0030000000000!!"));
  EXPECT_EQ(error.error_code, "MALFORMED_ID");
}

TEST_F(ErrorsTest, InsufficientAccessOrReadonly) {
  absl::StatusOr<QueryPage> user = client_->Query("SELECT Id FROM User LIMIT 1");
  ASSERT_TRUE(user.ok());
  absl::Status status = DeleteOne(user->records.at(0).id);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ExpectApiError(status).error_code, "INSUFFICIENT_ACCESS_OR_READONLY");
}

TEST_F(ErrorsTest, NotFoundAndEntityIsDeleted) {
  absl::StatusOr<SObjectDescribe> describe = client_->Describe("Nope__c");
  EXPECT_EQ(describe.status().code(), absl::StatusCode::kNotFound);
  ApiError error = ExpectApiError(describe.status());
  EXPECT_EQ(error.http_status, 404);
  EXPECT_EQ(error.error_code, "NOT_FOUND");

  absl::Status missing =
      UpdateOne("Contact", StringFields({{"Id", "003000000000000"}, {"Title", "T"}}));
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ExpectApiError(missing).error_code, "NOT_FOUND");

  const std::string account = org_->AdminCreate("Account", R"({"Name":"Deleted twice"})");
  ASSERT_TRUE(DeleteOne(account).ok());
  absl::Status again = DeleteOne(account);
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ExpectApiError(again).error_code, "ENTITY_IS_DELETED");
  absl::Status update = UpdateOne("Account", StringFields({{"Id", account}, {"Phone", "1"}}));
  EXPECT_EQ(ExpectApiError(update).error_code, "ENTITY_IS_DELETED");
}

TEST_F(ErrorsTest, MalformedQueryAndInvalidType) {
  for (const char* soql : {"SELEC Id FROM Contact", "SELECT Id FROM", "SELECT FROM Contact",
                           "SELECT Id FROM Contact WHERE", "SELECT Id FROM Contact LIMIT x",
                           "SELECT FIELDS(ALL) FROM Contact LIMIT 201"}) {
    absl::StatusOr<QueryPage> page = client_->Query(soql);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << soql;
    EXPECT_EQ(ExpectApiError(page.status()).error_code, "MALFORMED_QUERY") << soql;
  }
  absl::StatusOr<QueryPage> page = client_->Query("SELECT Id FROM Nope__c");
  ApiError error = ExpectApiError(page.status());
  EXPECT_EQ(error.error_code, "INVALID_TYPE");
  EXPECT_THAT(error.message, HasSubstr("sObject type 'Nope__c' is not supported"));
}

TEST_F(ErrorsTest, RequestLimitExceededIsNotRetried) {
  const int64_t used = org_->sim().limits().used();
  ASSERT_EQ(org_->Admin("POST", "limits", core::StrCat(R"({"max":)", used, "}")).status, 200);
  org_->ResetStats();
  absl::StatusOr<QueryPage> page = client_->Query("SELECT Id FROM Account LIMIT 1");
  org_->Admin("POST", "limits", R"({"max":100000})");
  EXPECT_EQ(page.status().code(), absl::StatusCode::kResourceExhausted);
  ApiError error = ExpectApiError(page.status());
  EXPECT_EQ(error.http_status, 403);
  EXPECT_EQ(error.error_code, "REQUEST_LIMIT_EXCEEDED");
  EXPECT_EQ(error.message, "TotalRequests Limit exceeded.");
  EXPECT_EQ(org_->sim().limits().used(), used);  // a refused call is not counted
  std::optional<LimitInfo> info = client_->last_limit_info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, used);
  EXPECT_EQ(info->max, used);
  EXPECT_TRUE(client_->Query("SELECT Id FROM Account LIMIT 1").ok());
}

// Swaps every bearer token for a revoked one: the org never sees a session it accepts, however
// often the client logs in again.
class StaleTokenTransport final : public HttpTransport {
 public:
  StaleTokenTransport(HttpTransport& inner, std::string stale) : inner_(inner), stale_(stale) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    HttpRequest copy = request;
    for (auto& [name, value] : copy.headers) {
      if (name == "Authorization") value = "Bearer " + stale_;
    }
    if (copy.url.ends_with("/services/oauth2/token")) ++logins;
    return inner_.Send(copy);
  }
  std::atomic<int> logins{0};

 private:
  HttpTransport& inner_;
  std::string stale_;
};

TEST_F(ErrorsTest, InvalidSessionIdAfterOneReauthentication) {
  const std::string stale = org_->FetchAccessToken();
  ASSERT_EQ(org_->Admin("POST", "revoke-tokens").status, 200);
  Reply raw = org_->Send("GET", SfsimOrg::DataPath() + "/limits", "",
                         {{"Authorization", "Bearer " + stale}});
  EXPECT_EQ(raw.status, 401);
  EXPECT_EQ(raw.body,
            R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");

  StaleTokenTransport transport(org_->transport(), stale);
  Client client(org_->TestClientOptions(org_->PasswordCredentials()), transport,
                core::SystemClock::Instance());
  absl::StatusOr<std::map<std::string, LimitValue>> limits = client.Limits();
  EXPECT_EQ(limits.status().code(), absl::StatusCode::kUnauthenticated);
  ApiError error = ExpectApiError(limits.status());
  EXPECT_EQ(error.http_status, 401);
  EXPECT_EQ(error.error_code, "INVALID_SESSION_ID");
  EXPECT_EQ(error.message, "Session expired or invalid");
  EXPECT_EQ(transport.logins.load(), 2);  // the first login and exactly one more
  EXPECT_THAT(std::string(limits.status().message()), ::testing::Not(HasSubstr(stale)));
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
