#pragma once

// The few cryptographic primitives the authorization server needs, over OpenSSL 3's EVP APIs.
// Every function is thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace sfbridge::sfsim::oauth {

// Standard base64 (RFC 4648 §4) with padding.
std::string Base64Encode(std::string_view data);
// Base64url (RFC 4648 §5) without padding, as JWTs use it.
std::string Base64UrlEncode(std::string_view data);
// Decodes base64url. Padding is optional; nullopt on any character outside the alphabet or an
// impossible length.
std::optional<std::string> Base64UrlDecode(std::string_view text);
// Decodes standard base64 with optional padding; nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view text);

// Raw 32-byte HMAC-SHA256 of `data` keyed by `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);

// `length` characters of [0-9A-Za-z] from the OpenSSL CSPRNG, uniformly distributed.
std::string RandomBase62(size_t length);

// Comparison whose time depends only on the lengths, for secrets.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// An RSA public key that verifies RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signatures.
// Immutable once built; Verify may be called from any number of threads at once.
class RsaPublicKey {
 public:
  // Accepts a PEM X.509 certificate ("BEGIN CERTIFICATE", as uploaded to a connected app) or a
  // PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"). InvalidArgument when neither parses or the
  // key is not RSA.
  static absl::StatusOr<RsaPublicKey> FromPem(std::string_view pem);

  // True when `signature` is a valid RS256 signature of `data`.
  bool VerifyRs256(std::string_view data, std::string_view signature) const;

 private:
  struct Deleter {
    void operator()(EVP_PKEY* key) const;
  };
  explicit RsaPublicKey(EVP_PKEY* key) : key_(key) {}
  std::unique_ptr<EVP_PKEY, Deleter> key_;
};

}  // namespace sfbridge::sfsim::oauth
