#include "common/mapping/record_mapping.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/mapping/datetime.h"

namespace sfbridge::mapping {
namespace {

using salesforce::FieldValue;
using ::testing::HasSubstr;

FieldPlan Plan() {
  FieldPlan plan;
  plan.object_name = "Opportunity";
  plan.schema_fingerprint = "f00d";
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"Id", "id"},
      {"IsDeleted", "boolean"},
      {"Name", "string"},
      {"Amount", "currency"},
      {"Probability", "percent"},
      {"Score__c", "double"},
      {"Seats__c", "int"},
      {"Big__c", "long"},
      {"CloseDate", "date"},
      {"Wake__c", "time"},
      {"Tags__c", "multipicklist"},
      {"AccountId", "reference"},
      {"Extra__c", "anyType"},
      {"SystemModstamp", "datetime"},
  };
  for (const auto& [name, type] : fields) plan.fields.push_back({name, type, ValueKindOf(type)});
  plan.Reindex();
  return plan;
}

salesforce::Record FullRecord() {
  salesforce::Record r;
  r.type = "Opportunity";
  r.id = "006D000000IqhSLIAZ";
  r.fields = {
      {"Id", FieldValue::String("006D000000IqhSLIAZ")},
      {"IsDeleted", FieldValue::Bool(false)},
      {"Name", FieldValue::String("Café \"Big\" deal")},
      {"Amount", FieldValue::Number("12345678901234567.89")},
      {"Probability", FieldValue::Number("12.50")},
      {"Score__c", FieldValue::Number("1e-7")},
      {"Seats__c", FieldValue::Number("-42")},
      {"Big__c", FieldValue::Number("9223372036854775807")},
      {"CloseDate", FieldValue::String("2024-01-15")},
      {"Wake__c", FieldValue::String("10:20:30.123Z")},
      {"Tags__c", FieldValue::String("Red;Green")},
      {"AccountId", FieldValue::Null()},
      {"Extra__c", FieldValue::Object(R"({"a":[1,2]})")},
      {"SystemModstamp", FieldValue::String("2024-01-15T10:20:30.000+0000")},
  };
  return r;
}

TEST(ToRecordChange, EveryTypeKeepsItsExactMeaning) {
  auto change = ToRecordChange("00D000000000001EAA", Plan(), FullRecord(),
                               v1::CHANGE_SOURCE_BACKFILL, 1'705'314'099'000);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->org_id(), "00D000000000001EAA");
  EXPECT_EQ(change->object_name(), "Opportunity");
  EXPECT_EQ(change->record_id(), "006D000000IqhSLIAZ");
  EXPECT_EQ(change->system_modstamp_ms(), 1'705'314'030'000);
  EXPECT_FALSE(change->deleted());
  EXPECT_EQ(change->source(), v1::CHANGE_SOURCE_BACKFILL);
  EXPECT_EQ(change->schema_fingerprint(), "f00d");
  EXPECT_EQ(change->fetched_at_ms(), 1'705'314'099'000);

  const auto& f = change->fields();
  ASSERT_EQ(f.size(), 14u);
  EXPECT_EQ(f.at("Id").text(), "006D000000IqhSLIAZ");
  EXPECT_EQ(f.at("IsDeleted").kind_case(), v1::FieldValue::kBoolean);
  EXPECT_FALSE(f.at("IsDeleted").boolean());
  EXPECT_EQ(f.at("Name").text(), "Café \"Big\" deal");
  // More digits than a double holds: exact text, no rounding.
  EXPECT_EQ(f.at("Amount").number(), "12345678901234567.89");
  EXPECT_EQ(f.at("Probability").number(), "12.50");
  EXPECT_EQ(f.at("Score__c").number(), "1e-7");
  EXPECT_EQ(f.at("Seats__c").number(), "-42");
  EXPECT_EQ(f.at("Big__c").number(), "9223372036854775807");
  EXPECT_EQ(f.at("CloseDate").date_days(), 19737);
  EXPECT_EQ(f.at("Wake__c").time_ms(), 37'230'123);
  EXPECT_EQ(f.at("Tags__c").multi(), "Red;Green");
  EXPECT_EQ(f.at("AccountId").kind_case(), v1::FieldValue::kNull);
  EXPECT_TRUE(f.at("AccountId").null());
  EXPECT_EQ(f.at("Extra__c").text(), R"({"a":[1,2]})");
  EXPECT_EQ(f.at("SystemModstamp").datetime_ms(), 1'705'314'030'000);
}

