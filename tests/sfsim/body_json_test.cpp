#include "sfsim/body_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sfbridge::sfsim {
namespace {

using ::testing::HasSubstr;
using Kind = org::InputValue::Kind;

TEST(BodyJsonTest, RecordKeepsExactNumbersNullsAndSkipsAttributes) {
  auto r = ParseRecordJson(
      R"({"attributes":{"type":"Invoice__c"},"Amount__c":12345678901234567.89,"Paid__c":true,)"
      R"("Notes__c":null,"Name":"Q\"1\u00fc","Id":"a00000000000001AAA"})",
      /*keep_id=*/false);
  ASSERT_TRUE(std::holds_alternative<BodyRecord>(r));
  const BodyRecord& rec = std::get<BodyRecord>(r);
  EXPECT_EQ(rec.type, "Invoice__c");
  EXPECT_EQ(rec.id, "a00000000000001AAA");
  ASSERT_EQ(rec.fields.size(), 4u);
  EXPECT_EQ(rec.fields[0].first, "Amount__c");
  EXPECT_EQ(rec.fields[0].second.kind, Kind::kNumber);
  EXPECT_EQ(rec.fields[0].second.text, "12345678901234567.89");
  EXPECT_EQ(rec.fields[1].second.kind, Kind::kBool);
  EXPECT_TRUE(rec.fields[1].second.boolean);
  EXPECT_EQ(rec.fields[2].second.kind, Kind::kNull);
  EXPECT_EQ(rec.fields[3].second.text, "Q\"1ü");
}

TEST(BodyJsonTest, KeepIdLeavesIdAmongFields) {
  auto r = ParseRecordJson(R"({"Id":"003000000000001AAA","LastName":"x"})", true);
  ASSERT_TRUE(std::holds_alternative<BodyRecord>(r));
  EXPECT_EQ(std::get<BodyRecord>(r).fields.size(), 2u);
}

TEST(BodyJsonTest, MalformedBodiesAreJsonParserErrors) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,2]", "{\"a\":1} trailing", "nul",
                          "{\"a\":{\"nested\":1}}", "{\"a\":[1]}", "\"just a string\""}) {
    auto r = ParseRecordJson(bad, false);
    ASSERT_TRUE(std::holds_alternative<org::ApiError>(r)) << bad;
    EXPECT_EQ(std::get<org::ApiError>(r).code, "JSON_PARSER_ERROR") << bad;
    EXPECT_EQ(std::get<org::ApiError>(r).http_status, 400);
  }
  auto nested = ParseRecordJson("{\"Name\":{\"x\":1}}", false);
  EXPECT_THAT(std::get<org::ApiError>(nested).message, HasSubstr("START_OBJECT"));
}

TEST(BodyJsonTest, CollectionWithTypesAndAllOrNone) {
  auto r = ParseCollectionJson(
      R"({"allOrNone":true,"records":[{"attributes":{"type":"Contact"},"LastName":"A"},)"
      R"({"attributes":{"type":"Account"},"id":"001000000000001AAA","Name":"B"}]})",
      false);
  ASSERT_TRUE(std::holds_alternative<CollectionBody>(r));
  const CollectionBody& c = std::get<CollectionBody>(r);
  EXPECT_TRUE(c.all_or_none);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0].type, "Contact");
  EXPECT_EQ(c.records[1].id, "001000000000001AAA");
  EXPECT_EQ(c.records[1].fields.size(), 1u);
  auto missing = ParseCollectionJson(R"({"allOrNone":true})", false);
  EXPECT_EQ(std::get<org::ApiError>(missing).code, "INVALID_FIELD");
}

TEST(BodyJsonTest, CompositeKeepsSubrequestBodiesVerbatim) {
  auto r = ParseCompositeJson(
      R"({"allOrNone":true,"compositeRequest":[)"
      R"({"method":"POST","url":"/services/data/v59.0/sobjects/Account","referenceId":"acc",)"
      R"("body":{"Name":"X","AnnualRevenue":12345678901234567.89}},)"
      R"({"method":"GET","referenceId":"q","url":"/services/data/v59.0/sobjects/Account/@{acc.id}"}]})");
  ASSERT_TRUE(std::holds_alternative<CompositeBody>(r));
  const CompositeBody& c = std::get<CompositeBody>(r);
  EXPECT_TRUE(c.all_or_none);
  ASSERT_EQ(c.requests.size(), 2u);
  EXPECT_EQ(c.requests[0].body, R"({"Name":"X","AnnualRevenue":12345678901234567.89})");
  EXPECT_EQ(c.requests[1].reference_id, "q");
  EXPECT_EQ(c.requests[1].body, "");
  auto bad = ParseCompositeJson(R"({"compositeRequest":[{"method":"GET"}]})");
  EXPECT_EQ(std::get<org::ApiError>(bad).code, "JSON_PARSER_ERROR");
}

TEST(BodyJsonTest, JsonMemberText) {
  EXPECT_EQ(JsonMemberText(R"({"id":"001x","n":12.50,"ok":true})", "id"), "001x");
  EXPECT_EQ(JsonMemberText(R"({"id":"001x","n":12.50,"ok":true})", "ok"), "true");
  EXPECT_EQ(JsonMemberText(R"({"id":"001x"})", "missing"), "");
  EXPECT_EQ(JsonMemberText("not json", "id"), "");
}

}  // namespace
}  // namespace sfbridge::sfsim
