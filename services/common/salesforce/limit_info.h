#pragma once

// The org's API usage, as Salesforce reports it on every REST reply:
//   Sforce-Limit-Info: api-usage=25/15000
//   Sforce-Limit-Info: api-usage=25/15000; per-app-api-usage=17/250(appName=sfbridge)
// Used and max count requests over a rolling 24 hours; the figures are approximate.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfbridge::salesforce {

inline constexpr std::string_view kLimitInfoHeader = "Sforce-Limit-Info";

struct AppUsage {
  int64_t used = 0;
  int64_t max = 0;
  std::string app_name;  // empty when the header names none

  bool operator==(const AppUsage&) const = default;
};

struct LimitInfo {
  int64_t used = 0;  // org-wide requests in the last 24 h
  int64_t max = 0;   // the org's daily allocation
  std::optional<AppUsage> per_app;

  bool operator==(const LimitInfo&) const = default;
};

// Parses the header's value. nullopt when it carries no well-formed api-usage (junk, negative or
// overflowing numbers); a malformed per-app part is ignored.
std::optional<LimitInfo> ParseLimitInfo(std::string_view header_value);

}  // namespace sfbridge::salesforce
