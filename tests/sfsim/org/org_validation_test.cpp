// Every error an API write can get, with Salesforce's code, message, fields and http status.

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sfsim/org/org.h"
#include "tests/sfsim/org/org_test_util.h"

namespace sfbridge::sfsim::org::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class OrgValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = MakeOrg(clock_, {{"Account", 5}, {"Contact", 5}, {"Invoice__c", 3}});
    account_id_ = MustQuery(*org_, "SELECT Id FROM Account LIMIT 1").records.at(0)->id;
  }

  // The one error of a failed save.
  static ApiError ErrorOf(const SaveResult& result) {
    EXPECT_FALSE(result.success);
    EXPECT_EQ(result.errors.size(), 1u);
    return result.errors.empty() ? ApiError{} : result.errors.front();
  }

  ApiError CreateError(const std::string& object, const InputRecord& fields) {
    return ErrorOf(org_->Create(object, fields));
  }

  std::string MustCreate(const std::string& object, const InputRecord& fields) {
    SaveResult result = org_->Create(object, fields);
    EXPECT_TRUE(result.success) << (result.errors.empty() ? "" : result.errors[0].message);
    return result.id;
  }

  sfbridge::testing::FakeClock clock_;
  std::unique_ptr<Org> org_;
  std::string account_id_;
};

TEST_F(OrgValidationTest, MissingRequiredField) {
  const ApiError error = CreateError("Contact", {{"FirstName", Str("Ann")}});
  EXPECT_EQ(error.code, "REQUIRED_FIELD_MISSING");
  EXPECT_EQ(error.message, "Required fields are missing: [LastName]");
  EXPECT_THAT(error.fields, ElementsAre("LastName"));
  EXPECT_EQ(error.http_status, 400);

  const ApiError opportunity = CreateError("Opportunity", {{"Amount", Num("10")}});
  EXPECT_EQ(opportunity.message, "Required fields are missing: [Name, StageName, CloseDate]");
  EXPECT_THAT(opportunity.fields, ElementsAre("Name", "StageName", "CloseDate"));

  const ApiError null_on_update = ErrorOf(org_->Update("Account", account_id_, {{"Name", Null()}}));
  EXPECT_EQ(null_on_update.code, "REQUIRED_FIELD_MISSING");
  EXPECT_THAT(null_on_update.fields, ElementsAre("Name"));
}

TEST_F(OrgValidationTest, UnknownFieldAndIdInInsert) {
  const ApiError unknown = CreateError("Contact", {{"LastName", Str("X")}, {"Foo", Str("1")}});
  EXPECT_EQ(unknown.code, "INVALID_FIELD");
  EXPECT_EQ(unknown.message, "No such column 'Foo' on sobject of type Contact");
  EXPECT_EQ(unknown.http_status, 400);

  const ApiError id = CreateError("Account", {{"Id", Str(account_id_)}, {"Name", Str("X")}});
  EXPECT_EQ(id.code, "INVALID_FIELD");
  EXPECT_THAT(id.message, HasSubstr("cannot specify Id in an insert call"));
}

TEST_F(OrgValidationTest, ReadOnlyFields) {
  const ApiError error = CreateError("Opportunity", {{"Name", Str("O")},
                                                     {"StageName", Str("Prospecting")},
                                                     {"CloseDate", Str("2024-01-15")},
                                                     {"ExpectedRevenue", Num("5")}});
  EXPECT_EQ(error.code, "INVALID_FIELD_FOR_INSERT_UPDATE");
  EXPECT_EQ(error.message,
            "Unable to create/update fields: ExpectedRevenue. Please check the security settings "
            "of this field and verify that it is read/write for your profile or permission set.");
  EXPECT_THAT(error.fields, ElementsAre("ExpectedRevenue"));

  const ApiError system = ErrorOf(org_->Update("Account", account_id_,
                                               {{"SystemModstamp", Str("2024-01-15T10:20:30.000Z")},
                                                {"CreatedDate", Str("2024-01-15T10:20:30Z")}}));
  EXPECT_THAT(system.fields, ElementsAre("SystemModstamp", "CreatedDate"));
}