TEST(ToRecordChange, NullIsNullForEveryType) {
  salesforce::Record r = FullRecord();
  for (auto& [name, value] : r.fields) {
    if (name != "Id" && name != "SystemModstamp") value = FieldValue::Null();
  }
  auto change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_TRUE(change.ok()) << change.status();
  for (const auto& [name, value] : change->fields()) {
    if (name == "Id" || name == "SystemModstamp") continue;
    EXPECT_TRUE(value.null()) << name;
  }
  EXPECT_FALSE(change->deleted());
}

TEST(ToRecordChange, IsDeletedMakesATombstone) {
  salesforce::Record r = FullRecord();
  r.fields[1].second = FieldValue::Bool(true);
  auto change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_TRUE(change->deleted());
}

TEST(ToRecordChange, FieldsOutOfOrderUnplannedOrMissingAreHandled) {
  salesforce::Record r;
  r.id = "006D000000IqhSLIAZ";
  r.fields = {{"SystemModstamp", FieldValue::String("2024-02-29T23:59:59.999Z")},
              {"Owner", FieldValue::Object(R"({"Name":"x"})")},
              {"Amount", FieldValue::Number("0.10")},
              {"Id", FieldValue::String("006D000000IqhSLIAZ")}};
  auto change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->fields().size(), 3u);  // Owner is not planned; the rest were not fetched
  EXPECT_EQ(change->fields().at("Amount").number(), "0.10");
  EXPECT_EQ(change->system_modstamp_ms(), 1'709'251'199'999);
}

TEST(ToRecordChange, AValueOfTheWrongKindNamesObjectRecordFieldAndKind) {
  salesforce::Record r = FullRecord();
  r.fields[3].second = FieldValue::String("12.00");  // Amount as a string
  auto change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_FALSE(change.ok());
  EXPECT_EQ(change.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(change.status().message(),
            "Opportunity 006D000000IqhSLIAZ: field Amount (currency) holds a JSON string, "
            "expected a JSON number");

  r = FullRecord();
  r.fields[1].second = FieldValue::Number("1");
  change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_FALSE(change.ok());
  EXPECT_THAT(std::string(change.status().message()),
              HasSubstr("field IsDeleted (boolean) holds a JSON number, expected a JSON boolean"));

  r = FullRecord();
  r.fields[2].second = FieldValue::Object("{}");
  change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_FALSE(change.ok());
  EXPECT_THAT(std::string(change.status().message()),
              HasSubstr("field Name (string) holds a JSON object"));
}

TEST(ToRecordChange, UnparsableDatesAreRefusedWithoutQuotingTheValue) {
  salesforce::Record r = FullRecord();
  r.fields[8].second = FieldValue::String("2024-02-30");
  auto change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_FALSE(change.ok());
  EXPECT_EQ(change.status().message(),
            "Opportunity 006D000000IqhSLIAZ: field CloseDate (date) holds a string that is not "
            "a date");
}

TEST(ToRecordChange, ARecordWithoutSystemModstampIsRefused) {
  salesforce::Record r = FullRecord();
  r.fields.pop_back();
  auto change = ToRecordChange("org", Plan(), r, v1::CHANGE_SOURCE_POLL, 0);
  ASSERT_FALSE(change.ok());
  EXPECT_EQ(change.status().message(),
            "Opportunity 006D000000IqhSLIAZ: no SystemModstamp in the record");
}

// The message a Kafka consumer reads from EncodePage's `i`th value.
v1::RecordChange Decoded(const EncodedChanges& out, size_t i) {
  v1::RecordChange change;
  EXPECT_TRUE(change.ParseFromString(std::string(out.value(i))));
  return change;
}

TEST(EncodePage, ConsumersReadWhatToRecordChangeBuilds) {
  std::vector<salesforce::Record> page(6, FullRecord());
  for (auto& [name, value] : page[1].fields) {
    if (name != "Id" && name != "SystemModstamp") value = FieldValue::Null();
  }
  page[2].fields[1].second = FieldValue::Bool(true);  // a tombstone
  // Before 1970: negative datetime, date and time values take ten-byte varints.
  page[3].fields[8].second = FieldValue::String("1969-12-31");
  page[3].fields[13].second = FieldValue::String("1969-12-31T23:59:59.999Z");
  // Out of order, an unplanned field, a field given twice (the last value counts), Id only in
  // the fields.
  page[4].id.clear();
  page[4].fields = {{"SystemModstamp", FieldValue::String("2024-02-29T23:59:59.999Z")},
                    {"Owner", FieldValue::Object(R"({"Name":"x"})")},
                    {"Amount", FieldValue::Number("0.10")},
                    {"Amount", FieldValue::Null()},
                    {"Id", FieldValue::String("006D000000IqhSMIAZ")}};
  page[5].fields[2].second = FieldValue::String(std::string(300, 'x'));  // a two-byte length
  page[5].fields[12].second = FieldValue::Bool(true);                    // anyType
  EncodedChanges out;
  ASSERT_TRUE(
      EncodePage("00D000000000001EAA", Plan(), page, v1::CHANGE_SOURCE_BACKFILL, 7, out).ok());
  ASSERT_EQ(out.size(), page.size());
  for (size_t i = 0; i < page.size(); ++i) {
    auto expected =
        ToRecordChange("00D000000000001EAA", Plan(), page[i], v1::CHANGE_SOURCE_BACKFILL, 7);
    ASSERT_TRUE(expected.ok()) << expected.status();
    v1::RecordChange got = Decoded(out, i);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, *expected))
        << "record " << i << ":\n"
        << got.DebugString() << "expected:\n"
        << expected->DebugString();
    EXPECT_EQ(out.key(i), expected->record_id());
  }
  EXPECT_TRUE(Decoded(out, 2).deleted());
  EXPECT_TRUE(Decoded(out, 4).fields().at("Amount").null());
  EXPECT_EQ(Decoded(out, 3).system_modstamp_ms(), -1);
}

