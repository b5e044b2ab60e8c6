#include "common/mapping/datetime.h"

#include <cstdio>

namespace sfbridge::mapping {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

Civil CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at text[pos].
bool Digits(std::string_view text, size_t& pos, int n, int64_t& out) {
  if (pos + n > text.size()) return false;
  int64_t v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// YYYY-MM-DD -> days since the epoch.
bool ReadDate(std::string_view text, size_t& pos, int64_t& days) {
  int64_t y, m, d;
  if (!Digits(text, pos, 4, y) || !Expect(text, pos, '-') || !Digits(text, pos, 2, m) ||
      !Expect(text, pos, '-') || !Digits(text, pos, 2, d)) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, static_cast<int>(m))) return false;
  days = DaysFromCivil(y, m, d);
  return true;
}

// HH:MM:SS[.fraction] -> milliseconds since midnight.
bool ReadClock(std::string_view text, size_t& pos, int64_t& millis) {
  int64_t h, m, s;
  if (!Digits(text, pos, 2, h) || !Expect(text, pos, ':') || !Digits(text, pos, 2, m) ||
      !Expect(text, pos, ':') || !Digits(text, pos, 2, s)) {
    return false;
  }
  if (h > 23 || m > 59 || s > 59) return false;
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) fraction = fraction * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return false;
    for (int i = digits; i < 3; ++i) fraction *= 10;
  }
  millis = ((h * 60 + m) * 60 + s) * 1000 + fraction;
  return true;
}

std::string Format(int64_t millis, const char* zone) {
  int64_t days = millis / kMillisPerDay;
  int64_t in_day = millis % kMillisPerDay;
  if (in_day < 0) {
    in_day += kMillisPerDay;
    --days;
  }
  const Civil c = CivilFromDays(days);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04lld-%02d-%02dT%02d:%02d:%02d.%03d%s",
                static_cast<long long>(c.year), c.month, c.day,
                static_cast<int>(in_day / 3'600'000), static_cast<int>(in_day / 60'000 % 60),
                static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000), zone);
  return buffer;
}

}  // namespace

std::optional<int64_t> ParseDateTimeMillis(std::string_view text) {
  size_t pos = 0;
  int64_t days = 0, clock = 0;
  if (!ReadDate(text, pos, days) || !Expect(text, pos, 'T') || !ReadClock(text, pos, clock) ||
      pos >= text.size()) {
    return std::nullopt;
  }
  int64_t offset_minutes = 0;
  const char zone = text[pos++];
  if (zone == '+' || zone == '-') {
    int64_t hours = 0, minutes = 0;
    if (!Digits(text, pos, 2, hours)) return std::nullopt;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (!Digits(text, pos, 2, minutes) || hours > 23 || minutes > 59) return std::nullopt;
    offset_minutes = (hours * 60 + minutes) * (zone == '-' ? -1 : 1);
  } else if (zone != 'Z') {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  // Local time = UTC + offset.
  return days * kMillisPerDay + clock - offset_minutes * 60'000;
}

std::optional<int32_t> ParseDateDays(std::string_view text) {
  size_t pos = 0;
  int64_t days = 0;
  if (!ReadDate(text, pos, days) || pos != text.size()) return std::nullopt;
  return static_cast<int32_t>(days);
}

std::optional<int32_t> ParseTimeMillis(std::string_view text) {
  size_t pos = 0;
  int64_t clock = 0;
  if (!ReadClock(text, pos, clock)) return std::nullopt;
  if (pos < text.size() && text[pos] == 'Z') ++pos;
  if (pos != text.size()) return std::nullopt;
  return static_cast<int32_t>(clock);
}

std::string FormatSoqlDateTime(int64_t millis) { return Format(millis, "Z"); }

std::string FormatApiDateTime(int64_t millis) { return Format(millis, "+0000"); }

}  // namespace sfbridge::mapping
