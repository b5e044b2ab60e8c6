#include "proxy/writes/value_conversion.h"

#include <charconv>
#include <cstdio>

#include "absl/time/civil_time.h"
#include "common/core/strings.h"
#include "common/mapping/datetime.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;
using salesforce::FieldValue;

bool IsNumberType(std::string_view type) {
  return type == "int" || type == "long" || type == "double" || type == "currency" ||
         type == "percent";
}

absl::Status Bad(const SyncedField& field, std::string_view what) {
  return absl::InvalidArgumentError(
      StrCat("column \"", field.column, "\" (", field.salesforce_type, "): ", what));
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Division rounding toward minus infinity (a datetime before 1970 falls on the day before).
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::string FormatDate(int64_t days) {
  // Abseil's civil years are 64-bit: every date PostgreSQL takes fits.
  const absl::CivilDay day = absl::CivilDay(1970, 1, 1) + days;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02d", static_cast<long long>(day.year()),
                day.month(), day.day());
  return buf;
}

std::string FormatTimeOfDay(int64_t millis) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld.%03lld",
                static_cast<long long>(millis / 3'600'000),
                static_cast<long long>(millis / 60'000 % 60),
                static_cast<long long>(millis / 1000 % 60), static_cast<long long>(millis % 1000));
  return buf;
}

bool IsJsonNumber(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

absl::StatusOr<FieldValue> ToSalesforceValue(const std::optional<std::string>& text,
                                             const SyncedField& field) {
  if (!text) return FieldValue::Null();
  const std::string_view type = field.salesforce_type;
  const std::string& coltype = field.column_type;
  auto integer = [&]() -> absl::StatusOr<int64_t> {
    std::optional<int64_t> v = ParseInt(*text);
    if (!v) return Bad(field, "the value is out of the range Salesforce keeps");
    return *v;
  };
  if (coltype.starts_with("timestamp")) {
    absl::StatusOr<int64_t> ms = integer();
    if (!ms.ok()) return ms.status();
    if (type == "date") return FieldValue::String(FormatDate(FloorDiv(*ms, 86'400'000)));
    return FieldValue::String(mapping::FormatSoqlDateTime(*ms));
  }
  if (coltype == "date") {
    absl::StatusOr<int64_t> days = integer();
    if (!days.ok()) return days.status();
    if (type == "datetime")
      return FieldValue::String(mapping::FormatSoqlDateTime(*days * 86'400'000));
    return FieldValue::String(FormatDate(*days));
  }
  if (coltype.starts_with("time")) {
    absl::StatusOr<int64_t> ms = integer();
    if (!ms.ok()) return ms.status();
    return FieldValue::String(StrCat(FormatTimeOfDay(*ms), "Z"));
  }
  if (type == "boolean") {
    if (*text == "t" || *text == "true") return FieldValue::Bool(true);
    if (*text == "f" || *text == "false") return FieldValue::Bool(false);
    return Bad(field, "not a boolean");
  }
  if (IsNumberType(type)) {
    if (!IsJsonNumber(*text)) return Bad(field, StrCat("\"", *text, "\" is not a finite number"));
    return FieldValue::Number(*text);
  }
  return FieldValue::String(*text);
}

void WriteColumnJson(core::JsonWriter& json, const v1::FieldValue& value) {
  switch (value.kind_case()) {
    case v1::FieldValue::kText:
      json.String(value.text());
      return;
    case v1::FieldValue::kMulti:
      json.String(value.multi());
      return;
    case v1::FieldValue::kBoolean:
      json.Bool(value.boolean());
      return;
    case v1::FieldValue::kNumber:
      // The exact decimal text; anything else Salesforce might send stays text.
      if (IsJsonNumber(value.number())) {
        json.Raw(value.number());
      } else {
        json.String(value.number());
      }
      return;
    case v1::FieldValue::kDatetimeMs:
      json.String(mapping::FormatSoqlDateTime(value.datetime_ms()));
      return;
    case v1::FieldValue::kDateDays:
      json.String(FormatDate(value.date_days()));
      return;
    case v1::FieldValue::kTimeMs:
      json.String(FormatTimeOfDay(value.time_ms()));
      return;
    case v1::FieldValue::kNull:
    case v1::FieldValue::KIND_NOT_SET:
      json.Null();
      return;
  }
  json.Null();
}

}  // namespace sfbridge::proxy::writes
