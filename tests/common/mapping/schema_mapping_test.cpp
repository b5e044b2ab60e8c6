#include "common/mapping/schema_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sfbridge::mapping {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

salesforce::FieldDescribe Field(std::string name, std::string type, int64_t length = 0,
                                int64_t precision = 0, int64_t scale = 0) {
  salesforce::FieldDescribe f;
  f.name = std::move(name);
  f.type = std::move(type);
  f.length = length;
  f.precision = precision;
  f.scale = scale;
  return f;
}

salesforce::SObjectDescribe Opportunity() {
  salesforce::SObjectDescribe d;
  d.name = "Opportunity";
  d.label = "Opportunity";
  d.label_plural = "Opportunities";
  d.key_prefix = "006";
  d.queryable = d.replicateable = d.createable = d.updateable = d.deletable = true;
  d.fields = {Field("Id", "id", 18), Field("Name", "string", 80),
              Field("Amount", "currency", 0, 18, 2)};
  return d;
}

salesforce::SObjectSummary Summary(std::string name, bool queryable = true,
                                   bool replicateable = true) {
  salesforce::SObjectSummary s;
  s.name = std::move(name);
  s.queryable = queryable;
  s.replicateable = replicateable;
  return s;
}

TEST(SchemaFingerprint, IsTheSha256OfTheFieldListAndStableAcrossRuns) {
  // Independently computed: printf 'Id\x1fid\x1f18\x1f0\x1f0\x1e...' | sha256sum.
  EXPECT_EQ(SchemaFingerprint(Opportunity()),
            "6187476d2c160c91b63841014b64f080cd9b0ebda8bb0bdf66189dde82f84c21");
}

TEST(SchemaFingerprint, ChangesWithWhatAColumnHoldsOnly) {
  const std::string base = SchemaFingerprint(Opportunity());

  auto relabelled = Opportunity();
  relabelled.fields[1].label = "Opportunity Name";
  relabelled.fields[1].nillable = true;
  EXPECT_EQ(SchemaFingerprint(relabelled), base);

  auto retyped = Opportunity();
  retyped.fields[2].type = "double";
  EXPECT_NE(SchemaFingerprint(retyped), base);

  auto rescaled = Opportunity();
  rescaled.fields[2].scale = 3;
  EXPECT_NE(SchemaFingerprint(rescaled), base);

  auto longer = Opportunity();
  longer.fields[1].length = 120;
  EXPECT_NE(SchemaFingerprint(longer), base);

  auto reordered = Opportunity();
  std::swap(reordered.fields[1], reordered.fields[2]);
  EXPECT_NE(SchemaFingerprint(reordered), base);

  auto added = Opportunity();
  added.fields.push_back(Field("StageName", "picklist", 40));
  EXPECT_NE(SchemaFingerprint(added), base);
}

TEST(ToObjectSchema, CopiesTheDescribe) {
  auto d = Opportunity();
  d.fields[1].nillable = false;
  d.fields[1].picklist_values = {{"A", "Alpha", true, false}};
  d.fields.push_back(Field("AccountId", "reference", 18));
  d.fields.back().reference_to = {"Account"};
  d.fields.back().relationship_name = "Account";
  const v1::ObjectSchema schema = ToObjectSchema("00D000000000001EAA", d, 1'705'314'030'000);
  EXPECT_EQ(schema.org_id(), "00D000000000001EAA");
  EXPECT_EQ(schema.name(), "Opportunity");
  EXPECT_EQ(schema.label_plural(), "Opportunities");
  EXPECT_EQ(schema.key_prefix(), "006");
  EXPECT_TRUE(schema.queryable());
  EXPECT_TRUE(schema.deletable());
  EXPECT_EQ(schema.described_at_ms(), 1'705'314'030'000);
  EXPECT_EQ(schema.version(), 0);
  EXPECT_EQ(schema.fingerprint(), SchemaFingerprint(d));
  ASSERT_EQ(schema.fields_size(), 4);
  EXPECT_EQ(schema.fields(2).name(), "Amount");
  EXPECT_EQ(schema.fields(2).type(), "currency");
  EXPECT_EQ(schema.fields(2).precision(), 18);
  EXPECT_EQ(schema.fields(2).scale(), 2);
  EXPECT_EQ(schema.fields(1).picklist_values(0).label(), "Alpha");
  EXPECT_THAT(schema.fields(3).reference_to(), ElementsAre("Account"));
  EXPECT_EQ(schema.fields(3).relationship_name(), "Account");
}

TEST(DefaultExclusion, FollowsTheDocumentedRule) {
  EXPECT_EQ(DefaultExclusion(Summary("Account")), std::nullopt);
  EXPECT_EQ(DefaultExclusion(Summary("Invoice__c")), std::nullopt);
  EXPECT_EQ(DefaultExclusion(Summary("Account", false)), "not queryable");
  EXPECT_EQ(DefaultExclusion(Summary("Account", true, false)), "not replicateable");
  auto hidden = Summary("Scontrol");
  hidden.deprecated_and_hidden = true;
  EXPECT_EQ(DefaultExclusion(hidden), "deprecated and hidden");
  for (const char* name :
       {"AccountHistory", "Invoice__History", "AccountShare", "Invoice__Share", "AccountFeed",
        "AccountChangeEvent", "Invoice__ChangeEvent", "Order_Event__e", "Log__b", "Ext__x",
        "Config__mdt", "Faq__kav", "ContentDocumentLink", "RecentlyViewed"}) {
    EXPECT_NE(DefaultExclusion(Summary(name)), std::nullopt) << name;
  }
}

