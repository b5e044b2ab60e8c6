#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sfbridge::sfsim::soql {

enum class ValueKind : std::uint8_t { kNull, kBoolean, kNumber, kString, kDate, kDateTime, kTime };

// One field value of one record, or one literal of a query.
//
// Numbers keep the exact decimal text they were made from (so a currency amount is echoed back
// digit for digit) next to a double used for comparisons. Dates are days since 1970-01-01,
// datetimes milliseconds since the epoch in UTC, times milliseconds since midnight.
//
// A Value is a plain copyable value type; it is not thread-safe to mutate, safe to share const.
class Value {
 public:
  Value() = default;  // null

  static Value Null() { return Value(); }
  static Value Boolean(bool value);
  // The text is the shortest decimal that round-trips the double.
  static Value Number(double value);
  static Value Integer(std::int64_t value);
  // Accepts `[+-]digits[.digits][e[+-]digits]` (also `.5`); keeps `text` verbatim.
  static absl::StatusOr<Value> ParseNumber(std::string_view text);
  static Value String(std::string value);
  static Value Date(std::int32_t days_since_epoch);
  static Value DateTime(std::int64_t millis_since_epoch);
  // `millis_since_midnight` must be in [0, 86'400'000).
  static Value Time(std::int32_t millis_since_midnight);
  // Parse the forms accepted by datetime.h; InvalidArgument when malformed.
  static absl::StatusOr<Value> ParseDate(std::string_view text);
  static absl::StatusOr<Value> ParseDateTime(std::string_view text);
  static absl::StatusOr<Value> ParseTime(std::string_view text);

  ValueKind Kind() const { return kind_; }
  bool IsNull() const { return kind_ == ValueKind::kNull; }

  // Accessors are valid only for the matching kind.
  bool Bool() const { return int_ != 0; }
  double Double() const { return double_; }
  // Number: the exact decimal text. String: the string. Date: `YYYY-MM-DD`.
  std::string_view Text() const { return text_; }
  std::int32_t Days() const { return static_cast<std::int32_t>(int_); }
  // Datetime: milliseconds since the epoch. Time: milliseconds since midnight.
  std::int64_t Millis() const { return int_; }

  // The text Salesforce's REST API puts in JSON for this value, without quotes: `null`,
  // `true`, `1234.50`, `abc`, `2024-01-15`, `2024-01-15T10:20:30.000+0000`, `10:20:30.000Z`.
  std::string ToString() const;

  // Exact structural equality (same kind, same text, same bits). SOQL's comparison rules are
  // CompareValues / ValuesEqual below.
  friend bool operator==(const Value& a, const Value& b) = default;

 private:
  ValueKind kind_ = ValueKind::kNull;
  std::int64_t int_ = 0;  // boolean, days, millis
  double double_ = 0;     // number
  std::string text_;      // number text, string, date text
};

// How strings compare. Salesforce compares text case-insensitively, except ids.
enum class TextCollation : std::uint8_t { kCaseInsensitive, kCaseSensitive };

// Orders two values: null first, then values of different kinds by kind, then by value
// (booleans false < true; strings by `collation`, ASCII letters folded when case-insensitive).
// Returns <0, 0 or >0.
int CompareValues(const Value& a, const Value& b, TextCollation collation);

// Same as CompareValues(a, b, collation) == 0, faster for strings.
bool ValuesEqual(const Value& a, const Value& b, TextCollation collation);

// ASCII case folding; other bytes compare as unsigned bytes.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
int CompareIgnoreCase(std::string_view a, std::string_view b);
inline char FoldCase(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

}  // namespace sfbridge::sfsim::soql
