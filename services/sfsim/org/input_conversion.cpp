#include "sfsim/org/input_conversion.h"

#include <cstdio>
#include <string>

#include "sfsim/org/api_errors.h"

namespace sfbridge::sfsim::org {
namespace {

using soql::FieldType;
using soql::Value;

std::string_view TokenOf(const InputValue& input) {
  switch (input.kind) {
    case InputValue::Kind::kBool:
      return input.boolean ? "VALUE_TRUE" : "VALUE_FALSE";
    case InputValue::Kind::kNumber:
      return input.text.find_first_of(".eE") == std::string::npos ? "VALUE_NUMBER_INT"
                                                                  : "VALUE_NUMBER_FLOAT";
    case InputValue::Kind::kString:
      return "VALUE_STRING";
    case InputValue::Kind::kNull:
      return "VALUE_NULL";
  }
  return "VALUE_NULL";
}

std::string TextOf(const InputValue& input) {
  if (input.kind == InputValue::Kind::kBool) return input.boolean ? "true" : "false";
  return input.text;
}

ApiError WrongType(const FieldDef& field, const InputValue& input) {
  return JsonParserError(field, TokenOf(input), TextOf(input));
}

// Rounds the plain decimal `sign int.frac` half up to `scale` fraction digits.
std::string RoundDecimal(bool negative, std::string int_part, std::string frac, int scale) {
  const bool round_up = frac.size() > static_cast<std::size_t>(scale) && frac[scale] >= '5';
  frac.resize(static_cast<std::size_t>(scale));
  std::string digits = int_part + frac;
  if (round_up) {
    int i = static_cast<int>(digits.size()) - 1;
    for (; i >= 0 && digits[i] == '9'; --i) digits[i] = '0';
    if (i >= 0) {
      ++digits[i];
    } else {
      digits.insert(digits.begin(), '1');
    }
  }
  const std::size_t int_size = digits.size() - static_cast<std::size_t>(scale);
  std::string out = negative ? "-" : "";
  out.append(digits, 0, int_size);
  if (scale > 0) out.append(".").append(digits, int_size, std::string::npos);
  return out;
}

Result<Value> ConvertNumber(const FieldDef& field, const InputValue& input) {
  absl::StatusOr<Value> parsed = Value::ParseNumber(input.text);
  if (!parsed.ok()) return WrongType(field, input);
  const bool is_int = field.soql_type == FieldType::kInt || field.soql_type == FieldType::kLong;
  std::string text = input.text;
  if (text.find_first_of("eE") != std::string::npos) {
    // Exponent notation: write the number out in plain digits first.
    char buffer[400];
    std::snprintf(buffer, sizeof(buffer), "%.*f", is_int ? 0 : 15, parsed->Double());
    text = buffer;
    if (is_int && parsed->Double() != static_cast<double>(static_cast<long long>(parsed->Double())))
      return WrongType(field, input);
  }
  bool negative = false;
  std::size_t pos = 0;
  if (text[pos] == '-' || text[pos] == '+') negative = text[pos++] == '-';
  const std::size_t dot = text.find('.', pos);
  std::string int_part = text.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
  std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (is_int) {
    if (frac.find_first_not_of('0') != std::string::npos) return WrongType(field, input);
    frac.clear();
  }
  const std::size_t first_digit = int_part.find_first_not_of('0');
  const std::size_t int_digits =
      first_digit == std::string::npos ? 0 : int_part.size() - first_digit;
  const int max_int_digits = is_int ? field.digits : field.precision - field.scale;
  if (max_int_digits > 0 && int_digits > static_cast<std::size_t>(max_int_digits)) {
    return NumberOutsideRange(field, input.text);
  }
  if (!is_int && frac.size() <= static_cast<std::size_t>(field.scale) && text == input.text) {
    return *std::move(parsed);  // within precision and scale: kept digit for digit
  }
  if (int_part.empty()) int_part = "0";
  const std::string rounded = RoundDecimal(negative, int_part, frac, is_int ? 0 : field.scale);
  return *Value::ParseNumber(rounded);
}

}  // namespace

Result<Value> ConvertInput(const FieldDef& field, const InputValue& input) {
  const FieldType type = field.soql_type;
  if (input.kind == InputValue::Kind::kNull) {
    return type == FieldType::kBoolean ? Value::Boolean(field.default_value == "true") : Value();
  }
  switch (type) {
    case FieldType::kBoolean:
      if (input.kind != InputValue::Kind::kBool) return WrongType(field, input);
      return Value::Boolean(input.boolean);
    case FieldType::kInt:
    case FieldType::kLong:
    case FieldType::kDouble:
    case FieldType::kCurrency:
    case FieldType::kPercent:
      if (input.kind != InputValue::Kind::kNumber) return WrongType(field, input);
      return ConvertNumber(field, input);
    case FieldType::kDate:
    case FieldType::kDateTime:
    case FieldType::kTime: {
      if (input.kind != InputValue::Kind::kString) return WrongType(field, input);
      absl::StatusOr<Value> parsed = type == FieldType::kDate ? Value::ParseDate(input.text)
                                     : type == FieldType::kDateTime
                                         ? Value::ParseDateTime(input.text)
                                         : Value::ParseTime(input.text);
      if (!parsed.ok()) return WrongType(field, input);
      return *std::move(parsed);
    }
    default:
      // Salesforce keeps no empty text: "" is stored as null (and so misses a required field).
      if (input.kind == InputValue::Kind::kString && input.text.empty()) return Value();
      return Value::String(TextOf(input));
  }
}

}  // namespace sfbridge::sfsim::org
