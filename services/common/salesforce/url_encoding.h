#pragma once

// Percent-encoding for query strings and form bodies (RFC 3986 unreserved characters pass
// through, everything else is %XX, space included). Thread-safe, pure.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sfbridge::salesforce {

std::string UrlEncode(std::string_view text);

// "k1=v1&k2=v2" with keys and values encoded; for query strings and
// application/x-www-form-urlencoded bodies.
std::string EncodeParams(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace sfbridge::salesforce
