// Derived values to Salesforce's JSON values, and confirmed values to RETURNING's JSON.

#include "proxy/writes/value_conversion.h"

#include <gtest/gtest.h>

namespace sfbridge::proxy::writes {
namespace {

using salesforce::FieldValue;

SyncedField Field(std::string sf_type, std::string column_type) {
  return SyncedField{.field = "F__c",
                     .column = "f__c",
                     .column_type = std::move(column_type),
                     .salesforce_type = std::move(sf_type)};
}

FieldValue Convert(const std::optional<std::string>& text, const SyncedField& f) {
  absl::StatusOr<FieldValue> v = ToSalesforceValue(text, f);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : FieldValue::Null();
}

TEST(ValueConversionTest, NumbersKeepTheirExactText) {
  EXPECT_EQ(Convert("12345678901234567.89", Field("currency", "numeric")),
            FieldValue::Number("12345678901234567.89"));
  EXPECT_EQ(Convert("-0.50", Field("percent", "numeric")), FieldValue::Number("-0.50"));
  EXPECT_EQ(Convert("42", Field("int", "integer")), FieldValue::Number("42"));
  EXPECT_EQ(Convert("9223372036854775807", Field("long", "bigint")),
            FieldValue::Number("9223372036854775807"));
  for (const char* bad : {"NaN", "Infinity", "-Infinity", "1.", "01", "abc", ""}) {
    absl::StatusOr<FieldValue> v = ToSalesforceValue(std::string(bad), Field("double", "numeric"));
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValueConversionTest, NullIsNullForEveryType) {
  for (const char* type : {"string", "boolean", "currency", "date", "datetime", "multipicklist"}) {
    EXPECT_EQ(Convert(std::nullopt, Field(type, "text")), FieldValue::Null()) << type;
  }
}

TEST(ValueConversionTest, Booleans) {
  EXPECT_EQ(Convert("t", Field("boolean", "boolean")), FieldValue::Bool(true));
  EXPECT_EQ(Convert("f", Field("boolean", "boolean")), FieldValue::Bool(false));
  EXPECT_FALSE(ToSalesforceValue(std::string("yes"), Field("boolean", "boolean")).ok());
}

TEST(ValueConversionTest, DatesTimesAndDatetimesFromTheirWireNumbers) {
  EXPECT_EQ(Convert("19737", Field("date", "date")), FieldValue::String("2024-01-15"));
  EXPECT_EQ(Convert("-1", Field("date", "date")), FieldValue::String("1969-12-31"));
  EXPECT_EQ(Convert("0", Field("date", "date")), FieldValue::String("1970-01-01"));
  EXPECT_EQ(Convert("1705314030123", Field("datetime", "timestamp with time zone")),
            FieldValue::String("2024-01-15T10:20:30.123Z"));
  EXPECT_EQ(Convert("37230500", Field("time", "time without time zone")),
            FieldValue::String("10:20:30.500Z"));
  EXPECT_FALSE(ToSalesforceValue(std::string("1e3"), Field("date", "date")).ok());
  EXPECT_FALSE(
      ToSalesforceValue(std::string("2024-01-15"), Field("datetime", "timestamp with time zone"))
          .ok());
}

TEST(ValueConversionTest, TextAndMultipicklistStayText) {
  EXPECT_EQ(Convert("Express;Fragile", Field("multipicklist", "text")),
            FieldValue::String("Express;Fragile"));
  EXPECT_EQ(Convert("a \"quoted\" \n line", Field("textarea", "text")),
            FieldValue::String("a \"quoted\" \n line"));
  // A column that became text after a type change keeps its text.
  EXPECT_EQ(Convert("2024-01-15", Field("date", "text")), FieldValue::String("2024-01-15"));
}

TEST(ValueConversionTest, ColumnJsonForReturning) {
  auto json = [](const v1::FieldValue& v) {
    core::JsonWriter out;
    WriteColumnJson(out, v);
    return out.Take();
  };
  v1::FieldValue v;
  v.set_number("1234.50");
  EXPECT_EQ(json(v), "1234.50");
  v.set_text("a\"b");
  EXPECT_EQ(json(v), "\"a\\\"b\"");
  v.set_boolean(false);
  EXPECT_EQ(json(v), "false");
  v.set_datetime_ms(1705314030123);
  EXPECT_EQ(json(v), "\"2024-01-15T10:20:30.123Z\"");
  v.set_date_days(19737);
  EXPECT_EQ(json(v), "\"2024-01-15\"");
  v.set_time_ms(37230500);
  EXPECT_EQ(json(v), "\"10:20:30.500\"");
  v.set_multi("A;B");
  EXPECT_EQ(json(v), "\"A;B\"");
  v.set_null(true);
  EXPECT_EQ(json(v), "null");
}

}  // namespace
}  // namespace sfbridge::proxy::writes
