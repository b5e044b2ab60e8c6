#include "common/salesforce/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <map>
#include <memory>

#include "absl/strings/escaping.h"

namespace sfbridge::salesforce {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const core::Clock::WallTime kNow{std::chrono::seconds(1'700'000'000)};

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    size_t eq = pair.find('=');
    out[UrlDecode(pair.substr(0, eq))] = UrlDecode(pair.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return out;
}

std::string Base64UrlDecode(std::string_view in) {
  std::string s(in);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  std::string out(s.size() / 4 * 3, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  EXPECT_GE(n, 0);
  size_t pad = std::count(s.end() - 2, s.end(), '=');
  out.resize(n - pad);
  return out;
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// A throwaway RSA key pair; PEM of the private key, and the key for verifying.
struct TestKey {
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  std::string private_pem;

  TestKey() : key(EVP_RSA_gen(2048)) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    private_pem.assign(data, len);
  }

  bool Verify(std::string_view signed_part, std::string_view signature) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(signed_part.data()),
                            signed_part.size()) == 1;
  }
};

const TestKey& Key() {
  static const TestKey* key = new TestKey();
  return *key;
}

Credentials PasswordCredentials() {
  Credentials c;
  c.flow = AuthFlow::kPassword;
  c.login_url = "https://login.example.com";
  c.client_id = "3MVG9client";
  c.client_secret = "S3cr3t-client";
  c.username = "integration@example.com";
  c.password = "p@ss word&token=1";
  return c;
}

TEST(AuthTest, PasswordFlowRequest) {
  absl::StatusOr<HttpRequest> request = BuildTokenRequest(PasswordCredentials(), kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url, "https://login.example.com/services/oauth2/token");
  EXPECT_EQ(FindHeader(request->headers, "content-type"), "application/x-www-form-urlencoded");
  EXPECT_THAT(request->body, HasSubstr("password=p%40ss%20word%26token%3D1"));
  EXPECT_EQ(ParseForm(request->body),
            (std::map<std::string, std::string>{{"grant_type", "password"},
                                                {"client_id", "3MVG9client"},
                                                {"client_secret", "S3cr3t-client"},
                                                {"username", "integration@example.com"},
                                                {"password", "p@ss word&token=1"}}));
}

TEST(AuthTest, ClientCredentialsFlowRequest) {
  Credentials c = PasswordCredentials();
  c.flow = AuthFlow::kClientCredentials;
  c.login_url = "https://acme.my.salesforce.com/";
  absl::StatusOr<HttpRequest> request = BuildTokenRequest(c, kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->url, "https://acme.my.salesforce.com/services/oauth2/token");
  EXPECT_EQ(ParseForm(request->body),
            (std::map<std::string, std::string>{{"grant_type", "client_credentials"},
                                                {"client_id", "3MVG9client"},
                                                {"client_secret", "S3cr3t-client"}}));
}

TEST(AuthTest, RefreshTokenFlowRequestWithAndWithoutSecret) {
  Credentials c = PasswordCredentials();
  c.flow = AuthFlow::kRefreshToken;
  c.refresh_token = "5Aep-refresh";
  absl::StatusOr<HttpRequest> request = BuildTokenRequest(c, kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(ParseForm(request->body),
            (std::map<std::string, std::string>{{"grant_type", "refresh_token"},
                                                {"refresh_token", "5Aep-refresh"},
                                                {"client_id", "3MVG9client"},
                                                {"client_secret", "S3cr3t-client"}}));
  c.client_secret.clear();
  request = BuildTokenRequest(c, kNow);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(ParseForm(request->body).count("client_secret"), 0u);
}

TEST(AuthTest, JwtBearerAssertionIsSignedWithTheKey) {
  Credentials c;
  c.flow = AuthFlow::kJwtBearer;
  c.login_url = "https://test.salesforce.com";
  c.client_id = "3MVG9consumer";
  c.username = "jwt@example.com";
  c.private_key_pem = Key().private_pem;
  absl::StatusOr<HttpRequest> request = BuildTokenRequest(c, kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  std::map<std::string, std::string> form = ParseForm(request->body);
  EXPECT_EQ(form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
  EXPECT_EQ(form.size(), 2u);  // no secret is sent
  const std::string& jwt = form["assertion"];
  size_t dot1 = jwt.find('.');
  size_t dot2 = jwt.find('.', dot1 + 1);
  ASSERT_NE(dot2, std::string::npos);
  EXPECT_EQ(jwt.find_first_of("=+/"), std::string::npos);  // base64url, unpadded
  EXPECT_EQ(Base64UrlDecode(jwt.substr(0, dot1)), R"({"alg":"RS256"})");
  EXPECT_EQ(Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)),
            R"({"iss":"3MVG9consumer","sub":"jwt@example.com",)"
            R"("aud":"https://test.salesforce.com","exp":1700000180})");
  std::string signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  EXPECT_EQ(signature.size(), 256u);
  EXPECT_TRUE(Key().Verify(jwt.substr(0, dot2), signature));
  std::string tampered = jwt.substr(0, dot2);
  tampered[dot1 + 3] ^= 1;
  EXPECT_FALSE(Key().Verify(tampered, signature));
}

TEST(AuthTest, JwtWithAnUnusableKeyIsRefusedWithoutQuotingIt) {
  Credentials c;
  c.flow = AuthFlow::kJwtBearer;
  c.client_id = "id";
  c.username = "u";
  c.private_key_pem =
      "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n";
  absl::StatusOr<HttpRequest> request = BuildTokenRequest(c, kNow);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(request.status().message()), Not(HasSubstr("TOPSECRET")));
}

TEST(AuthTest, MissingFieldIsNamed) {
  Credentials c = PasswordCredentials();
  c.password.clear();
  absl::StatusOr<HttpRequest> request = BuildTokenRequest(c, kNow);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(request.status().message()), HasSubstr("needs password"));
}

TEST(AuthTest, ParsesTokenReply) {
  HttpResponse response{200, {}, R"({
    "access_token": "00Dxx!AQ4AQFake", "instance_url": "https://acme.my.salesforce.com",
    "id": "https://login.salesforce.com/id/00D5g000004ABCDEAA/0055g000003XYZWAA4",
    "token_type": "Bearer", "issued_at": "1700000123456", "signature": "abc="})"};
  absl::StatusOr<Token> token = ParseTokenReply(response, kNow);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->access_token, "00Dxx!AQ4AQFake");
  EXPECT_EQ(token->instance_url, "https://acme.my.salesforce.com");
  EXPECT_EQ(token->org_id, "00D5g000004ABCDEAA");
  EXPECT_EQ(token->user_id, "0055g000003XYZWAA4");
  EXPECT_EQ(core::ToUnixMillis(token->issued_at), 1700000123456);
}

