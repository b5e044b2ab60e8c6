#include "sfsim/soql/value.h"

#include <charconv>
#include <utility>

#include "absl/status/status.h"
#include "sfsim/soql/datetime.h"

namespace sfbridge::sfsim::soql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`
bool IsDecimalText(std::string_view text) {
  std::size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
  std::size_t int_digits = 0, fraction_digits = 0;
  while (pos < text.size() && IsDigit(text[pos])) ++pos, ++int_digits;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos, ++fraction_digits;
  }
  if (int_digits + fraction_digits == 0) return false;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
    std::size_t exponent_digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) ++pos, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  return pos == text.size();
}

template <typename T>
int Sign(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareBytes(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

Value Value::Boolean(bool value) {
  Value v;
  v.kind_ = ValueKind::kBoolean;
  v.int_ = value ? 1 : 0;
  return v;
}

Value Value::Number(double value) {
  Value v;
  v.kind_ = ValueKind::kNumber;
  v.double_ = value;
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  v.text_.assign(buffer, result.ptr);
  return v;
}

Value Value::Integer(std::int64_t value) {
  Value v;
  v.kind_ = ValueKind::kNumber;
  v.double_ = static_cast<double>(value);
  v.text_ = std::to_string(value);
  return v;
}

absl::StatusOr<Value> Value::ParseNumber(std::string_view text) {
  if (!IsDecimalText(text)) {
    return absl::InvalidArgumentError("invalid number: '" + std::string(text) + "'");
  }
  // from_chars rejects a leading '+' and accepts a bare leading '.' only with the digits.
  std::string_view digits = text[0] == '+' ? text.substr(1) : text;
  double parsed = 0;
  std::string normalised;
  if (digits.starts_with('.') || digits.starts_with("-.")) {
    normalised = std::string(digits);
    normalised.insert(digits[0] == '-' ? 1 : 0, "0");
    digits = normalised;
  }
  auto result = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
  if (result.ec == std::errc::result_out_of_range) {
    return absl::InvalidArgumentError("number out of range: '" + std::string(text) + "'");
  }
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) {
    return absl::InvalidArgumentError("invalid number: '" + std::string(text) + "'");
  }
  Value v;
  v.kind_ = ValueKind::kNumber;
  v.double_ = parsed;
  v.text_ = std::string(text);
  return v;
}

Value Value::String(std::string value) {
  Value v;
  v.kind_ = ValueKind::kString;
  v.text_ = std::move(value);
  return v;
}

Value Value::Date(std::int32_t days_since_epoch) {
  Value v;
  v.kind_ = ValueKind::kDate;
  v.int_ = days_since_epoch;
  v.text_ = FormatDate(days_since_epoch);
  return v;
}

Value Value::DateTime(std::int64_t millis_since_epoch) {
  Value v;
  v.kind_ = ValueKind::kDateTime;
  v.int_ = millis_since_epoch;
  return v;
}

Value Value::Time(std::int32_t millis_since_midnight) {
  Value v;
  v.kind_ = ValueKind::kTime;
  v.int_ = millis_since_midnight;
  return v;
}

absl::StatusOr<Value> Value::ParseDate(std::string_view text) {
  auto days = soql::ParseDate(text);
  if (!days) return absl::InvalidArgumentError("invalid date: '" + std::string(text) + "'");
  return Date(*days);
}

absl::StatusOr<Value> Value::ParseDateTime(std::string_view text) {
  auto millis = soql::ParseDateTime(text);
  if (!millis) return absl::InvalidArgumentError("invalid datetime: '" + std::string(text) + "'");
  return DateTime(*millis);
}

absl::StatusOr<Value> Value::ParseTime(std::string_view text) {
  auto millis = soql::ParseTime(text);
  if (!millis) return absl::InvalidArgumentError("invalid time: '" + std::string(text) + "'");
  return Time(*millis);
}

std::string Value::ToString() const {
  switch (kind_) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBoolean:
      return int_ != 0 ? "true" : "false";
    case ValueKind::kNumber:
    case ValueKind::kString:
    case ValueKind::kDate:
      return text_;
    case ValueKind::kDateTime:
      return FormatDateTime(int_);
    case ValueKind::kTime:
      return FormatTime(static_cast<std::int32_t>(int_));
  }
  return "";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && FoldCase(a[i]) != FoldCase(b[i])) return false;
  }
  return true;
}

int CompareIgnoreCase(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto ca = static_cast<unsigned char>(FoldCase(a[i]));
    const auto cb = static_cast<unsigned char>(FoldCase(b[i]));
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return Sign(a.size(), b.size());
}

int CompareValues(const Value& a, const Value& b, TextCollation collation) {
  if (a.Kind() != b.Kind()) return Sign(a.Kind(), b.Kind());
  switch (a.Kind()) {
    case ValueKind::kNull:
      return 0;
    case ValueKind::kNumber:
      return Sign(a.Double(), b.Double());
    case ValueKind::kString:
      return collation == TextCollation::kCaseSensitive ? CompareBytes(a.Text(), b.Text())
                                                        : CompareIgnoreCase(a.Text(), b.Text());
    case ValueKind::kBoolean:
    case ValueKind::kDate:
    case ValueKind::kDateTime:
    case ValueKind::kTime:
      return Sign(a.Millis(), b.Millis());
  }
  return 0;
}

bool ValuesEqual(const Value& a, const Value& b, TextCollation collation) {
  if (a.Kind() != b.Kind()) return false;
  if (a.Kind() == ValueKind::kString) {
    return collation == TextCollation::kCaseSensitive ? a.Text() == b.Text()
                                                      : EqualsIgnoreCase(a.Text(), b.Text());
  }
  return CompareValues(a, b, collation) == 0;
}

}  // namespace sfbridge::sfsim::soql
