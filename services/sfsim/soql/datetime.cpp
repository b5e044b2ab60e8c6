#include "sfsim/soql/datetime.h"

#include <chrono>
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

// Reads `YYYY-MM-DD` at `pos`: a real calendar day of the years 0001..9999.
bool ReadDate(std::string_view text, std::size_t& pos, std::chrono::year_month_day& date) {
  int year = 0, month = 0, day = 0;
  if (!ReadDigits(text, pos, 4, year) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, month) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, day)) {
    return false;
  }
  date = std::chrono::year_month_day(std::chrono::year(year),
                                     std::chrono::month(static_cast<unsigned>(month)),
                                     std::chrono::day(static_cast<unsigned>(day)));
  return year >= 1 && date.ok();
}

std::int64_t DaysSinceEpoch(std::chrono::year_month_day date) {
  return std::chrono::sys_days(date).time_since_epoch().count();
}

std::chrono::year_month_day DateOf(std::int64_t days) {
  return std::chrono::year_month_day(std::chrono::sys_days(std::chrono::days(days)));
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

std::optional<std::int32_t> ParseDate(std::string_view text) {
  std::size_t pos = 0;
  std::chrono::year_month_day date;
  if (!ReadDate(text, pos, date) || pos != text.size()) return std::nullopt;
  return static_cast<std::int32_t>(DaysSinceEpoch(date));
}

std::optional<std::int64_t> ParseDateTime(std::string_view text) {
  std::size_t pos = 0;
  std::chrono::year_month_day date;
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
  return DaysSinceEpoch(date) * kMillisPerDay + clock - offset_minutes * 60'000;
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
  const std::chrono::year_month_day date = DateOf(days);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
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
  const std::chrono::year_month_day date = DateOf(days);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d.%03d%s",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(in_day / 3'600'000),
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
