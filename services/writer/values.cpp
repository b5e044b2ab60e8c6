#include "writer/values.h"

#include <charconv>
#include <chrono>

#include "common/core/strings.h"
#include "common/postgres/copy_format.h"

namespace sfbridge::writer {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;
// 0001-01-01 and 9999-12-31 as days since 1970-01-01: the range rendered without a BC or a
// five-digit year.
constexpr int64_t kMinDays = -719'162;
constexpr int64_t kMaxDays = 2'932'896;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [+-]digits, within [min, max].
bool IsInteger(std::string_view s, int64_t min, int64_t max) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return false;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && v >= min && v <= max;
}

// [+-](digits[.digits*] | .digits)([eE][+-]digits): what numeric accepts, minus NaN/Infinity
// and surrounding spaces.
bool IsDecimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp;
    if (exp == 0 || exp > 6) return false;
  }
  return i == s.size();
}

const char* KindName(v1::FieldValue::KindCase k) {
  switch (k) {
    case v1::FieldValue::kNull:
      return "null";
    case v1::FieldValue::kText:
      return "text";
    case v1::FieldValue::kBoolean:
      return "boolean";
    case v1::FieldValue::kNumber:
      return "number";
    case v1::FieldValue::kDatetimeMs:
      return "datetime";
    case v1::FieldValue::kDateDays:
      return "date";
    case v1::FieldValue::kTimeMs:
      return "time";
    case v1::FieldValue::kMulti:
      return "multipicklist";
    case v1::FieldValue::KIND_NOT_SET:
      break;
  }
  return "empty";
}

const char* ColumnName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kText:
      return "text";
    case ColumnKind::kBoolean:
      return "boolean";
    case ColumnKind::kInteger:
      return "integer";
    case ColumnKind::kBigint:
      return "bigint";
    case ColumnKind::kNumeric:
      return "numeric";
    case ColumnKind::kDate:
      return "date";
    case ColumnKind::kTimestamptz:
      return "timestamptz";
    case ColumnKind::kTime:
      return "time";
    case ColumnKind::kOther:
      break;
  }
  return "other";
}

absl::Status WrongKind(const FieldView& value, ColumnKind kind) {
  return absl::InvalidArgumentError(core::StrCat(
      "a ", KindName(value.kind), " value does not fit a ", ColumnName(kind), " column"));
}

}  // namespace

ColumnKind KindOf(std::string_view t) {
  if (t == "text") return ColumnKind::kText;
  if (t == "boolean") return ColumnKind::kBoolean;
  if (t == "integer") return ColumnKind::kInteger;
  if (t == "bigint") return ColumnKind::kBigint;
  if (t == "numeric") return ColumnKind::kNumeric;
  if (t == "date") return ColumnKind::kDate;
  if (t == "timestamp with time zone") return ColumnKind::kTimestamptz;
  if (t == "time without time zone") return ColumnKind::kTime;
  return ColumnKind::kOther;
}

namespace {

void AppendDigits(std::string& out, int64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 || n < width);
  while (n > 0) out.push_back(buf[--n]);
}

// Years 1..9999 (callers check), so no sign and at most four digits.
void AppendDate(std::string& out, int64_t days) {
  const std::chrono::year_month_day c{std::chrono::sys_days(std::chrono::days(days))};
  AppendDigits(out, static_cast<int>(c.year()), 4);
  out.push_back('-');
  AppendDigits(out, static_cast<unsigned>(c.month()), 2);
  out.push_back('-');
  AppendDigits(out, static_cast<unsigned>(c.day()), 2);
}

void AppendTime(std::string& out, int64_t ms) {
  AppendDigits(out, ms / 3'600'000, 2);
  out.push_back(':');
  AppendDigits(out, ms / 60'000 % 60, 2);
  out.push_back(':');
  AppendDigits(out, ms / 1000 % 60, 2);
  out.push_back('.');
  AppendDigits(out, ms % 1000, 3);
}

void AppendDatetime(std::string& out, int64_t ms) {
  const int64_t days = FloorDiv(ms, kMsPerDay);
  AppendDate(out, days);
  out.push_back(' ');
  AppendTime(out, ms - days * kMsPerDay);
  out.append("+00");
}

}  // namespace

std::string FormatDate(int64_t days) {
  std::string out;
  AppendDate(out, days);
  return out;
}

std::string FormatTimeMs(int64_t ms) {
  std::string out;
  AppendTime(out, ms);
  return out;
}

std::string FormatDatetimeMs(int64_t ms) {
  std::string out;
  AppendDatetime(out, ms);
  return out;
}

