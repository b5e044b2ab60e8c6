#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Calendar arithmetic and the text forms of SOQL dates, datetimes and times. All instants are
// UTC; the proleptic Gregorian calendar is used for years 0001..9999, the range every text form
// here is parsed from and formatted to (<chrono>'s calendar does the arithmetic).
namespace sfbridge::sfsim::soql {

inline constexpr std::int64_t kMillisPerDay = 86'400'000;

// `YYYY-MM-DD` → days since the epoch; nullopt when malformed or not a real calendar day.
std::optional<std::int32_t> ParseDate(std::string_view text);

// `YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm|±hhmm)` → milliseconds since the epoch, normalised to
// UTC. Fractions below a millisecond are truncated. nullopt when malformed.
std::optional<std::int64_t> ParseDateTime(std::string_view text);

// `hh:mm:ss[.f{1,9}][Z]` → milliseconds since midnight; nullopt when malformed.
std::optional<std::int32_t> ParseTime(std::string_view text);

// `2024-01-15`.
std::string FormatDate(std::int64_t days);
// `2024-01-15T10:20:30.000+0000`: what Salesforce's REST API writes into JSON.
std::string FormatDateTime(std::int64_t millis);
// `2024-01-15T10:20:30.000Z`: a form the SOQL parser accepts back.
std::string FormatDateTimeLiteral(std::int64_t millis);
// `10:20:30.000Z`.
std::string FormatTime(std::int32_t millis);

}  // namespace sfbridge::sfsim::soql
