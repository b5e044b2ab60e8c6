#include "common/salesforce/limit_info.h"

#include <charconv>

namespace sfbridge::salesforce {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> ParseCount(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// "used/max" with nothing else around it.
bool ParseFraction(std::string_view s, int64_t& used, int64_t& max) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::optional<int64_t> u = ParseCount(s.substr(0, slash));
  std::optional<int64_t> m = ParseCount(s.substr(slash + 1));
  if (!u || !m) return false;
  used = *u;
  max = *m;
  return true;
}

}  // namespace

std::optional<LimitInfo> ParseLimitInfo(std::string_view header_value) {
  std::optional<LimitInfo> result;
  std::optional<AppUsage> per_app;
  while (!header_value.empty()) {
    size_t semi = header_value.find(';');
    std::string_view part = Trim(header_value.substr(0, semi));
    header_value =
        semi == std::string_view::npos ? std::string_view() : header_value.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = Trim(part.substr(0, eq));
    std::string_view value = Trim(part.substr(eq + 1));
    if (key == "api-usage") {
      LimitInfo info;
      if (!ParseFraction(value, info.used, info.max)) return std::nullopt;
      result = info;
    } else if (key == "per-app-api-usage") {
      AppUsage app;
      size_t paren = value.find('(');
      std::string_view counts = Trim(value.substr(0, paren));
      if (!ParseFraction(counts, app.used, app.max)) continue;
      if (paren != std::string_view::npos) {
        std::string_view rest = value.substr(paren + 1);
        if (rest.empty() || rest.back() != ')') continue;
        rest.remove_suffix(1);
        constexpr std::string_view kAppName = "appName=";
        if (rest.substr(0, kAppName.size()) == kAppName) {
          app.app_name = std::string(rest.substr(kAppName.size()));
        }
      }
      per_app = app;
    }
  }
  if (result) result->per_app = per_app;
  return result;
}

}  // namespace sfbridge::salesforce
