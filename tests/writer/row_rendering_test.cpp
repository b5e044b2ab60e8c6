// Changes rendered as rows of a table (row_rendering.h): the same rows and the same parking as
// COPY text and as parameters, without PostgreSQL.

#include "writer/row_rendering.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/writer/record_builders.h"

namespace sfbridge::writer {
namespace {

using ::testing::HasSubstr;

// Columns in the mapping's (field name) order: Amount__c, IsWon, Name.
TableMapping Mapping() {
  TableMapping m;
  m.table = "deal__c";
  m.fields["Id"] = {"id", "text", "text"};
  m.fields["Name"] = {"name", "text", "text"};
  m.fields["Amount__c"] = {"amount__c", "numeric(18,2)", "numeric"};
  m.fields["IsWon"] = {"is_won", "boolean", "boolean"};
  return m;
}

v1::RecordChange Change(const std::string& id, int64_t ms,
                        std::vector<std::pair<std::string, v1::FieldValue>> fields) {
  return writer::Change("Deal__c", id, ms, std::move(fields));
}
v1::RecordChange Deletion(const std::string& id, int64_t ms) {
  return writer::Deletion("Deal__c", id, ms);
}

class RowRenderingTest : public ::testing::Test {
 protected:
  Rendering RenderAll(const std::vector<v1::RecordChange>& changes, RowFormat format) {
    changes_ = changes;
    std::vector<const v1::RecordChange*> pointers;
    for (const auto& c : changes_) pointers.push_back(&c);
    fields_.clear();
    views_ = ViewsOf(pointers, fields_);
    std::vector<size_t> indexes(views_.size());
    for (size_t i = 0; i < indexes.size(); ++i) indexes[i] = i;
    return Render(views_, indexes, layout_, "Deal__c", format);
  }
  static std::string LineOf(const Rendering& r, size_t k) {
    return r.buf.substr(r.lines[k].begin, r.lines[k].end - r.lines[k].begin);
  }
  static std::string BodyOf(const Rendering& r, size_t k) {
    return r.buf.substr(r.lines[k].begin, r.lines[k].body_end - r.lines[k].begin);
  }

  const TableMapping mapping_ = Mapping();
  const Layout layout_{mapping_};
  std::vector<v1::RecordChange> changes_;
  std::vector<FieldEntry> fields_;
  std::vector<ChangeView> views_;
};

TEST_F(RowRenderingTest, TheLayoutHasEveryFieldButIdAndFindsThemByName) {
  ASSERT_EQ(layout_.columns.size(), 3u);
  EXPECT_EQ(layout_.columns[0].name, "amount__c");
  EXPECT_EQ(layout_.columns[0].base_type, "numeric");
  EXPECT_EQ(layout_.columns[0].kind, ColumnKind::kOther);  // numeric(18,2): any kind as text
  EXPECT_EQ(layout_.by_field.Find("IsWon"), 1);
  EXPECT_EQ(layout_.by_field.Find("Name"), 2);
  EXPECT_EQ(layout_.by_field.Find("Id"), -1);
  EXPECT_EQ(layout_.by_field.Find("Nope"), -1);
}

TEST_F(RowRenderingTest, CopyLinesCarryTheStagingColumnsAndBodiesTheTableColumns) {
  const Rendering r = RenderAll(
      {Change("a1", 5, {{"Name", Text("tab\there")}, {"Id", Text("x")}}), Deletion("a2", 6),
       Change("a3", 7, {{"Amount__c", Number("1.50")}, {"Name", Null()}})},
      RowFormat::kCopyText);
  ASSERT_TRUE(r.parked.empty());
  EXPECT_EQ(LineOf(r, 0), "a1\t5\t\\N\t\\N\ttab\\there\tf\t0\n");
  EXPECT_EQ(BodyOf(r, 0), "a1\t5\t\\N\t\\N\ttab\\there");
  EXPECT_EQ(LineOf(r, 1), "a2\t6\t\\N\t\\N\t\\N\tt\t\\N\n");
  EXPECT_EQ(LineOf(r, 2), "a3\t7\t1.50\t\\N\t\\N\tf\t1\n");
  // Field sets by the columns present: an explicit null is present, an absent field is not.
  EXPECT_EQ(r.groups, (std::map<std::string, int>{{"001", 0}, {"101", 1}}));
  EXPECT_EQ(r.lines[1].group, -1);
}

TEST_F(RowRenderingTest, ParametersHoldTheSameValuesUnescaped) {
  const Rendering r =
      RenderAll({Change("a1", 5, {{"Name", Text("tab\there")}}), Deletion("a2", 6),
                 Change("a3", 7, {{"Amount__c", Number("1.50")}, {"Name", Null()}})},
                RowFormat::kParams);
  ASSERT_TRUE(r.parked.empty());
  EXPECT_TRUE(r.buf.empty());
  using Values = std::vector<postgres::Value>;
  EXPECT_EQ(r.params[0], (Values{"a1", "5", std::nullopt, std::nullopt, "tab\there"}));
  EXPECT_EQ(r.params[1], (Values{"a2", "6"}));
  EXPECT_EQ(r.params[2], (Values{"a3", "7", "1.50", std::nullopt, std::nullopt}));
  EXPECT_EQ(r.lines[0].group, 0);
  EXPECT_EQ(r.lines[2].group, 1);
}

TEST_F(RowRenderingTest, WhatCannotBeAppliedIsParkedWithItsReasonInEitherFormat) {
  for (RowFormat format : {RowFormat::kCopyText, RowFormat::kParams}) {
    const Rendering r = RenderAll(
        {Change("", 5, {}), Change("a2", 0, {}), Change("a3", 5, {{"Nope__c", Text("x")}}),
         Change("a4", 5, {{"IsWon", Text("yes")}}),
         Change("a5", 5, {{"Name", Text(std::string("a\0b", 3))}}),
         Change("a6", 5, {{"Name", Text("fine")}})},
        format);
    ASSERT_EQ(r.parked.size(), 5u);
    EXPECT_EQ(r.parked[0], (std::pair<size_t, std::string>{0, "empty record_id"}));
    EXPECT_EQ(r.parked[1], (std::pair<size_t, std::string>{1, "no SystemModstamp"}));
    EXPECT_EQ(r.parked[2].second, "unknown field Nope__c of Deal__c");
    EXPECT_THAT(r.parked[3].second, HasSubstr("field IsWon of Deal__c: a text value does not fit"));
    EXPECT_THAT(r.parked[4].second, HasSubstr("NUL"));
    EXPECT_EQ(r.valid, (std::vector<bool>{false, false, false, false, false, true}));
    if (format == RowFormat::kCopyText) {
      EXPECT_EQ(r.buf, "a6\t5\t\\N\t\\N\tfine\tf\t0\n");  // nothing of the parked ones
    } else {
      EXPECT_EQ(r.params[5].size(), 5u);
      EXPECT_TRUE(r.params[4].empty());
    }
  }
}

}  // namespace
}  // namespace sfbridge::writer
