#pragma once

// Salesforce's date and time text, to and from the numbers RecordChange carries (reference §3).
// Pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfbridge::mapping {

// "2024-01-15T10:20:30.000+0000" (what the REST API sends), also "...Z", "...+01:00", with 0 to
// 9 fraction digits (beyond milliseconds truncated) -> UTC milliseconds since the Unix epoch.
// nullopt for anything else, including an impossible date (2024-02-30) or hour.
std::optional<int64_t> ParseDateTimeMillis(std::string_view text);
// "2024-01-15" -> days since 1970-01-01 (negative before).
std::optional<int32_t> ParseDateDays(std::string_view text);
// "10:20:30.000Z" (also without "Z" or without the fraction) -> milliseconds since midnight.
std::optional<int32_t> ParseTimeMillis(std::string_view text);

// UTC milliseconds -> the SOQL datetime literal with milliseconds: "2024-01-15T10:20:30.123Z".
std::string FormatSoqlDateTime(int64_t millis);
// UTC milliseconds -> the REST API's form: "2024-01-15T10:20:30.123+0000".
std::string FormatApiDateTime(int64_t millis);

}  // namespace sfbridge::mapping
