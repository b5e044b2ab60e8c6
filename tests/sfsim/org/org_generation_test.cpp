// The org's catalog, ids and generated data.

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sfsim/org/org.h"
#include "sfsim/org/record_ids.h"
#include "sfsim/soql/record_id.h"
#include "tests/sfsim/org/org_test_util.h"

namespace sfbridge::sfsim::org::testing {
namespace {

const std::map<std::string, int64_t> kCounts = {
    {"User", 5},  {"Account", 60},     {"Product2", 10},   {"Contact", 300},
    {"Lead", 50}, {"Opportunity", 80}, {"Invoice__c", 70}, {"Shipment__c", 90}};

// Every value of every record, live and deleted, as text.
std::string Dump(const Org& org) {
  std::string dump;
  for (const ObjectDef& object : org.objects()) {
    const QueryResult all = MustQuery(org, "SELECT Id FROM " + object.name + " ORDER BY Id", true);
    for (const RecordPtr& record : all.records) {
      for (const soql::Value& value : record->values) dump += value.ToString() + "|";
      dump += std::to_string(record->system_modstamp_ms) + "\n";
    }
  }
  return dump;
}

TEST(RecordIdTest, ChecksumVectors) {
  EXPECT_EQ(soql::CanonicalId("001D000000IqhSL"), "001D000000IqhSLIAZ");
  EXPECT_EQ(soql::CanonicalId("00558000001N0Ke"), "00558000001N0KeAAK");
  const std::string id = MakeRecordId("003", "5g", 62 * 62 + 5);
  EXPECT_EQ(id.size(), 18u);
  EXPECT_EQ(id.substr(0, 15), "0035g0000000105");
  EXPECT_EQ(soql::CanonicalId(id.substr(0, 15)), id);
  // Ids of one object sort in creation order.
  EXPECT_LT(MakeRecordId("003", "5g", 61), MakeRecordId("003", "5g", 62));
  EXPECT_LT(MakeRecordId("003", "5g", 9), MakeRecordId("003", "5g", 10));
}

TEST(OrgCatalogTest, ObjectsAndDescribeFlags) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, {});
  const std::map<std::string, std::string> prefixes = {
      {"Account", "001"}, {"Contact", "003"},  {"Lead", "00Q"},       {"Opportunity", "006"},
      {"User", "005"},    {"Product2", "01t"}, {"Invoice__c", "a00"}, {"Shipment__c", "a01"}};
  for (const auto& [name, prefix] : prefixes) {
    const ObjectDef* object = org->FindObject(name);
    ASSERT_NE(object, nullptr) << name;
    EXPECT_EQ(object->key_prefix, prefix);
    EXPECT_EQ(object->custom, name.ends_with("__c"));
    ASSERT_FALSE(object->fields.empty());
    const FieldDef& id = object->fields[0];
    EXPECT_EQ(id.name, "Id");
    EXPECT_FALSE(id.createable || id.updateable || id.nillable);
    std::set<std::string> names;
    for (const FieldDef& field : object->fields) {
      EXPECT_TRUE(names.insert(field.name).second) << name << "." << field.name;
      if (field.name == "SystemModstamp" || field.name == "CreatedDate" ||
          field.name == "IsDeleted") {
        EXPECT_FALSE(field.createable || field.updateable) << field.name;
      }
    }
    for (const char* system : {"IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                               "LastModifiedById", "SystemModstamp"}) {
      EXPECT_TRUE(names.count(system)) << name << " lacks " << system;
    }
  }
  EXPECT_EQ(org->FindObject("account"), org->FindObject("Account"));
  EXPECT_EQ(org->ObjectOfId("001D000000IqhSLIAZ")->name, "Account");
  EXPECT_EQ(org->ObjectOfId("zzz"), nullptr);

  const ObjectDef& opportunity = *org->FindObject("Opportunity");
  const auto field = [](const ObjectDef& object, const std::string& name) -> const FieldDef& {
    for (const FieldDef& f : object.fields) {
      if (f.name == name) return f;
    }
    static FieldDef none;
    ADD_FAILURE() << name;
    return none;
  };
  EXPECT_TRUE(field(opportunity, "ExpectedRevenue").calculated);
  EXPECT_FALSE(field(opportunity, "ExpectedRevenue").createable);
  EXPECT_EQ(field(*org->FindObject("Account"), "BillingAddress").type, "address");
  EXPECT_EQ(field(*org->FindObject("Account"), "BillingCity").compound_field_name,
            "BillingAddress");
  const FieldDef& external = field(*org->FindObject("Invoice__c"), "External_Id__c");
  EXPECT_TRUE(external.unique && external.external_id && external.id_lookup && external.custom);
  EXPECT_EQ(field(*org->FindObject("Invoice__c"), "Amount__c").precision, 16);
  EXPECT_TRUE(field(*org->FindObject("Invoice__c"), "Status__c").restricted_picklist);
  EXPECT_EQ(field(*org->FindObject("Contact"), "AccountId").reference_to,
            std::vector<std::string>{"Account"});
  EXPECT_EQ(field(*org->FindObject("Contact"), "AccountId").relationship_name, "Account");
  EXPECT_EQ(org->org_id().substr(0, 3), "00D");
  EXPECT_EQ(soql::CanonicalId(org->org_id()), org->org_id());
}

TEST(OrgGenerationTest, SameSeedSameData) {
  sfbridge::testing::FakeClock clock_a, clock_b;
  auto a = MakeOrg(clock_a, kCounts, 42);
  auto b = MakeOrg(clock_b, kCounts, 42);
  EXPECT_EQ(a->org_id(), b->org_id());
  EXPECT_EQ(Dump(*a), Dump(*b));
  EXPECT_EQ(a->ChurnStep(9, 500, 50), b->ChurnStep(9, 500, 50));
  EXPECT_EQ(Dump(*a), Dump(*b));

  sfbridge::testing::FakeClock clock_c;
  auto c = MakeOrg(clock_c, kCounts, 43);
  EXPECT_NE(Dump(*a), Dump(*c));
}

TEST(OrgGenerationTest, CountsReferencesAndTimeline) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, kCounts, 5, 25);
  const int64_t now = core::ToUnixMillis(clock.Now());
  for (const auto& [object, count] : kCounts) {
    EXPECT_EQ(org->Count(object, false), count) << object;
  }
  for (const ObjectDef& object : org->objects()) {
    std::map<int64_t, int> per_stamp;
    for (const RecordPtr& record : MustQuery(*org, "SELECT Id FROM " + object.name).records) {
      EXPECT_EQ(soql::CanonicalId(record->id), record->id);
      EXPECT_EQ(org->ObjectOfId(record->id), &object);
      ++per_stamp[record->system_modstamp_ms];
      EXPECT_LT(record->system_modstamp_ms, now);
      EXPECT_GT(record->system_modstamp_ms, now - 731LL * 86'400'000);
      for (std::size_t i = 0; i < object.fields.size(); ++i) {
        const FieldDef& field = object.fields[i];
        const soql::Value& value = record->values[i];
        if (field.type == "reference" && !value.IsNull()) {
          const RecordPtr parent = org->Get(value.Text());
          ASSERT_NE(parent, nullptr) << object.name << "." << field.name << " " << value.Text();
          EXPECT_EQ(org->ObjectOfId(parent->id)->name, field.reference_to.at(0));
        }
        if (!field.nillable && field.type != "address") {
          EXPECT_FALSE(value.IsNull()) << object.name << "." << field.name;
        }
      }
      EXPECT_LE(ValueOf(*org, record, "CreatedDate"), ValueOf(*org, record, "SystemModstamp"));
    }
    if (object.name == "Contact") {
      EXPECT_EQ(per_stamp.size(), 12u);  // 300 records in bursts of 25
      EXPECT_EQ(per_stamp.begin()->second, 25);
    }
  }
}

