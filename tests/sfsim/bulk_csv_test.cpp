// Bulk query results as CSV, locators and gzip: pure functions, no org needed.

#include "sfsim/bulk_csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sfsim/gzip.h"
#include "sfsim/soql/datetime.h"

namespace sfbridge::sfsim {
namespace {

std::string Field(std::string_view text, char delimiter = ',') {
  std::string out;
  AppendCsvField(out, text, delimiter);
  return out;
}

std::string Value(const soql::Value& v, char delimiter = ',') {
  std::string out;
  AppendCsvValue(out, v, delimiter);
  return out;
}

TEST(BulkCsvTest, QuotesOnlyWhenNeededAndDoublesQuotes) {
  EXPECT_EQ(Field("plain text"), "plain text");
  EXPECT_EQ(Field("a,b"), "\"a,b\"");
  EXPECT_EQ(Field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Field("\""), "\"\"\"\"");
  EXPECT_EQ(Field("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(Field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(Field(""), "");
  // The delimiter in use decides: a comma needs no quotes in a TAB file, a tab does.
  EXPECT_EQ(Field("a,b", '\t'), "a,b");
  EXPECT_EQ(Field("a\tb", '\t'), "\"a\tb\"");
  EXPECT_EQ(Field("a|b", '|'), "\"a|b\"");
  EXPECT_EQ(Field("a^b", '^'), "\"a^b\"");
}

TEST(BulkCsvTest, ValuesAsSalesforceWritesThem) {
  EXPECT_EQ(Value(soql::Value::Null()), "");
  EXPECT_EQ(Value(soql::Value::Boolean(true)), "true");
  EXPECT_EQ(Value(soql::Value::Boolean(false)), "false");
  EXPECT_EQ(Value(*soql::Value::ParseNumber("1234.50")), "1234.50");
  EXPECT_EQ(Value(soql::Value::Integer(-7)), "-7");
  EXPECT_EQ(Value(*soql::Value::ParseDate("2024-01-02")), "2024-01-02");
  EXPECT_EQ(Value(*soql::Value::ParseDateTime("2024-01-02T03:04:05.000Z")),
            "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(Value(*soql::Value::ParseDateTime("2024-01-02T03:04:05+02:00")),
            "2024-01-02T01:04:05.000Z");
  EXPECT_EQ(Value(soql::Value::DateTime(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Value(soql::Value::DateTime(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(Value(soql::Value::Time(3'723'004)), "01:02:03.004Z");
  EXPECT_EQ(Value(soql::Value::String("x;y"), ';'), "\"x;y\"");
}

TEST(BulkCsvTest, DateTimesMatchTheReferenceFormatterAcrossYears) {
  // The hand-written formatter against soql's, over leap days, centuries and millisecond ends.
  for (int64_t ms = -2'208'988'800'000; ms < 4'102'444'800'000;
       ms += 86'400'000LL * 397 + 3'599'999) {
    EXPECT_EQ(Value(soql::Value::DateTime(ms)), soql::FormatDateTimeLiteral(ms)) << ms;
  }
  EXPECT_EQ(Value(*soql::Value::ParseDateTime("2000-02-29T23:59:59.999Z")),
            "2000-02-29T23:59:59.999Z");
}

TEST(BulkCsvTest, HeaderAndRowsWithDelimiterAndLineEnding) {
  org::ObjectDef object;
  object.name = "Thing__c";
  for (const char* name : {"Id", "Name", "Amount__c", "Active__c", "When__c"}) {
    org::FieldDef f;
    f.name = name;
    object.fields.push_back(f);
  }
  org::RecordVersion record;
  record.values = {soql::Value::String("a00000000000001AAA"), soql::Value::String("Smith; \"J\""),
                   soql::Value::Null(), soql::Value::Boolean(true),
                   soql::Value::DateTime(1'704'164'645'000)};
  const std::vector<size_t> selected = {0, 1, 4, 2, 3};

  std::string lf;
  AppendCsvHeader(lf, object, selected, CsvFormat{});
  AppendCsvRecord(lf, record, selected, CsvFormat{});
  EXPECT_EQ(lf,
            "Id,Name,When__c,Amount__c,Active__c\n"
            "a00000000000001AAA,\"Smith; \"\"J\"\"\",2024-01-02T03:04:05.000Z,,true\n");

  std::string crlf;
  const CsvFormat semicolon{*ColumnDelimiterFromName("SEMICOLON"), *LineEndingFromName("CRLF")};
  AppendCsvHeader(crlf, object, selected, semicolon);
  AppendCsvRecord(crlf, record, selected, semicolon);
  EXPECT_EQ(crlf,
            "Id;Name;When__c;Amount__c;Active__c\r\n"
            "a00000000000001AAA;\"Smith; \"\"J\"\"\";2024-01-02T03:04:05.000Z;;true\r\n");
}

TEST(BulkCsvTest, OptionNamesAsSalesforceSpellsThem) {
  EXPECT_EQ(ColumnDelimiterFromName("COMMA"), ',');
  EXPECT_EQ(ColumnDelimiterFromName("BACKQUOTE"), '`');
  EXPECT_EQ(ColumnDelimiterFromName("CARET"), '^');
  EXPECT_EQ(ColumnDelimiterFromName("PIPE"), '|');
  EXPECT_EQ(ColumnDelimiterFromName("SEMICOLON"), ';');
  EXPECT_EQ(ColumnDelimiterFromName("TAB"), '\t');
  EXPECT_EQ(ColumnDelimiterFromName("comma"), std::nullopt);
  EXPECT_EQ(ColumnDelimiterFromName(","), std::nullopt);
  EXPECT_EQ(LineEndingFromName("LF"), "\n");
  EXPECT_EQ(LineEndingFromName("CRLF"), "\r\n");
  EXPECT_EQ(LineEndingFromName("CR"), std::nullopt);
}

TEST(GzipTest, RoundTripAndAcceptEncoding) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "Id,Name\n003000000000001AAA,Smith\n";
  std::string packed = GzipCompress(text);
  ASSERT_GE(packed.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  EXPECT_LT(packed.size(), text.size() / 10);
  EXPECT_EQ(GzipDecompress(packed), text);
  EXPECT_EQ(GzipDecompress("not gzip"), "");

  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=1.0, *;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("br, GZIP"));  // content-codings are case-insensitive
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_TRUE(AcceptsGzip("gzip;q=0.5"));
}

}  // namespace
}  // namespace sfbridge::sfsim
