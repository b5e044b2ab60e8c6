// The client's writes against sfsim: sObject Collections (allOrNone true and false), retrieve,
// Composite with references and rollback, exact decimals, and the single-record routes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::HasSubstr;

class WritesTest : public SmallOrgTest {
 protected:
  // The records of `soql` (one page).
  std::vector<Record> Rows(const std::string& soql) {
    absl::StatusOr<QueryPage> page = client_->Query(soql);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->records : std::vector<Record>{};
  }
  int64_t Count(const std::string& soql) {
    absl::StatusOr<QueryPage> page = client_->Query(soql);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->total_size : -1;
  }
};

TEST_F(WritesTest, CreateUpdateRetrieveDeleteThroughCollections) {
  absl::StatusOr<std::vector<SaveResult>> created = client_->CreateRecords(
      "Contact",
      {StringFields({{"LastName", "Lovelace"}, {"FirstName", "Ada"}}),
       StringFields({{"LastName", "Hopper"}, {"FirstName", "Grace"}, {"Email", "grace@navy.mil"}})},
      /*all_or_none=*/true);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(created->size(), 2u);
  for (const SaveResult& r : *created) {
    EXPECT_TRUE(r.success);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_TRUE(r.id.starts_with("003")) << r.id;
    EXPECT_EQ(r.id.size(), 18u);
  }
  const std::string ada = (*created)[0].id, grace = (*created)[1].id;

  Fields update = StringFields({{"Id", ada}, {"Title", "Analyst"}});
  absl::StatusOr<std::vector<SaveResult>> updated =
      client_->UpdateRecords("Contact", {update}, true);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_TRUE((*updated)[0].success);

  absl::StatusOr<std::vector<std::optional<Record>>> retrieved = client_->RetrieveRecords(
      "Contact", {ada, grace, "003000000000000AAA"}, {"Id", "Name", "Title", "Email"});
  ASSERT_TRUE(retrieved.ok()) << retrieved.status();
  ASSERT_EQ(retrieved->size(), 3u);
  ASSERT_TRUE((*retrieved)[0].has_value());
  EXPECT_EQ(FieldText(*(*retrieved)[0], "Name"), "Ada Lovelace");  // the org's formula
  EXPECT_EQ(FieldText(*(*retrieved)[0], "Title"), "Analyst");
  EXPECT_EQ((*retrieved)[0]->Find("Email")->kind, FieldValue::Kind::kNull);
  ASSERT_TRUE((*retrieved)[1].has_value());
  EXPECT_EQ(FieldText(*(*retrieved)[1], "Email"), "grace@navy.mil");
  EXPECT_FALSE((*retrieved)[2].has_value());

  absl::StatusOr<std::vector<SaveResult>> deleted = client_->DeleteRecords({ada, grace}, true);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE((*deleted)[0].success && (*deleted)[1].success);
  EXPECT_EQ(Count(core::StrCat("SELECT Id FROM Contact WHERE Id IN ('", ada, "','", grace, "')")),
            0);
}

