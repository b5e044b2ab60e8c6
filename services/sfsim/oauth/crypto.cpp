#include "sfsim/oauth/crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <stdexcept>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"

namespace sfbridge::sfsim::oauth {
namespace {

constexpr std::string_view kBase62Alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Abseil's decoders also take forms no encoder writes (bits set past the last byte, padding
// where it does not belong); only the one encoding of the bytes, with or without its padding,
// is taken here, as a token or a JWT part must be.
// Debian's Abseil has a string_view of its own.
absl::string_view ToAbsl(std::string_view text) { return {text.data(), text.size()}; }

bool IsCanonical(std::string_view text, std::string encoded) {
  while (encoded.ends_with('=')) encoded.pop_back();
  if (text == encoded) return true;
  encoded.append((4 - encoded.size() % 4) % 4, '=');
  return text == encoded;
}

}  // namespace

std::string Base64Encode(std::string_view data) { return absl::Base64Escape(ToAbsl(data)); }

std::string Base64UrlEncode(std::string_view data) {
  return absl::WebSafeBase64Escape(ToAbsl(data));
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  if (!absl::WebSafeBase64Unescape(ToAbsl(text), &out)) return std::nullopt;
  if (!IsCanonical(text, absl::WebSafeBase64Escape(out))) return std::nullopt;
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out;
  if (!absl::Base64Unescape(ToAbsl(text), &out) || !IsCanonical(text, absl::Base64Escape(out))) {
    return std::nullopt;
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_size = 0;
  // An empty key is legal for HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const void* key_data = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &out_size) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), out_size);
}

std::string Sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_size = 0;
  if (EVP_Digest(data.data(), data.size(), out, &out_size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), out_size);
}

std::string RandomBase62(size_t length) {
  std::string out;
  out.reserve(length);
  unsigned char buffer[64];
  while (out.size() < length) {
    if (RAND_bytes(buffer, sizeof(buffer)) != 1) {
      throw std::runtime_error("the OpenSSL random generator failed");
    }
    for (unsigned char b : buffer) {
      // 248 = 4 * 62: rejecting the top bytes keeps every character equally likely.
      if (b >= 248) continue;
      out.push_back(kBase62Alphabet[b % 62]);
      if (out.size() == length) break;
    }
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void RsaPublicKey::Deleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

absl::StatusOr<RsaPublicKey> RsaPublicKey::FromPem(std::string_view pem) {
  auto read_bio = [&] {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  };
  EVP_PKEY* key = nullptr;
  {
    auto bio = read_bio();
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
    if (cert) key = X509_get_pubkey(cert.get());
  }
  if (key == nullptr) {
    auto bio = read_bio();
    key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  }
  // The failed attempts leave entries on OpenSSL's thread-local error queue.
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        "the JWT certificate is neither a PEM X.509 certificate nor a PEM public key");
  }
  RsaPublicKey result(key);
  if (EVP_PKEY_is_a(key, "RSA") != 1) {
    return absl::InvalidArgumentError("the JWT certificate's key is not an RSA key");
  }
  return result;
}

bool RsaPublicKey::VerifyRs256(std::string_view data, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  // EVP_DigestVerifyInit defaults an RSA key to PKCS#1 v1.5 padding, which RS256 is.
  int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  if (ok != 1) ERR_clear_error();
  return ok == 1;
}

}  // namespace sfbridge::sfsim::oauth
