#include "fetcher/soql_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/salesforce/url_encoding.h"

namespace sfbridge::fetcher {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kStarted = 1'705'314'030'123;   // 2024-01-15T10:20:30.123Z
constexpr int64_t kCursorMs = 1'705'312'800'000;  // 2024-01-15T10:00:00.000Z

TEST(SoqlBuilder, FirstBackfillPage) {
  EXPECT_EQ(
      BuildBackfillQuery("Contact", {"Id", "Name", "SystemModstamp"}, std::nullopt, kStarted, 2000),
      "SELECT Id, Name, SystemModstamp FROM Contact "
      "WHERE SystemModstamp <= 2024-01-15T10:20:30.123Z "
      "ORDER BY SystemModstamp, Id LIMIT 2000");
}

TEST(SoqlBuilder, BackfillPageAfterACursor) {
  EXPECT_EQ(BuildBackfillQuery("Contact", {"Id", "Name", "SystemModstamp"},
                               control::Cursor{kCursorMs, "003D000000IqhSLIAZ"}, kStarted, 2000),
            "SELECT Id, Name, SystemModstamp FROM Contact "
            "WHERE SystemModstamp <= 2024-01-15T10:20:30.123Z "
            "AND (SystemModstamp > 2024-01-15T10:00:00.000Z OR "
            "(SystemModstamp = 2024-01-15T10:00:00.000Z AND Id > '003D000000IqhSLIAZ')) "
            "ORDER BY SystemModstamp, Id LIMIT 2000");
}

TEST(SoqlBuilder, PollPageAddsIdAndSystemModstampWhenMissing) {
  EXPECT_EQ(
      BuildPollQuery("Invoice__c", {"Name", "Amount__c"}, control::Cursor{kCursorMs, ""}, 500),
      "SELECT Id, SystemModstamp, Name, Amount__c FROM Invoice__c "
      "WHERE (SystemModstamp > 2024-01-15T10:00:00.000Z OR "
      "(SystemModstamp = 2024-01-15T10:00:00.000Z AND Id > '')) "
      "ORDER BY SystemModstamp, Id LIMIT 500");
}

TEST(SoqlBuilder, WindowOfASplitPage) {
  KeysetQuery q;
  q.object_name = "Account";
  q.fields = {"Id", "SystemModstamp", "Description"};
  q.after = control::Cursor{kCursorMs, "001A"};
  q.through = control::Cursor{kStarted, "001Z"};
  EXPECT_EQ(BuildKeysetQuery(q),
            "SELECT Id, SystemModstamp, Description FROM Account "
            "WHERE (SystemModstamp > 2024-01-15T10:00:00.000Z OR "
            "(SystemModstamp = 2024-01-15T10:00:00.000Z AND Id > '001A')) "
            "AND (SystemModstamp < 2024-01-15T10:20:30.123Z OR "
            "(SystemModstamp = 2024-01-15T10:20:30.123Z AND Id <= '001Z')) "
            "ORDER BY SystemModstamp, Id");
}

TEST(SoqlBuilder, CountAndEscaping) {
  EXPECT_EQ(BuildCountQuery("Contact"), "SELECT COUNT() FROM Contact");
  EXPECT_EQ(QuoteSoqlString(R"(it's a "b"\c)"), R"('it\'s a \"b\"\\c')");
  EXPECT_EQ(QuoteSoqlString("a\nb\tc"), R"('a\nb\tc')");
  EXPECT_EQ(BuildPollQuery("Contact", {"Id"}, control::Cursor{0, "x' OR Id != '"}, 1),
            "SELECT SystemModstamp, Id FROM Contact WHERE (SystemModstamp > "
            "1970-01-01T00:00:00.000Z OR (SystemModstamp = 1970-01-01T00:00:00.000Z AND "
            "Id > 'x\\' OR Id != \\'')) ORDER BY SystemModstamp, Id LIMIT 1");
}

TEST(SplitFieldList, OneListWhenEverythingFits) {
  KeysetQuery shape;
  shape.object_name = "Contact";
  auto lists = SplitFieldList(shape, {"Id", "Name", "SystemModstamp", "Email"});
  ASSERT_TRUE(lists.ok()) << lists.status();
  ASSERT_EQ(lists->size(), 1u);
  // The given order stays when everything fits.
  EXPECT_THAT((*lists)[0], ElementsAre("Id", "Name", "SystemModstamp", "Email"));
}

TEST(SplitFieldList, WideObjectsAreCutAtTheLimitWithIdAndSystemModstampInEveryList) {
  KeysetQuery shape;
  shape.object_name = "Wide__c";
  shape.after = control::Cursor{kCursorMs, "a01000000000001AAA"};
  shape.modstamp_at_most_ms = kStarted;
  shape.limit = 2000;
  std::vector<std::string> fields = {"Id", "SystemModstamp"};
  for (int i = 0; i < 900; ++i) fields.push_back("Custom_Field_" + std::to_string(i) + "__c");
  auto lists = SplitFieldList(shape, fields);
  ASSERT_TRUE(lists.ok()) << lists.status();
  ASSERT_GT(lists->size(), 1u);
  size_t total = 0;
  for (const auto& list : *lists) {
    ASSERT_GE(list.size(), 3u);
    EXPECT_EQ(list[0], "Id");
    EXPECT_EQ(list[1], "SystemModstamp");
    total += list.size() - 2;
    KeysetQuery q = shape;
    q.fields = list;
    EXPECT_LE(salesforce::UrlEncode(BuildKeysetQuery(q)).size(), kMaxEncodedSoqlChars);
  }
  EXPECT_EQ(total, 900u);  // every field once, in order
  EXPECT_EQ((*lists)[0][2], "Custom_Field_0__c");
  EXPECT_EQ(lists->back().back(), "Custom_Field_899__c");
  // Greedy: a list ends only when its next field would not fit.
  KeysetQuery q = shape;
  q.fields = (*lists)[0];
  q.fields.push_back((*lists)[1][2]);
  EXPECT_GT(salesforce::UrlEncode(BuildKeysetQuery(q)).size(), kMaxEncodedSoqlChars);
}

TEST(SplitFieldList, AFieldThatCannotFitAloneIsAnError) {
  KeysetQuery shape;
  shape.object_name = "Contact";
  auto lists = SplitFieldList(shape, {"Id", std::string(200, 'F')}, 150);
  ASSERT_FALSE(lists.ok());
  EXPECT_EQ(lists.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sfbridge::fetcher
