#pragma once

// Decoding of a compact JWS (RFC 7515) carrying a JWT claims set (RFC 7519), as sent in the
// OAuth 2.0 JWT bearer flow (RFC 7523). Decoding only checks structure; the caller checks the
// algorithm, the signature (Jwt::VerifyRs256) and the claims, in the order its errors require.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sfsim/oauth/crypto.h"

namespace sfbridge::sfsim::oauth {

struct Jwt {
  // Header.
  std::string alg;
  // Claims; empty or nullopt when absent. `aud` may be one string or an array of strings.
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;
  // Epoch seconds. A numeric string is accepted too, as some clients send one.
  std::optional<int64_t> exp;

  // "base64url(header).base64url(claims)", the bytes the signature covers.
  std::string signing_input;
  // The decoded signature bytes.
  std::string signature;

  // True when the header names RS256 and the signature verifies against `key`.
  bool VerifyRs256(const RsaPublicKey& key) const;
};

// InvalidArgument when `compact` is not three base64url parts whose first two are JSON objects,
// or when a registered claim has the wrong type. The message never quotes the input.
absl::StatusOr<Jwt> DecodeJwt(std::string_view compact);

}  // namespace sfbridge::sfsim::oauth
