#include "sfsim/oauth/jwt.h"

#include <gtest/gtest.h>

#include "sfsim/oauth/crypto.h"
#include "tests/sfsim/oauth/test_keys.h"

namespace sfbridge::sfsim::oauth {
namespace {

using testing::B64Url;
using testing::GenerateRsaKey;
using testing::PrivateKey;
using testing::PublicKeyPem;
using testing::SelfSignedCertificatePem;
using testing::SignedJwt;

const PrivateKey& Key() {
  static const PrivateKey* key = new PrivateKey(GenerateRsaKey());
  return *key;
}

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
}

TEST(Base64Test, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(Base64UrlDecode("Zm9vYg"), "foob");
  EXPECT_EQ(Base64UrlDecode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64UrlDecode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_EQ(Base64Decode("+/8="), "\xfb\xff");
  EXPECT_EQ(Base64UrlDecode(""), "");
}

TEST(Base64Test, RejectsMalformedInput) {
  EXPECT_EQ(Base64UrlDecode("+/8"), std::nullopt);    // standard alphabet in base64url
  EXPECT_EQ(Base64Decode("-_8="), std::nullopt);      // base64url alphabet in standard
  EXPECT_EQ(Base64UrlDecode("Zm9vY"), std::nullopt);  // impossible length
  EXPECT_EQ(Base64UrlDecode("Zm 9v"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zh"), std::nullopt);  // non-zero trailing bits
}

TEST(CryptoTest, RandomBase62HasTheLengthAndAlphabet) {
  std::string a = RandomBase62(200);
  std::string b = RandomBase62(200);
  EXPECT_EQ(a.size(), 200u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
}

TEST(CryptoTest, HmacMatchesRfc4231Case2) {
  std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  std::string hex;
  for (unsigned char c : mac) {
    static const char* kDigits = "0123456789abcdef";
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(RsaPublicKeyTest, LoadsCertificateAndPublicKeyPem) {
  EXPECT_TRUE(RsaPublicKey::FromPem(SelfSignedCertificatePem(Key().get())).ok());
  EXPECT_TRUE(RsaPublicKey::FromPem(PublicKeyPem(Key().get())).ok());
}

TEST(RsaPublicKeyTest, RejectsGarbageAndNonRsaKeys) {
  EXPECT_FALSE(RsaPublicKey::FromPem("").ok());
  EXPECT_FALSE(
      RsaPublicKey::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());
  sfbridge::testing::PrivateKey ec(EVP_EC_gen("P-256"));
  ASSERT_TRUE(ec);
  absl::StatusOr<RsaPublicKey> key = RsaPublicKey::FromPem(PublicKeyPem(ec.get()));
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("not an RSA key"), absl::string_view::npos);
}

TEST(JwtTest, DecodesAndVerifiesAnRs256Token) {
  std::string compact =
      SignedJwt(Key().get(), R"({"iss":"client","sub":"user@example.com",)"
                             R"("aud":"https://login.salesforce.com","exp":1700000100})");
  absl::StatusOr<Jwt> jwt = DecodeJwt(compact);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->alg, "RS256");
  EXPECT_EQ(jwt->iss, "client");
  EXPECT_EQ(jwt->sub, "user@example.com");
  EXPECT_EQ(jwt->aud, std::vector<std::string>{"https://login.salesforce.com"});
  EXPECT_EQ(jwt->exp, 1700000100);
  absl::StatusOr<RsaPublicKey> key = RsaPublicKey::FromPem(PublicKeyPem(Key().get()));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(jwt->VerifyRs256(*key));
}

TEST(JwtTest, ATamperedClaimSetFailsVerification) {
  std::string compact = SignedJwt(Key().get(), R"({"iss":"client","sub":"a","exp":1})");
  size_t first = compact.find('.');
  size_t second = compact.find('.', first + 1);
  std::string forged = compact.substr(0, first + 1) +
                       B64Url(R"({"iss":"client","sub":"b","exp":1})") + compact.substr(second);
  absl::StatusOr<Jwt> jwt = DecodeJwt(forged);
  ASSERT_TRUE(jwt.ok());
  absl::StatusOr<RsaPublicKey> key = RsaPublicKey::FromPem(PublicKeyPem(Key().get()));
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(jwt->VerifyRs256(*key));
}

TEST(JwtTest, AnotherKeysSignatureFailsVerification) {
  PrivateKey other = GenerateRsaKey();
  absl::StatusOr<Jwt> jwt = DecodeJwt(SignedJwt(other.get(), R"({"iss":"client"})"));
  ASSERT_TRUE(jwt.ok());
  absl::StatusOr<RsaPublicKey> key = RsaPublicKey::FromPem(PublicKeyPem(Key().get()));
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(jwt->VerifyRs256(*key));
}

TEST(JwtTest, AcceptsAnAudienceArrayAndAStringExpiry) {
  absl::StatusOr<Jwt> jwt =
      DecodeJwt(SignedJwt(Key().get(), R"({"aud":["https://a","https://b"],"exp":"1584974785"})"));
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->aud, (std::vector<std::string>{"https://a", "https://b"}));
  EXPECT_EQ(jwt->exp, 1584974785);
}

TEST(JwtTest, RejectsMalformedTokens) {
  std::string header = B64Url(R"({"alg":"RS256"})");
  std::string claims = B64Url(R"({"iss":"client"})");
  EXPECT_FALSE(DecodeJwt("").ok());
  EXPECT_FALSE(DecodeJwt(header + "." + claims).ok());
  EXPECT_FALSE(DecodeJwt(header + "." + claims + ".sig.extra").ok());
  EXPECT_FALSE(DecodeJwt(header + ".!!!." + "c2ln").ok());
  EXPECT_FALSE(DecodeJwt(B64Url("not json") + "." + claims + ".c2ln").ok());
  EXPECT_FALSE(DecodeJwt(header + "." + B64Url("[1,2]") + ".c2ln").ok());
  EXPECT_FALSE(DecodeJwt(header + "." + B64Url(R"({"iss":7})") + ".c2ln").ok());
  EXPECT_FALSE(DecodeJwt(header + "." + B64Url(R"({"exp":"soon"})") + ".c2ln").ok());
  EXPECT_FALSE(DecodeJwt(header + "." + B64Url(R"({"aud":[1]})") + ".c2ln").ok());
}

TEST(JwtTest, ErrorsDoNotQuoteTheToken) {
  std::string secretish = B64Url(R"({"alg":"RS256"})") + "." + B64Url("SECRET-CLAIMS") + ".c2ln";
  absl::StatusOr<Jwt> jwt = DecodeJwt(secretish);
  ASSERT_FALSE(jwt.ok());
  EXPECT_EQ(std::string(jwt.status().message()).find("SECRET"), std::string::npos);
}

}  // namespace
}  // namespace sfbridge::sfsim::oauth
