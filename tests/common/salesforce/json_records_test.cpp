#include "common/salesforce/json_records.h"

#include <gtest/gtest.h>

namespace sfbridge::salesforce {
namespace {

using Kind = FieldValue::Kind;

constexpr char kPage[] = R"({
  "totalSize": 3,
  "done": false,
  "nextRecordsUrl": "/services/data/v59.0/query/01gD0000002HU6KIAW-2000",
  "records": [
    {"attributes": {"type": "Opportunity", "url": "/services/data/v59.0/sobjects/Opportunity/006A"},
     "Id": "006D000000IqhSLIAZ", "Amount": 12345678901234567.89, "Probability": 1.0E-7,
     "Count__c": -42, "IsWon": true, "IsClosed": false, "Description": null,
     "Name": "Quote \"A\" \\ caf\u00e9 \n line",
     "BillingAddress": {"city": "Paris", "latitude": 48.85661400000001, "street": null},
     "Account": {"attributes": {"type": "Account"}, "Name": "Acme"},
     "Tags__c": ["a", "b"]},
    {"attributes": {"type": "Opportunity"}, "Id": "006D000000IqhSMIAZ", "Amount": 0},
    {"attributes": {"type": "Opportunity"}, "Name": "no id selected"}
  ]
})";

TEST(JsonRecordsTest, ParsesPageMetadata) {
  absl::StatusOr<QueryPage> page = ParseQueryPage(kPage);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total_size, 3);
  EXPECT_FALSE(page->done);
  EXPECT_EQ(page->next_records_url, "/services/data/v59.0/query/01gD0000002HU6KIAW-2000");
  ASSERT_EQ(page->records.size(), 3u);
  EXPECT_EQ(page->records[0].type, "Opportunity");
  EXPECT_EQ(page->records[0].id, "006D000000IqhSLIAZ");
  EXPECT_EQ(page->records[2].id, "");
}

TEST(JsonRecordsTest, NumbersKeepTheirExactText) {
  absl::StatusOr<QueryPage> page = ParseQueryPage(kPage);
  ASSERT_TRUE(page.ok()) << page.status();
  const Record& r = page->records[0];
  EXPECT_EQ(*r.Find("Amount"), FieldValue::Number("12345678901234567.89"));
  EXPECT_EQ(*r.Find("Probability"), FieldValue::Number("1.0E-7"));
  EXPECT_EQ(*r.Find("Count__c"), FieldValue::Number("-42"));
  EXPECT_EQ(*page->records[1].Find("Amount"), FieldValue::Number("0"));
}

TEST(JsonRecordsTest, EveryKindOfValue) {
  absl::StatusOr<QueryPage> page = ParseQueryPage(kPage);
  ASSERT_TRUE(page.ok()) << page.status();
  const Record& r = page->records[0];
  EXPECT_EQ(*r.Find("IsWon"), FieldValue::Bool(true));
  EXPECT_EQ(*r.Find("IsClosed"), FieldValue::Bool(false));
  EXPECT_EQ(*r.Find("Description"), FieldValue::Null());
  EXPECT_EQ(*r.Find("Name"), FieldValue::String("Quote \"A\" \\ caf\xc3\xa9 \n line"));
  EXPECT_EQ(
      *r.Find("BillingAddress"),
      FieldValue::Object(R"({"city": "Paris", "latitude": 48.85661400000001, "street": null})"));
  EXPECT_EQ(r.Find("Account")->kind, Kind::kObject);
  EXPECT_EQ(r.Find("Account")->text, R"({"attributes": {"type": "Account"}, "Name": "Acme"})");
  EXPECT_EQ(*r.Find("Tags__c"), FieldValue::Object(R"(["a", "b"])"));
  EXPECT_EQ(r.Find("attributes"), nullptr);
}

TEST(JsonRecordsTest, FieldsKeepReplyOrder) {
  absl::StatusOr<QueryPage> page = ParseQueryPage(kPage);
  ASSERT_TRUE(page.ok());
  std::vector<std::string> names;
  for (const auto& [name, value] : page->records[0].fields) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"Id", "Amount", "Probability", "Count__c", "IsWon",
                                             "IsClosed", "Description", "Name", "BillingAddress",
                                             "Account", "Tags__c"}));
}

TEST(JsonRecordsTest, LastPageHasNoNextUrl) {
  absl::StatusOr<QueryPage> page = ParseQueryPage(R"({"totalSize":0,"done":true,"records":[]})");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->done);
  EXPECT_EQ(page->next_records_url, "");
  EXPECT_TRUE(page->records.empty());
  page = ParseQueryPage(R"({"totalSize":0,"done":true,"nextRecordsUrl":null,"records":[]})");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->next_records_url, "");
}

TEST(JsonRecordsTest, MalformedRepliesAreErrors) {
  for (const char* bad : {"", "[]", "{\"totalSize\":1,\"done\":true}",
                          "{\"totalSize\":1,\"done\":true,\"records\":[{\"Id\":}]}",
                          "{\"totalSize\":\"x\",\"done\":true,\"records\":[]}",
                          "{\"totalSize\":1,\"done\":true,\"records\":[1]}"}) {
    EXPECT_FALSE(ParseQueryPage(bad).ok()) << bad;
  }
}

TEST(JsonRecordsTest, RecordArrayKeepsNullsForMissingIds) {
  absl::StatusOr<std::vector<std::optional<Record>>> records =
      ParseRecordArray(R"([{"attributes":{"type":"Contact"},"Id":"003A","LastName":"X"},null])");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  ASSERT_TRUE((*records)[0].has_value());
  EXPECT_EQ((*records)[0]->id, "003A");
  EXPECT_EQ((*records)[0]->type, "Contact");
  EXPECT_FALSE((*records)[1].has_value());
}

TEST(JsonRecordsTest, SerializesExactly) {
  Fields fields = {{"Amount", FieldValue::Number("12345678901234567.89")},
                   {"Name", FieldValue::String("a \"b\" \\ \n\t\x01 caf\xc3\xa9")},
                   {"Description", FieldValue::Null()},
                   {"IsActive__c", FieldValue::Bool(true)},
                   {"Loc__c", FieldValue::Object(R"({"latitude":1.5})")}};
  core::JsonWriter w;
  WriteRecordObject(w, "Contact", fields);
  EXPECT_EQ(w.str(), R"({"attributes":{"type":"Contact"},"Amount":12345678901234567.89,)"
                     R"("Name":"a \"b\" \\ \n\t\u0001 caf)"
                     "\xc3\xa9"
                     R"(","Description":null,"IsActive__c":true,"Loc__c":{"latitude":1.5}})");
}

TEST(JsonRecordsTest, SerializedRecordParsesBackToTheSameValues) {
  Fields fields = {{"Id", FieldValue::String("003D000000IqhSLIAZ")},
                   {"Amount", FieldValue::Number("-0.000000000000000001")},
                   {"Name", FieldValue::String("line1\nline2 \"q\" \\")},
                   {"Flag", FieldValue::Bool(false)},
                   {"Empty", FieldValue::Null()}};
  core::JsonWriter w;
  w.BeginObject().Key("totalSize").Int(1).Member("done", true).Key("records").BeginArray();
  WriteRecordObject(w, "Contact", fields);
  w.EndArray().EndObject();
  const std::string json = w.Take();
  absl::StatusOr<QueryPage> page = ParseQueryPage(json);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].fields, fields);
  EXPECT_EQ(page->records[0].type, "Contact");
}

}  // namespace
}  // namespace sfbridge::salesforce