TEST(EncodePage, FailsLikeToRecordChangeAndKeepsWhatItHeld) {
  std::vector<salesforce::Record> page = {FullRecord(), FullRecord()};
  EncodedChanges out;
  ASSERT_TRUE(EncodePage("org", Plan(), page, v1::CHANGE_SOURCE_POLL, 0, out).ok());
  const std::string first(out.value(1));

  page[1].fields[3].second = FieldValue::Bool(true);  // Amount as a boolean
  absl::Status s = EncodePage("org", Plan(), page, v1::CHANGE_SOURCE_POLL, 0, out);
  EXPECT_EQ(s, ToRecordChange("org", Plan(), page[1], v1::CHANGE_SOURCE_POLL, 0).status());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.value(1), first);

  page[1] = FullRecord();
  page[1].fields.pop_back();  // no SystemModstamp
  EXPECT_EQ(EncodePage("org", Plan(), page, v1::CHANGE_SOURCE_POLL, 0, out).message(),
            "Opportunity 006D000000IqhSLIAZ: no SystemModstamp in the record");
  EXPECT_EQ(out.size(), 2u);
}

TEST(Datetime, ParsesSalesforceFormsToUtcMillis) {
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15T10:20:30.000+0000"), 1'705'314'030'000);
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15T10:20:30Z"), 1'705'314'030'000);
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15T11:20:30.000+01:00"), 1'705'314'030'000);
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15T05:20:30.000-0500"), 1'705'314'030'000);
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15T10:20:30.1234567Z"), 1'705'314'030'123);
  EXPECT_EQ(ParseDateTimeMillis("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15 10:20:30Z"), std::nullopt);
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15T24:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseDateTimeMillis("2024-01-15T10:20:30"), std::nullopt);
  EXPECT_EQ(ParseDateDays("1970-01-01"), 0);
  EXPECT_EQ(ParseDateDays("1900-03-01"), -25508);
  EXPECT_EQ(ParseDateDays("2023-02-29"), std::nullopt);
  EXPECT_EQ(ParseTimeMillis("00:00:00.000Z"), 0);
  EXPECT_EQ(ParseTimeMillis("23:59:59.999"), 86'399'999);
  EXPECT_EQ(FormatSoqlDateTime(1'705'314'030'123), "2024-01-15T10:20:30.123Z");
  EXPECT_EQ(FormatApiDateTime(-1), "1969-12-31T23:59:59.999+0000");
}

}  // namespace
}  // namespace sfbridge::mapping
