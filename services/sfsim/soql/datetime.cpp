#include "sfsim/soql/datetime.h"

#include <cstdio>

namespace sfbridge::sfsim::soql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at `pos`; advances `pos` on success.
bool ReadDigits(std::string_view text, std::size_t& pos, int count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (int i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  out = value;
  return true;
}

bool Expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Reads `YYYY-MM-DD` at `pos`.
bool ReadDate(std::string_view text, std::size_t& pos, CivilDate& date) {
  if (!ReadDigits(text, pos, 4, date.year) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, date.month) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, date.day)) {
    return false;
  }
  return date.year >= 1 && date.month >= 1 && date.month <= 12 && date.day >= 1 &&
         date.day <= DaysInMonth(date.year, date.month);
}

// Reads `hh:mm:ss[.fff...]` at `pos` into milliseconds since midnight.
bool ReadClock(std::string_view text, std::size_t& pos, std::int64_t& millis) {
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, pos, 2, hour) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, minute) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  int fraction_millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (digits < 3) fraction_millis = fraction_millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return false;
    for (int i = digits; i < 3; ++i) fraction_millis *= 10;
  }
  millis = ((hour * 60 + minute) * 60 + second) * std::int64_t{1000} + fraction_millis;
  return true;
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t DaysFromCivil(CivilDate date) {
  std::int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (date.month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  CivilDate date;
  date.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  date.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  date.year = static_cast<int>(yoe + era * 400 + (date.month <= 2 ? 1 : 0));
  return date;
}

std::optional<std::int32_t> ParseDate(std::string_view text) {
  std::size_t pos = 0;
  CivilDate date;
  if (!ReadDate(text, pos, date) || pos != text.size()) return std::nullopt;
  return static_cast<std::int32_t>(DaysFromCivil(date));
}

std::optional<std::int64_t> ParseDateTime(std::string_view text) {
  std::size_t pos = 0;
  CivilDate date;
  std::int64_t clock = 0;
  if (!ReadDate(text, pos, date) || !Expect(text, pos, 'T') || !ReadClock(text, pos, clock) ||
      pos >= text.size()) {
    return std::nullopt;
  }
  std::int64_t offset_minutes = 0;
  const char zone = text[pos++];
  if (zone == '+' || zone == '-') {
    int hours = 0, minutes = 0;
    if (!ReadDigits(text, pos, 2, hours)) return std::nullopt;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (!ReadDigits(text, pos, 2, minutes) || hours > 23 || minutes > 59) return std::nullopt;
    offset_minutes = (hours * 60 + minutes) * (zone == '-' ? -1 : 1);
  } else if (zone != 'Z') {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  // Local time = UTC + offset, so UTC = local - offset.
  return DaysFromCivil(date) * kMillisPerDay + clock - offset_minutes * 60'000;
}

std::optional<std::int32_t> ParseTime(std::string_view text) {
  std::size_t pos = 0;
  std::int64_t clock = 0;
  if (!ReadClock(text, pos, clock)) return std::nullopt;
  if (pos < text.size() && text[pos] == 'Z') ++pos;
  if (pos != text.size()) return std::nullopt;
  return static_cast<std::int32_t>(clock);
}

std::string FormatDate(std::int64_t days) {
  const CivilDate date = CivilFromDays(days);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02d", date.year, date.month, date.day);
  return buffer;
}

namespace {

std::string FormatDateTimeWithZone(std::int64_t millis, const char* zone) {
  std::int64_t days = millis / kMillisPerDay;
  std::int64_t in_day = millis % kMillisPerDay;
  if (in_day < 0) {
    in_day += kMillisPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", date.year,
                date.month, date.day, static_cast<int>(in_day / 3'600'000),
                static_cast<int>(in_day / 60'000 % 60), static_cast<int>(in_day / 1000 % 60),
                static_cast<int>(in_day % 1000), zone);
  return buffer;
}

}  // namespace

std::string FormatDateTime(std::int64_t millis) { return FormatDateTimeWithZone(millis, "+0000"); }

std::string FormatDateTimeLiteral(std::int64_t millis) {
  return FormatDateTimeWithZone(millis, "Z");
}

std::string FormatTime(std::int32_t millis) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%02d:%02d:%02d.%03dZ", millis / 3'600'000,
                millis / 60'000 % 60, millis / 1000 % 60, millis % 1000);
  return buffer;
}

}  // namespace sfbridge::sfsim::soql