TEST_F(WritesTest, AllOrNoneRollsBackEveryRecordOfACollection) {
  const int64_t before = org_->Digest("Contact").size();
  absl::StatusOr<std::vector<SaveResult>> results = client_->CreateRecords(
      "Contact",
      {StringFields({{"LastName", "Kept?"}}), StringFields({{"FirstName", "NoLastName"}}),
       StringFields({{"LastName", "Also kept?"}})},
      /*all_or_none=*/true);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_FALSE((*results)[1].success);
  ASSERT_FALSE((*results)[1].errors.empty());
  EXPECT_EQ((*results)[1].errors[0].status_code, "REQUIRED_FIELD_MISSING");
  EXPECT_EQ((*results)[1].errors[0].fields, std::vector<std::string>{"LastName"});
  for (int i : {0, 2}) {
    EXPECT_FALSE((*results)[i].success);
    ASSERT_FALSE((*results)[i].errors.empty());
    EXPECT_EQ((*results)[i].errors[0].status_code, "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  }
  EXPECT_EQ(org_->Digest("Contact").size(), before);
  EXPECT_EQ(Count("SELECT Id FROM Contact WHERE LastName IN ('Kept?', 'Also kept?')"), 0);

  // SaveResultStatus turns a refused record into an ApiError.
  ApiError error = ExpectApiError(SaveResultStatus((*results)[1]));
  EXPECT_EQ(error.error_code, "REQUIRED_FIELD_MISSING");
}

TEST_F(WritesTest, PartialSuccessKeepsTheGoodRecords) {
  absl::StatusOr<std::vector<SaveResult>> results = client_->CreateRecords(
      "Contact",
      {StringFields({{"LastName", "Partial One"}}), StringFields({{"FirstName", "Nobody"}}),
       StringFields({{"LastName", "Partial Two"}})},
      /*all_or_none=*/false);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_TRUE((*results)[0].success);
  EXPECT_FALSE((*results)[1].success);
  EXPECT_TRUE((*results)[1].id.empty());
  EXPECT_TRUE((*results)[2].success);
  EXPECT_EQ(Count("SELECT Id FROM Contact WHERE LastName IN ('Partial One', 'Partial Two')"), 2);

  // Updates and deletes alone too: one good, one missing.
  absl::StatusOr<std::vector<SaveResult>> updates =
      client_->UpdateRecords("Contact",
                             {StringFields({{"Id", (*results)[0].id}, {"Title", "Boss"}}),
                              StringFields({{"Id", "003000000000000AAA"}, {"Title", "Ghost"}})},
                             false);
  ASSERT_TRUE(updates.ok()) << updates.status();
  EXPECT_TRUE((*updates)[0].success);
  EXPECT_FALSE((*updates)[1].success);
  EXPECT_EQ((*updates)[1].errors.at(0).status_code, "NOT_FOUND");

  absl::StatusOr<std::vector<SaveResult>> deletes =
      client_->DeleteRecords({(*results)[2].id, "003000000000000AAA"}, false);
  ASSERT_TRUE(deletes.ok()) << deletes.status();
  EXPECT_TRUE((*deletes)[0].success);
  EXPECT_FALSE((*deletes)[1].success);

  // With allOrNone the good delete is rolled back.
  absl::StatusOr<std::vector<SaveResult>> all =
      client_->DeleteRecords({(*results)[0].id, "003000000000000AAA"}, true);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_FALSE((*all)[0].success);
  EXPECT_EQ((*all)[0].errors.at(0).status_code, "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  EXPECT_EQ(Count(core::StrCat("SELECT Id FROM Contact WHERE Id = '", (*results)[0].id, "'")), 1);
}

TEST_F(WritesTest, CollectionOfMoreThan200IsRefusedBeforeSending) {
  org_->ResetStats();
  std::vector<Fields> records(201, StringFields({{"LastName", "Too many"}}));
  absl::StatusOr<std::vector<SaveResult>> results =
      client_->CreateRecords("Contact", records, true);
  EXPECT_EQ(results.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(org_->CallCount("collections_create"), 0);
}

TEST_F(WritesTest, CompositeResolvesReferencesInOneApiCall) {
  org_->ResetStats();
  std::vector<CompositeSubrequest> subrequests = {
      {"POST", "/sobjects/Account", "acct", R"({"Name":"Composite Parent"})"},
      {"POST", "/sobjects/Contact", "ct",
       R"({"LastName":"Composite Child","AccountId":"@{acct.id}"})"},
      {"GET", "/sobjects/Contact/@{ct.id}?fields=Id,AccountId,Name", "read", ""},
  };
  absl::StatusOr<std::vector<CompositeSubresponse>> results = client_->Composite(subrequests, true);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ((*results)[0].http_status, 201);
  EXPECT_EQ((*results)[0].reference_id, "acct");
  EXPECT_EQ((*results)[1].http_status, 201);
  EXPECT_EQ((*results)[2].http_status, 200);
  EXPECT_EQ(org_->CallCount("composite"), 1);
  EXPECT_EQ(org_->CallCount("sobject_create"), 0);

  simdjson::dom::parser parser;
  std::string_view account_id, contact_id, read_account;
  ASSERT_EQ(ParseJson(parser, (*results)[0].body)["id"].get_string().get(account_id), 0);
  std::string account(account_id);
  ASSERT_EQ(ParseJson(parser, (*results)[1].body)["id"].get_string().get(contact_id), 0);
  std::string contact(contact_id);
  ASSERT_EQ(ParseJson(parser, (*results)[2].body)["AccountId"].get_string().get(read_account), 0);
  EXPECT_EQ(read_account, account);

  std::vector<Record> rows =
      Rows(core::StrCat("SELECT Id, AccountId FROM Contact WHERE Id = '", contact, "'"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(FieldText(rows[0], "AccountId"), account);
}

TEST_F(WritesTest, CompositeAllOrNoneLeavesNothingBehind) {
  std::vector<CompositeSubrequest> subrequests = {
      {"POST", "/sobjects/Account", "acct", R"({"Name":"Rolled Back Parent"})"},
      {"PATCH", "/sobjects/Account/@{acct.id}", "upd", R"({"Phone":"555-0100"})"},
      {"POST", "/sobjects/Contact", "bad",
       R"({"FirstName":"No last name","AccountId":"@{acct.id}"})"},
      {"POST", "/sobjects/Contact", "never", R"({"LastName":"Never"})"},
  };
  absl::StatusOr<std::vector<CompositeSubresponse>> results = client_->Composite(subrequests, true);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ((*results)[2].http_status, 400);
  EXPECT_THAT((*results)[2].body, HasSubstr("REQUIRED_FIELD_MISSING"));
  for (int i : {0, 1, 3}) {
    EXPECT_EQ((*results)[i].http_status, 400) << i;
    EXPECT_THAT((*results)[i].body, HasSubstr("PROCESSING_HALTED")) << i;
  }
  EXPECT_EQ(Count("SELECT Id FROM Account WHERE Name = 'Rolled Back Parent'"), 0);
  EXPECT_EQ(Count("SELECT Id FROM Contact WHERE LastName = 'Never'"), 0);
  absl::StatusOr<QueryPage> recycled =
      client_->QueryAll("SELECT Id FROM Account WHERE Name = 'Rolled Back Parent'");
  ASSERT_TRUE(recycled.ok());
  EXPECT_EQ(recycled->total_size, 0);

  // Without allOrNone the successful subrequests stay.
  subrequests[0].body = R"({"Name":"Kept Parent"})";
  results = client_->Composite(subrequests, false);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ((*results)[0].http_status, 201);
  EXPECT_EQ((*results)[1].http_status, 204);
  EXPECT_EQ((*results)[2].http_status, 400);
  EXPECT_EQ((*results)[3].http_status, 201);
  std::vector<Record> kept = Rows("SELECT Id, Phone FROM Account WHERE Name = 'Kept Parent'");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(FieldText(kept[0], "Phone"), "555-0100");
}

TEST_F(WritesTest, CurrencyRoundTripsExactly) {
  Fields invoice = {{"Amount__c", FieldValue::Number("12345678901234.56")},
                    {"External_Id__c", FieldValue::String("INV-EXACT-1")},
                    {"Discount__c", FieldValue::Number("12.25")}};
  absl::StatusOr<std::vector<SaveResult>> created =
      client_->CreateRecords("Invoice__c", {invoice}, true);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE((*created)[0].success) << SaveResultStatus((*created)[0]);
  std::vector<Record> rows = Rows(core::StrCat(
      "SELECT Id, Name, Amount__c, Discount__c, Status__c FROM Invoice__c WHERE Id = '",
      (*created)[0].id, "'"));
  ASSERT_EQ(rows.size(), 1u);
  const FieldValue* amount = rows[0].Find("Amount__c");
  ASSERT_NE(amount, nullptr);
  EXPECT_EQ(amount->kind, FieldValue::Kind::kNumber);
  EXPECT_EQ(amount->text, "12345678901234.56");
  EXPECT_EQ(FieldText(rows[0], "Discount__c"), "12.25");
  EXPECT_EQ(FieldText(rows[0], "Status__c"), "Draft");  // the picklist's default
  EXPECT_FALSE(FieldText(rows[0], "Name").empty());     // auto-number
}

TEST_F(WritesTest, SingleRecordRoutesAndUpsert) {
  Reply created = org_->Data("POST", "/sobjects/Account", R"({"Name":"Single Co"})");
  ASSERT_EQ(created.status, 201) << created.body;
  simdjson::dom::parser parser;
  std::string_view id_view;
  ASSERT_EQ(ParseJson(parser, created.body)["id"].get_string().get(id_view), 0);
  const std::string id(id_view);
  EXPECT_THAT(created.body, HasSubstr(R"("success":true)"));

  Reply read = org_->Data("GET", core::StrCat("/sobjects/Account/", id, "?fields=Name,Phone"));
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_THAT(read.body, HasSubstr(R"("Name":"Single Co")"));

  Reply patched = org_->Data("PATCH", "/sobjects/Account/" + id, R"({"Phone":"555-0199"})");
  EXPECT_EQ(patched.status, 204) << patched.body;
  EXPECT_TRUE(patched.body.empty());
  std::vector<Record> rows = Rows(core::StrCat("SELECT Phone FROM Account WHERE Id = '", id, "'"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(FieldText(rows[0], "Phone"), "555-0199");

  // Upsert by external id: created, then updated.
  Reply upsert1 =
      org_->Data("PATCH", "/sobjects/Contact/Legacy_Id__c/LEG-0001", R"({"LastName":"Upserted"})");
  EXPECT_EQ(upsert1.status, 201) << upsert1.body;
  EXPECT_THAT(upsert1.body, HasSubstr(R"("created":true)"));
  Reply upsert2 =
      org_->Data("PATCH", "/sobjects/Contact/Legacy_Id__c/LEG-0001", R"({"Title":"Again"})");
  EXPECT_EQ(upsert2.status, 200) << upsert2.body;
  EXPECT_THAT(upsert2.body, HasSubstr(R"("created":false)"));
  rows = Rows("SELECT LastName, Title FROM Contact WHERE Legacy_Id__c = 'LEG-0001'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(FieldText(rows[0], "Title"), "Again");

  Reply deleted = org_->Data("DELETE", "/sobjects/Account/" + id);
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  Reply gone = org_->Data("GET", "/sobjects/Account/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_THAT(gone.body, HasSubstr("ENTITY_IS_DELETED"));
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