TEST(SelectObjects, DefaultIsEveryObjectTheRuleLetsThroughInOrder) {
  const std::vector<salesforce::SObjectSummary> global = {
      Summary("Account"), Summary("AccountHistory"), Summary("Contact"), Summary("Invoice__c"),
      Summary("Audit__c", false)};
  auto selected = SelectObjects(global, std::nullopt);
  ASSERT_TRUE(selected.ok()) << selected.status();
  EXPECT_THAT(*selected, ElementsAre("Account", "Contact", "Invoice__c"));
}

TEST(SelectObjects, AnExplicitListIsTakenAsAskedWithSalesforcesSpelling) {
  const std::vector<salesforce::SObjectSummary> global = {
      Summary("Account"), Summary("AccountHistory"), Summary("Contact")};
  auto selected = SelectObjects(
      global, std::vector<std::string>{"contact", "AccountHistory", "Contact", "ACCOUNT"});
  ASSERT_TRUE(selected.ok()) << selected.status();
  EXPECT_THAT(*selected, ElementsAre("Contact", "AccountHistory", "Account"));
}

TEST(SelectObjects, UnknownAndUnqueryableNamesAreAllNamed) {
  const std::vector<salesforce::SObjectSummary> global = {Summary("Account"),
                                                          Summary("Audit__c", false)};
  auto selected = SelectObjects(
      global, std::vector<std::string>{"Account", "Invoice__c", "Audit__c", "Contcat"});
  ASSERT_FALSE(selected.ok());
  EXPECT_EQ(selected.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(selected.status().message());
  EXPECT_THAT(message, HasSubstr("not in the org: Invoice__c, Contcat"));
  EXPECT_THAT(message, HasSubstr("not queryable: Audit__c"));
}

TEST(MakeFieldPlan, FetchesEveryFieldButCompoundParentsAndBase64) {
  salesforce::SObjectDescribe d;
  d.name = "Account";
  d.fields = {Field("Id", "id", 18),
              Field("IsDeleted", "boolean"),
              Field("BillingAddress", "address"),
              Field("BillingCity", "string", 40),
              Field("Location__c", "location"),
              Field("Location__Latitude__s", "double", 0, 3, 15),
              Field("Logo__c", "base64"),
              Field("SystemModstamp", "datetime"),
              Field("Tags__c", "multipicklist"),
              Field("Anything", "anyType")};
  d.fields[3].compound_field_name = "BillingAddress";
  auto plan = MakeFieldPlan(d);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->object_name, "Account");
  EXPECT_EQ(plan->schema_fingerprint, SchemaFingerprint(d));
  EXPECT_THAT(plan->FieldNames(),
              ElementsAre("Id", "IsDeleted", "BillingCity", "Location__Latitude__s",
                          "SystemModstamp", "Tags__c", "Anything"));
  EXPECT_EQ(plan->fields[0].kind, ValueKind::kText);
  EXPECT_EQ(plan->fields[1].kind, ValueKind::kBoolean);
  EXPECT_EQ(plan->fields[3].kind, ValueKind::kNumber);
  EXPECT_EQ(plan->fields[4].kind, ValueKind::kDateTime);
  EXPECT_EQ(plan->fields[5].kind, ValueKind::kMulti);
  EXPECT_EQ(plan->fields[6].kind, ValueKind::kAny);
  EXPECT_EQ(plan->IndexOf("SystemModstamp"), 4);
  EXPECT_EQ(plan->modstamp_index, 4);
  EXPECT_EQ(plan->is_deleted_index, 1);
  EXPECT_EQ(plan->IndexOf("BillingAddress"), -1);
}

TEST(MakeFieldPlan, AnObjectWithoutSystemModstampCannotBeSynced) {
  salesforce::SObjectDescribe d;
  d.name = "LoginHistory";
  d.fields = {Field("Id", "id", 18), Field("LoginTime", "datetime")};
  auto plan = MakeFieldPlan(d);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("LoginHistory has no SystemModstamp"));
}

TEST(ValueKindOf, MapsEverySalesforceType) {
  for (const char* t : {"id", "reference", "string", "textarea", "picklist", "combobox", "email",
                        "phone", "url", "encryptedstring"}) {
    EXPECT_EQ(ValueKindOf(t), ValueKind::kText) << t;
  }
  for (const char* t : {"int", "long", "double", "currency", "percent"}) {
    EXPECT_EQ(ValueKindOf(t), ValueKind::kNumber) << t;
  }
  EXPECT_EQ(ValueKindOf("boolean"), ValueKind::kBoolean);
  EXPECT_EQ(ValueKindOf("date"), ValueKind::kDate);
  EXPECT_EQ(ValueKindOf("datetime"), ValueKind::kDateTime);
  EXPECT_EQ(ValueKindOf("time"), ValueKind::kTime);
  EXPECT_EQ(ValueKindOf("multipicklist"), ValueKind::kMulti);
  EXPECT_EQ(ValueKindOf("anyType"), ValueKind::kAny);
  EXPECT_EQ(ValueKindOf("complexvalue"), ValueKind::kAny);
}

}  // namespace
}  // namespace sfbridge::mapping