TEST(OrgGenerationTest, GeneratedRecordsPassValidation) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, kCounts, 11);
  for (const ObjectDef& object : org->objects()) {
    if (object.name == "User") continue;
    for (const RecordPtr& record : MustQuery(*org, "SELECT Id FROM " + object.name).records) {
      InputRecord same;
      for (std::size_t i = 0; i < object.fields.size(); ++i) {
        const FieldDef& field = object.fields[i];
        const soql::Value& value = record->values[i];
        if (!field.updateable || value.IsNull()) continue;
        if (value.Kind() == soql::ValueKind::kBoolean) {
          same.emplace_back(field.name, Bool(value.Bool()));
        } else if (value.Kind() == soql::ValueKind::kNumber) {
          same.emplace_back(field.name, Num(value.ToString()));
        } else {
          same.emplace_back(field.name, Str(value.ToString()));
        }
      }
      const SaveResult result = org->Update(object.name, record->id, same);
      EXPECT_TRUE(result.success) << object.name << " " << record->id << ": "
                                  << (result.errors.empty() ? "" : result.errors[0].message);
    }
  }
}

TEST(OrgGenerationTest, ValuesAreRealistic) {
  sfbridge::testing::FakeClock clock;
  auto org = MakeOrg(clock, kCounts, 3);
  bool quote = false, backslash = false, non_ascii = false, long_text = false, null_email = false;
  for (const RecordPtr& record : MustQuery(*org, "SELECT Id FROM Contact").records) {
    const std::string name = ValueOf(*org, record, "Name");
    quote |= name.find('\'') != std::string::npos || name.find('"') != std::string::npos;
    backslash |= name.find('\\') != std::string::npos;
    for (unsigned char c : name) non_ascii |= c >= 0x80;
    long_text |= ValueOf(*org, record, "Description").size() > 1000;
    null_email |= ValueOf(*org, record, "Email") == "null";
  }
  EXPECT_TRUE(quote);
  EXPECT_TRUE(backslash);
  EXPECT_TRUE(non_ascii);
  EXPECT_TRUE(long_text);
  EXPECT_TRUE(null_email);
}

TEST(OrgGenerationTest, UnknownObjectOrMissingParentsFail) {
  sfbridge::testing::FakeClock clock;
  OrgOptions options;
  options.counts = {{"Widget__c", 3}};
  EXPECT_EQ(Org::Create(options, clock).status().code(), absl::StatusCode::kInvalidArgument);
  options.counts = {{"Shipment__c", 3}};
  EXPECT_EQ(Org::Create(options, clock).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sfbridge::sfsim::org::testing
