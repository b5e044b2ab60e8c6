#include "common/mapping/datetime.h"

#include <cstdio>

#include "absl/time/civil_time.h"

namespace sfbridge::mapping {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

// Abseil's civil time rather than <chrono>'s calendar: a year there is an int64, so every int64
// instant formats and parses back (PostgreSQL's timestamps reach the year 294276; <chrono>'s
// year_month_day stops at 32767).
constexpr absl::CivilDay kEpoch(1970, 1, 1);

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
  // CivilDay normalizes an impossible day (2024-02-30 -> 2024-03-01): such a date is refused.
  const absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) return false;
  days = day - kEpoch;
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
  const absl::CivilDay c = kEpoch + days;
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04lld-%02d-%02dT%02d:%02d:%02d.%03d%s",
                static_cast<long long>(c.year()), c.month(), c.day(),
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