namespace {

// `value` (not null) as the text Postgres reads into a column of `kind`: escaped for COPY text
// when `copy`, as it is (a parameter) otherwise.
absl::Status AppendValue(std::string& out, const FieldView& value, ColumnKind kind, bool copy) {
  const bool any = kind == ColumnKind::kText || kind == ColumnKind::kOther;
  switch (value.kind) {
    case v1::FieldValue::kNull:
      break;  // the callers' to spell
    case v1::FieldValue::kText:
    case v1::FieldValue::kMulti: {
      if (!any) return WrongKind(value, kind);
      const bool fits = copy ? postgres::AppendCopyText(out, value.text)
                             : value.text.find('\0') == std::string_view::npos;
      if (!fits) return absl::InvalidArgumentError("text contains a NUL character");
      if (!copy) out.append(value.text);
      return absl::OkStatus();
    }
    case v1::FieldValue::kBoolean:
      if (!any && kind != ColumnKind::kBoolean) return WrongKind(value, kind);
      out.append(value.boolean ? (any ? "true" : "t") : (any ? "false" : "f"));
      return absl::OkStatus();
    case v1::FieldValue::kNumber: {
      const std::string_view n = value.text;
      bool ok = false;
      switch (kind) {
        case ColumnKind::kInteger:
          ok = IsInteger(n, INT32_MIN, INT32_MAX);
          break;
        case ColumnKind::kBigint:
          ok = IsInteger(n, INT64_MIN, INT64_MAX);
          break;
        case ColumnKind::kNumeric:
        case ColumnKind::kText:
        case ColumnKind::kOther:
          ok = IsDecimal(n);
          break;
        default:
          return WrongKind(value, kind);
      }
      if (!ok) {
        return absl::InvalidArgumentError(
            core::StrCat("number is not valid for a ", ColumnName(kind), " column"));
      }
      out.append(n);
      return absl::OkStatus();
    }
    case v1::FieldValue::kDatetimeMs: {
      if (!any && kind != ColumnKind::kTimestamptz) return WrongKind(value, kind);
      const int64_t days = FloorDiv(value.integer, kMsPerDay);
      if (days < kMinDays || days > kMaxDays) {
        return absl::InvalidArgumentError("datetime outside years 1..9999");
      }
      AppendDatetime(out, value.integer);
      return absl::OkStatus();
    }
    case v1::FieldValue::kDateDays:
      if (!any && kind != ColumnKind::kDate) return WrongKind(value, kind);
      if (value.integer < kMinDays || value.integer > kMaxDays) {
        return absl::InvalidArgumentError("date outside years 1..9999");
      }
      AppendDate(out, value.integer);
      return absl::OkStatus();
    case v1::FieldValue::kTimeMs:
      if (!any && kind != ColumnKind::kTime) return WrongKind(value, kind);
      if (value.integer < 0 || value.integer >= kMsPerDay) {
        return absl::InvalidArgumentError("time of day outside 00:00..24:00");
      }
      AppendTime(out, value.integer);
      return absl::OkStatus();
    case v1::FieldValue::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("value has no kind set");
}

}  // namespace

absl::Status AppendCopyValue(std::string& out, const FieldView& value, ColumnKind kind) {
  if (value.kind == v1::FieldValue::kNull) {
    out.append(postgres::kCopyNull);
    return absl::OkStatus();
  }
  return AppendValue(out, value, kind, /*copy=*/true);
}

absl::StatusOr<std::optional<std::string>> ValueText(const FieldView& value, ColumnKind kind) {
  if (value.kind == v1::FieldValue::kNull) return std::nullopt;
  std::string text;
  if (absl::Status s = AppendValue(text, value, kind, /*copy=*/false); !s.ok()) return s;
  return text;
}

FieldView ViewOf(const v1::FieldValue& value) {
  FieldView v;
  v.kind = value.kind_case();
  switch (v.kind) {
    case v1::FieldValue::kNull:
      v.boolean = value.null();
      break;
    case v1::FieldValue::kText:
      v.text = value.text();
      break;
    case v1::FieldValue::kBoolean:
      v.boolean = value.boolean();
      break;
    case v1::FieldValue::kNumber:
      v.text = value.number();
      break;
    case v1::FieldValue::kDatetimeMs:
      v.integer = value.datetime_ms();
      break;
    case v1::FieldValue::kDateDays:
      v.integer = value.date_days();
      break;
    case v1::FieldValue::kTimeMs:
      v.integer = value.time_ms();
      break;
    case v1::FieldValue::kMulti:
      v.text = value.multi();
      break;
    case v1::FieldValue::KIND_NOT_SET:
      break;
  }
  return v;
}

absl::Status AppendCopyValue(std::string& out, const v1::FieldValue& value, ColumnKind kind) {
  return AppendCopyValue(out, ViewOf(value), kind);
}

}  // namespace sfbridge::writer
