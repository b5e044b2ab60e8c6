#include "sfsim/oauth/jwt.h"

#include <simdjson.h>

#include <charconv>

#include "absl/status/status.h"

namespace sfbridge::sfsim::oauth {
namespace {

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(std::string("malformed JWT: ") + std::string(what));
}

// Reads an optional string member; error when present with another type.
absl::Status ReadString(simdjson::dom::object object, std::string_view name, std::string& out) {
  simdjson::dom::element value;
  if (object.at_key(name).get(value) != simdjson::SUCCESS) return absl::OkStatus();
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return Malformed(std::string(name) + " is not a string");
  }
  out.assign(text);
  return absl::OkStatus();
}

absl::Status ReadAudience(simdjson::dom::object claims, std::vector<std::string>& out) {
  simdjson::dom::element value;
  if (claims.at_key("aud").get(value) != simdjson::SUCCESS) return absl::OkStatus();
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    out.emplace_back(text);
    return absl::OkStatus();
  }
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return Malformed("aud has the wrong type");
  for (simdjson::dom::element item : array) {
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return Malformed("aud has the wrong type");
    }
    out.emplace_back(text);
  }
  return absl::OkStatus();
}

absl::Status ReadExpiry(simdjson::dom::object claims, std::optional<int64_t>& out) {
  simdjson::dom::element value;
  if (claims.at_key("exp").get(value) != simdjson::SUCCESS) return absl::OkStatus();
  int64_t integer = 0;
  double real = 0;
  std::string_view text;
  if (value.get_int64().get(integer) == simdjson::SUCCESS) {
    out = integer;
  } else if (value.get_double().get(real) == simdjson::SUCCESS && real > -9e15 && real < 9e15) {
    // NumericDate may carry a fraction (RFC 7519 §2); whole seconds are enough here.
    out = static_cast<int64_t>(real);
  } else if (value.get_string().get(text) == simdjson::SUCCESS) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Malformed("exp is not a number");
    }
    out = integer;
  } else {
    return Malformed("exp is not a number");
  }
  return absl::OkStatus();
}

absl::StatusOr<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser,
                                                  const std::string& json, std::string_view part) {
  simdjson::dom::object object;
  if (parser.parse(json).get(object) != simdjson::SUCCESS) {
    return Malformed(std::string(part) + " is not a JSON object");
  }
  return object;
}

}  // namespace

bool Jwt::VerifyRs256(const RsaPublicKey& key) const {
  return alg == "RS256" && key.VerifyRs256(signing_input, signature);
}

absl::StatusOr<Jwt> DecodeJwt(std::string_view compact) {
  size_t first = compact.find('.');
  size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return Malformed("expected three dot-separated parts");
  }
  std::optional<std::string> header_json = Base64UrlDecode(compact.substr(0, first));
  std::optional<std::string> claims_json =
      Base64UrlDecode(compact.substr(first + 1, second - first - 1));
  std::optional<std::string> signature = Base64UrlDecode(compact.substr(second + 1));
  if (!header_json || !claims_json || !signature) return Malformed("a part is not base64url");

  Jwt jwt;
  jwt.signing_input.assign(compact.substr(0, second));
  jwt.signature = std::move(*signature);

  // One parser per document: a dom::object stays valid only until its parser parses again.
  simdjson::dom::parser header_parser;
  absl::StatusOr<simdjson::dom::object> header = ParseObject(header_parser, *header_json, "header");
  if (!header.ok()) return header.status();
  if (absl::Status s = ReadString(*header, "alg", jwt.alg); !s.ok()) return s;

  simdjson::dom::parser claims_parser;
  absl::StatusOr<simdjson::dom::object> claims = ParseObject(claims_parser, *claims_json, "claims");
  if (!claims.ok()) return claims.status();
  if (absl::Status s = ReadString(*claims, "iss", jwt.iss); !s.ok()) return s;
  if (absl::Status s = ReadString(*claims, "sub", jwt.sub); !s.ok()) return s;
  if (absl::Status s = ReadAudience(*claims, jwt.aud); !s.ok()) return s;
  if (absl::Status s = ReadExpiry(*claims, jwt.exp); !s.ok()) return s;
  return jwt;
}

}  // namespace sfbridge::sfsim::oauth