TEST_F(OrgValidationTest, StringTooLongCountsCharacters) {
  const ApiError error = CreateError("Contact", {{"LastName", Str(std::string(81, 'x'))}});
  EXPECT_EQ(error.code, "STRING_TOO_LONG");
  EXPECT_EQ(error.message,
            "Last Name: data value too large: " + std::string(81, 'x') + " (max length=80)");
  EXPECT_THAT(error.fields, ElementsAre("LastName"));

  std::string accents;
  for (int i = 0; i < 80; ++i) accents += "é";  // 160 bytes, 80 characters
  MustCreate("Contact", {{"LastName", Str(accents)}});
}

TEST_F(OrgValidationTest, RestrictedPicklists) {
  const ApiError stage = CreateError(
      "Opportunity",
      {{"Name", Str("O")}, {"StageName", Str("Foo")}, {"CloseDate", Str("2024-01-15")}});
  EXPECT_EQ(stage.code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
  EXPECT_EQ(stage.message, "Stage: bad value for restricted picklist field: Foo");
  EXPECT_THAT(stage.fields, ElementsAre("StageName"));

  const std::string invoice = MustCreate("Invoice__c", {});
  const ApiError services = CreateError(
      "Shipment__c",
      {{"Name", Str("S")}, {"Invoice__c", Str(invoice)}, {"Services__c", Str("Express;Teleport")}});
  EXPECT_EQ(services.code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
  EXPECT_THAT(services.message, HasSubstr("bad value for restricted picklist field: Teleport"));
  // An unrestricted picklist takes any value.
  MustCreate("Account", {{"Name", Str("A")}, {"Industry", Str("Space Mining")}});
}

TEST_F(OrgValidationTest, DuplicateUniqueValueIgnoresCase) {
  const std::string first = MustCreate("Invoice__c", {{"External_Id__c", Str("X-1")}});
  const ApiError error = CreateError("Invoice__c", {{"External_Id__c", Str("x-1")}});
  EXPECT_EQ(error.code, "DUPLICATE_VALUE");
  EXPECT_EQ(error.message,
            "duplicate value found: External_Id__c duplicates value on record with id: " + first);
  EXPECT_THAT(error.fields, ElementsAre("External_Id__c"));
  // Its own value again is no duplicate; a deleted record frees the value.
  EXPECT_TRUE(org_->Update("Invoice__c", first, {{"External_Id__c", Str("X-1")}}).success);
  EXPECT_TRUE(org_->Delete(first).success);
  MustCreate("Invoice__c", {{"External_Id__c", Str("X-1")}});
}

TEST_F(OrgValidationTest, CustomValidationRule) {
  const ApiError error = CreateError("Opportunity", {{"Name", Str("O")},
                                                     {"StageName", Str("Prospecting")},
                                                     {"CloseDate", Str("2024-01-15")},
                                                     {"Amount", Num("-5")}});
  EXPECT_EQ(error.code, "FIELD_CUSTOM_VALIDATION_EXCEPTION");
  EXPECT_EQ(error.message, "Amount must not be negative.");
  EXPECT_THAT(error.fields, ElementsAre("Amount"));

  const std::string invoice = MustCreate("Invoice__c", {{"Status__c", Str("Sent")}});
  const ApiError paid =
      ErrorOf(org_->Update("Invoice__c", invoice, {{"Paid_At__c", Str("2024-01-15T10:20:30Z")}}));
  EXPECT_EQ(paid.code, "FIELD_CUSTOM_VALIDATION_EXCEPTION");
  EXPECT_THAT(paid.fields, ElementsAre("Paid_At__c"));
  EXPECT_TRUE(
      org_->Update("Invoice__c", invoice,
                   {{"Status__c", Str("Paid")}, {"Paid_At__c", Str("2024-01-15T10:20:30Z")}})
          .success);
}

TEST_F(OrgValidationTest, BadReferences) {
  const ApiError malformed =
      CreateError("Contact", {{"LastName", Str("X")}, {"AccountId", Str("xyz")}});
  EXPECT_EQ(malformed.code, "MALFORMED_ID");
  EXPECT_EQ(malformed.message, "Account ID: id value of incorrect type: xyz");
  EXPECT_THAT(malformed.fields, ElementsAre("AccountId"));

  const std::string contact = MustQuery(*org_, "SELECT Id FROM Contact LIMIT 1").records[0]->id;
  EXPECT_EQ(CreateError("Contact", {{"LastName", Str("X")}, {"AccountId", Str(contact)}}).code,
            "MALFORMED_ID");

  std::string missing = account_id_;
  missing[14] = missing[14] == 'z' ? 'y' : 'z';  // a well-formed id of no record
  const ApiError cross =
      CreateError("Contact", {{"LastName", Str("X")}, {"AccountId", Str(missing.substr(0, 15))}});
  EXPECT_EQ(cross.code, "INVALID_CROSS_REFERENCE_KEY");
  EXPECT_THAT(cross.fields, ElementsAre("AccountId"));

  // A 15-char id is accepted and stored in its 18-char form.
  const std::string created = MustCreate(
      "Contact", {{"LastName", Str("X")}, {"AccountId", Str(account_id_.substr(0, 15))}});
  EXPECT_EQ(ValueOf(*org_, org_->Get(created), "AccountId"), account_id_);
}

TEST_F(OrgValidationTest, WrongJsonTypes) {
  struct Case {
    std::string field;
    InputValue value;
  };
  for (const Case& c :
       {Case{"Birthdate", Num("5")}, Case{"DoNotCall", Str("yes")},
        Case{"Birthdate", Str("2024-13-45")}, Case{"HasOptedOutOfEmail", Num("1")}}) {
    const ApiError error = CreateError("Contact", {{"LastName", Str("X")}, {c.field, c.value}});
    EXPECT_EQ(error.code, "JSON_PARSER_ERROR") << c.field;
    EXPECT_THAT(error.message, StartsWith("Cannot deserialize instance of ")) << c.field;
    EXPECT_EQ(error.http_status, 400);
  }
  const ApiError amount = CreateError("Opportunity", {{"Name", Str("O")},
                                                      {"StageName", Str("Prospecting")},
                                                      {"CloseDate", Str("2024-01-15")},
                                                      {"Amount", Str("12")}});
  EXPECT_EQ(amount.code, "JSON_PARSER_ERROR");
  EXPECT_EQ(amount.message,
            "Cannot deserialize instance of double from VALUE_STRING value 12 or request may be "
            "missing a required field");
  EXPECT_EQ(CreateError("Account", {{"Name", Str("A")}, {"NumberOfEmployees", Num("1.5")}}).code,
            "JSON_PARSER_ERROR");
}

TEST_F(OrgValidationTest, NumbersKeepTheirTextWithinScale) {
  auto amount_of = [&](const std::string& text) {
    const SaveResult result = org_->Create("Opportunity", {{"Name", Str("O")},
                                                           {"StageName", Str("Prospecting")},
                                                           {"CloseDate", Str("2024-01-15")},
                                                           {"Amount", Num(text)}});
    EXPECT_TRUE(result.success) << text;
    return result.success ? ValueOf(*org_, org_->Get(result.id), "Amount") : "";
  };
  EXPECT_EQ(amount_of("1234.5"), "1234.5");
  EXPECT_EQ(amount_of("1234.50"), "1234.50");
  EXPECT_EQ(amount_of("1.239"), "1.24");
  EXPECT_EQ(amount_of("9.995"), "10.00");
  EXPECT_EQ(amount_of("1e3"), "1000.00");

  const ApiError range = CreateError("Opportunity", {{"Name", Str("O")},
                                                     {"StageName", Str("Prospecting")},
                                                     {"CloseDate", Str("2024-01-15")},
                                                     {"Amount", Num("12345678901234567")}});
  EXPECT_EQ(range.code, "NUMBER_OUTSIDE_VALID_RANGE");
  EXPECT_THAT(range.fields, ElementsAre("Amount"));
}

TEST_F(OrgValidationTest, DatesTimesAndNulls) {
  const std::string invoice =
      MustCreate("Invoice__c", {{"Status__c", Str("Paid")},
                                {"Due_Date__c", Str("2024-01-15")},
                                {"Paid_At__c", Str("2024-01-15T10:20:30.000+0000")}});
  RecordPtr record = org_->Get(invoice);
  EXPECT_EQ(ValueOf(*org_, record, "Due_Date__c"), "2024-01-15");
  EXPECT_EQ(ValueOf(*org_, record, "Paid_At__c"), "2024-01-15T10:20:30.000+0000");
  EXPECT_TRUE(
      org_->Update("Invoice__c", invoice, {{"Paid_At__c", Str("2024-01-15T12:00:00Z")}}).success);
  EXPECT_EQ(ValueOf(*org_, org_->Get(invoice), "Paid_At__c"), "2024-01-15T12:00:00.000+0000");

  const std::string shipment = MustCreate("Shipment__c", {{"Name", Str("S")},
                                                          {"Invoice__c", Str(invoice)},
                                                          {"Pickup_Time__c", Str("10:20:30.000Z")},
                                                          {"Insured__c", Bool(true)},
                                                          {"Weight_Kg__c", Num("12.5")},
                                                          {"Progress__c", Num("50")}});
  record = org_->Get(shipment);
  EXPECT_EQ(ValueOf(*org_, record, "Pickup_Time__c"), "10:20:30.000Z");
  EXPECT_EQ(ValueOf(*org_, record, "Insured__c"), "true");
  EXPECT_EQ(ValueOf(*org_, record, "Weight_Kg__c"), "12.5");

  // null clears a nillable field; a boolean goes back to its default.
  EXPECT_TRUE(
      org_->Update("Shipment__c", shipment, {{"Pickup_Time__c", Null()}, {"Insured__c", Null()}})
          .success);
  record = org_->Get(shipment);
  EXPECT_EQ(ValueOf(*org_, record, "Pickup_Time__c"), "null");
  EXPECT_EQ(ValueOf(*org_, record, "Insured__c"), "false");
}

TEST_F(OrgValidationTest, InvalidEmail) {
  const ApiError error =
      CreateError("Contact", {{"LastName", Str("X")}, {"Email", Str("not an email")}});
  EXPECT_EQ(error.code, "INVALID_EMAIL_ADDRESS");
  EXPECT_THAT(error.fields, ElementsAre("Email"));
}

TEST_F(OrgValidationTest, DefaultsAndSystemFields) {
  const std::string lead = MustCreate("Lead", {{"LastName", Str("L")}, {"Company", Str("C")}});
  RecordPtr record = org_->Get(lead);
  EXPECT_EQ(lead.substr(0, 3), "00Q");
  EXPECT_EQ(ValueOf(*org_, record, "Status"), "Open - Not Contacted");
  EXPECT_EQ(ValueOf(*org_, record, "Name"), "L");
  EXPECT_EQ(ValueOf(*org_, record, "IsDeleted"), "false");
  const std::string owner = ValueOf(*org_, record, "OwnerId");
  EXPECT_EQ(owner.substr(0, 3), "005");
  EXPECT_EQ(ValueOf(*org_, record, "CreatedById"), owner);
  EXPECT_EQ(ValueOf(*org_, record, "CreatedDate"), ValueOf(*org_, record, "SystemModstamp"));
  EXPECT_EQ(record->system_modstamp_ms, core::ToUnixMillis(clock_.Now()));

  const std::string invoice = MustCreate("Invoice__c", {});
  record = org_->Get(invoice);
  EXPECT_EQ(ValueOf(*org_, record, "Status__c"), "Draft");
  EXPECT_EQ(ValueOf(*org_, record, "Name"), "INV-000004");  // after 3 generated
}

TEST_F(OrgValidationTest, MissingDeletedAndMalformedTargets) {
  EXPECT_EQ(ErrorOf(org_->Update("Contact", "003xyz", {})).code, "MALFORMED_ID");
  std::string missing = account_id_;
  missing[14] = missing[14] == 'z' ? 'y' : 'z';
  const ApiError not_found = ErrorOf(org_->Update("Account", missing.substr(0, 15), {}));
  EXPECT_EQ(not_found.code, "NOT_FOUND");
  EXPECT_EQ(not_found.http_status, 404);
  ASSERT_TRUE(org_->Delete(account_id_).success);
  const ApiError deleted = ErrorOf(org_->Update("Account", account_id_, {{"Name", Str("N")}}));
  EXPECT_EQ(deleted.code, "ENTITY_IS_DELETED");
  EXPECT_EQ(deleted.http_status, 404);
  EXPECT_EQ(ErrorOf(org_->Delete(account_id_)).code, "ENTITY_IS_DELETED");
  EXPECT_EQ(CreateError("Foo__c", {}).http_status, 404);
  // Users cannot be deleted.
  const std::string user = MustQuery(*org_, "SELECT Id FROM User LIMIT 1").records[0]->id;
  EXPECT_EQ(ErrorOf(org_->Delete(user)).code, "INSUFFICIENT_ACCESS_OR_READONLY");
}

}  // namespace
}  // namespace sfbridge::sfsim::org::testing
