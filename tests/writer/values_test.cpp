// FieldValue rendering for synced columns (values.h): the exact text Postgres reads, for COPY and
// as a parameter, and the refusals of values that do not fit their column.

#include "writer/values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace sfbridge::writer {
namespace {

using ::testing::HasSubstr;

FieldView Text(std::string_view s) { return {.kind = v1::FieldValue::kText, .text = s}; }
FieldView Multi(std::string_view s) { return {.kind = v1::FieldValue::kMulti, .text = s}; }
FieldView Number(std::string_view s) { return {.kind = v1::FieldValue::kNumber, .text = s}; }
FieldView Bool(bool b) { return {.kind = v1::FieldValue::kBoolean, .boolean = b}; }
FieldView Null() { return {.kind = v1::FieldValue::kNull, .boolean = true}; }
FieldView Datetime(int64_t ms) { return {.kind = v1::FieldValue::kDatetimeMs, .integer = ms}; }
FieldView Date(int64_t days) { return {.kind = v1::FieldValue::kDateDays, .integer = days}; }
FieldView Time(int64_t ms) { return {.kind = v1::FieldValue::kTimeMs, .integer = ms}; }

// The COPY rendering, or "error: <message>" (then `out` must be unchanged).
std::string Copy(const FieldView& v, ColumnKind kind) {
  std::string out = "x";
  absl::Status s = AppendCopyValue(out, v, kind);
  if (!s.ok()) {
    EXPECT_EQ(out, "x") << "a refused value left something behind";
    return "error: " + std::string(s.message());
  }
  return out.substr(1);
}

// The parameter text, "NULL" for nullopt, or "error: <message>".
std::string Param(const FieldView& v, ColumnKind kind) {
  absl::StatusOr<std::optional<std::string>> t = ValueText(v, kind);
  if (!t.ok()) return "error: " + std::string(t.status().message());
  return t->value_or("NULL");
}

TEST(KindOfTest, NamesAsFormatTypeSpellsThem) {
  EXPECT_EQ(KindOf("text"), ColumnKind::kText);
  EXPECT_EQ(KindOf("boolean"), ColumnKind::kBoolean);
  EXPECT_EQ(KindOf("integer"), ColumnKind::kInteger);
  EXPECT_EQ(KindOf("bigint"), ColumnKind::kBigint);
  EXPECT_EQ(KindOf("numeric"), ColumnKind::kNumeric);
  EXPECT_EQ(KindOf("date"), ColumnKind::kDate);
  EXPECT_EQ(KindOf("timestamp with time zone"), ColumnKind::kTimestamptz);
  EXPECT_EQ(KindOf("time without time zone"), ColumnKind::kTime);
  EXPECT_EQ(KindOf("numeric(18,2)"), ColumnKind::kOther);
  EXPECT_EQ(KindOf("jsonb"), ColumnKind::kOther);
}

TEST(FormatTest, DatesTimesAndDatetimesAtMillisecondsInUtc) {
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(FormatDate(11016), "2000-02-29");
  EXPECT_EQ(FormatDate(-719162), "0001-01-01");
  EXPECT_EQ(FormatDate(2932896), "9999-12-31");
  EXPECT_EQ(FormatTimeMs(0), "00:00:00.000");
  EXPECT_EQ(FormatTimeMs(86'399'999), "23:59:59.999");
  EXPECT_EQ(FormatTimeMs(45'296'007), "12:34:56.007");
  EXPECT_EQ(FormatDatetimeMs(0), "1970-01-01 00:00:00.000+00");
  EXPECT_EQ(FormatDatetimeMs(1'700'000'000'123), "2023-11-14 22:13:20.123+00");
  EXPECT_EQ(FormatDatetimeMs(-1), "1969-12-31 23:59:59.999+00");  // floors, not truncates
}

TEST(AppendCopyValueTest, TextIsEscapedForCopyAndKeptAsItIsForParameters) {
  EXPECT_EQ(Copy(Text("a\tb\nc\\d\re"), ColumnKind::kText), "a\\tb\\nc\\\\d\\re");
  EXPECT_EQ(Param(Text("a\tb\nc\\d\re"), ColumnKind::kText), "a\tb\nc\\d\re");
  EXPECT_EQ(Copy(Text("\\N"), ColumnKind::kText), "\\\\N");  // never NULL by accident
  EXPECT_EQ(Copy(Multi("A;B"), ColumnKind::kOther), "A;B");
  EXPECT_EQ(Copy(Text(""), ColumnKind::kText), "");
}

TEST(AppendCopyValueTest, NullIsBackslashNOrNoParameterText) {
  EXPECT_EQ(Copy(Null(), ColumnKind::kInteger), "\\N");
  EXPECT_EQ(Param(Null(), ColumnKind::kInteger), "NULL");
}

TEST(AppendCopyValueTest, TextWithANulIsRefusedEitherWay) {
  const std::string nul("a\0b", 3);
  EXPECT_EQ(Copy(Text(nul), ColumnKind::kText), "error: text contains a NUL character");
  EXPECT_EQ(Param(Text(nul), ColumnKind::kText), "error: text contains a NUL character");
}

TEST(AppendCopyValueTest, BooleansAreTAndFInBooleanColumnsAndWordsInText) {
  EXPECT_EQ(Copy(Bool(true), ColumnKind::kBoolean), "t");
  EXPECT_EQ(Copy(Bool(false), ColumnKind::kBoolean), "f");
  EXPECT_EQ(Copy(Bool(true), ColumnKind::kText), "true");
  EXPECT_EQ(Param(Bool(false), ColumnKind::kOther), "false");
}

TEST(AppendCopyValueTest, NumbersKeepTheirDecimalTextAndAreCheckedForTheColumn) {
  EXPECT_EQ(Copy(Number("12345678901234567890.123456789"), ColumnKind::kNumeric),
            "12345678901234567890.123456789");
  EXPECT_EQ(Copy(Number("-.5e-3"), ColumnKind::kNumeric), "-.5e-3");
  EXPECT_EQ(Copy(Number("2147483647"), ColumnKind::kInteger), "2147483647");
  EXPECT_EQ(Copy(Number("+7"), ColumnKind::kInteger), "+7");
  EXPECT_EQ(Copy(Number("-9223372036854775808"), ColumnKind::kBigint), "-9223372036854775808");
  EXPECT_EQ(Copy(Number("1.5"), ColumnKind::kText), "1.5");
  for (const char* bad : {"", ".", "1e", "1e1234567", "NaN", "Infinity", " 1", "1 ", "1,5"}) {
    EXPECT_THAT(Copy(Number(bad), ColumnKind::kNumeric),
                HasSubstr("number is not valid for a numeric column"))
        << bad;
  }
  EXPECT_THAT(Copy(Number("2147483648"), ColumnKind::kInteger),
              HasSubstr("not valid for a integer column"));
  EXPECT_THAT(Copy(Number("1.0"), ColumnKind::kBigint), HasSubstr("not valid for a bigint"));
  EXPECT_THAT(Copy(Number("++1"), ColumnKind::kInteger), HasSubstr("not valid"));
  EXPECT_EQ(Copy(Number("1"), ColumnKind::kDate),
            "error: a number value does not fit a date column");
}

TEST(AppendCopyValueTest, DatesAndTimesFitOnlyTheirColumnsAndTheirRange) {
  EXPECT_EQ(Copy(Datetime(1'700'000'000'123), ColumnKind::kTimestamptz),
            "2023-11-14 22:13:20.123+00");
  EXPECT_EQ(Param(Datetime(0), ColumnKind::kText), "1970-01-01 00:00:00.000+00");
  EXPECT_EQ(Copy(Date(0), ColumnKind::kDate), "1970-01-01");
  EXPECT_EQ(Copy(Time(1), ColumnKind::kTime), "00:00:00.001");
  EXPECT_EQ(Copy(Date(2932897), ColumnKind::kDate), "error: date outside years 1..9999");
  EXPECT_EQ(Copy(Date(-719163), ColumnKind::kDate), "error: date outside years 1..9999");
  EXPECT_EQ(Copy(Datetime(253'402'300'800'000), ColumnKind::kTimestamptz),
            "error: datetime outside years 1..9999");
  EXPECT_EQ(Copy(Time(86'400'000), ColumnKind::kTime), "error: time of day outside 00:00..24:00");
  EXPECT_EQ(Copy(Time(-1), ColumnKind::kTime), "error: time of day outside 00:00..24:00");
  EXPECT_EQ(Copy(Date(0), ColumnKind::kTimestamptz),
            "error: a date value does not fit a timestamptz column");
  EXPECT_EQ(Copy(Text("2020-01-01"), ColumnKind::kDate),
            "error: a text value does not fit a date column");
  EXPECT_EQ(Copy(Bool(true), ColumnKind::kInteger),
            "error: a boolean value does not fit a integer column");
}

TEST(AppendCopyValueTest, AValueWithNoKindIsRefused) {
  EXPECT_EQ(Copy(FieldView{}, ColumnKind::kText), "error: value has no kind set");
}

TEST(ViewOfTest, ReadsTheSetMemberOfEveryKind) {
  v1::FieldValue v;
  v.set_number("1.25");
  EXPECT_EQ(ViewOf(v).kind, v1::FieldValue::kNumber);
  EXPECT_EQ(ViewOf(v).text, "1.25");
  v.set_date_days(-3);
  EXPECT_EQ(ViewOf(v).kind, v1::FieldValue::kDateDays);
  EXPECT_EQ(ViewOf(v).integer, -3);
  v.set_boolean(true);
  EXPECT_TRUE(ViewOf(v).boolean);
  v.set_multi("A;B");
  EXPECT_EQ(ViewOf(v).text, "A;B");
  std::string out;
  ASSERT_TRUE(AppendCopyValue(out, v, ColumnKind::kText).ok());
  EXPECT_EQ(out, "A;B");
}

}  // namespace
}  // namespace sfbridge::writer