TEST(AuthTest, TokenReplyWithoutIssuedAtUsesNow) {
  absl::StatusOr<Token> token = ParseTokenReply(
      {200, {}, R"({"access_token":"t","instance_url":"https://x.example.com/"})"}, kNow);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->issued_at, kNow);
  EXPECT_EQ(token->instance_url, "https://x.example.com");
  EXPECT_FALSE(ParseTokenReply({200, {}, R"({"instance_url":"https://x"})"}, kNow).ok());
}

TEST(AuthTest, OAuthErrorsBecomeStatuses) {
  struct Case {
    int http;
    const char* error;
    absl::StatusCode code;
  };
  for (const Case& c : std::vector<Case>{
           {400, "invalid_grant", absl::StatusCode::kUnauthenticated},
           {400, "invalid_client", absl::StatusCode::kUnauthenticated},
           {400, "invalid_client_id", absl::StatusCode::kUnauthenticated},
           {400, "inactive_user", absl::StatusCode::kPermissionDenied},
           {400, "inactive_org", absl::StatusCode::kPermissionDenied},
           {400, "unsupported_grant_type", absl::StatusCode::kInvalidArgument},
           {400, "rate_limit_exceeded", absl::StatusCode::kResourceExhausted},
           {503, "server_error", absl::StatusCode::kUnavailable},
       }) {
    HttpResponse response{c.http,
                          {},
                          std::string(R"({"error":")") + c.error +
                              R"(","error_description":"authentication failure"})"};
    absl::StatusOr<Token> token = ParseTokenReply(response, kNow);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.status().code(), c.code) << c.error;
    EXPECT_THAT(std::string(token.status().message()), HasSubstr(c.error));
    EXPECT_THAT(std::string(token.status().message()), HasSubstr("authentication failure"));
  }
}

TEST(AuthTest, DescribeMasksEverySecret) {
  Credentials c = PasswordCredentials();
  c.refresh_token = "5Aep-refresh";
  c.private_key_pem = Key().private_pem;
  std::string described = c.Describe();
  EXPECT_THAT(described, HasSubstr("flow=password"));
  EXPECT_THAT(described, HasSubstr("client_id=3MVG9client"));
  EXPECT_THAT(described, HasSubstr("username=integration@example.com"));
  for (const std::string& secret : {c.client_secret, c.password, c.refresh_token,
                                    std::string("PRIVATE KEY"), Key().private_pem.substr(40, 20)}) {
    EXPECT_THAT(described, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(described, HasSubstr("password=***"));
  c.refresh_token.clear();
  EXPECT_THAT(c.Describe(), HasSubstr("refresh_token=<unset>"));
}

// A JWT's parts are base64url without padding (RFC 7515 §2): Abseil's web-safe form.
TEST(AuthTest, JwtPartsUseUnpaddedBase64Url) {
  EXPECT_EQ(absl::WebSafeBase64Escape(""), "");
  EXPECT_EQ(absl::WebSafeBase64Escape("f"), "Zg");
  EXPECT_EQ(absl::WebSafeBase64Escape("fo"), "Zm8");
  EXPECT_EQ(absl::WebSafeBase64Escape("foo"), "Zm9v");
  EXPECT_EQ(absl::WebSafeBase64Escape("\xfb\xff\xbf"), "-_-_");
}

}  // namespace
}  // namespace sfbridge::salesforce
