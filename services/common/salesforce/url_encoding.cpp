#include "common/salesforce/url_encoding.h"

#include "Poco/URI.h"

namespace sfbridge::salesforce {
namespace {

// RFC 3986's reserved characters. Poco::URI::encode escapes these, every byte outside printable
// ASCII and the characters URIs may not hold (", %, <, > ...), and lets the rest through: with
// this set, only the unreserved characters (A-Z a-z 0-9 - . _ ~) pass.
constexpr char kReserved[] = ":/?#[]@!$&'()*+,;=";

}  // namespace

std::string UrlEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 2);
  Poco::URI::encode(std::string(text), kReserved, out);
  return out;
}

std::string EncodeParams(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    Poco::URI::encode(key, kReserved, out);
    out.push_back('=');
    Poco::URI::encode(value, kReserved, out);
  }
  return out;
}

}  // namespace sfbridge::salesforce
