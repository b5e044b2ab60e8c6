#pragma once

// The AuthServer under test with a simulated clock, a generated RSA key and helpers to build
// token requests and read replies. Shared by the flow tests.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "Poco/URI.h"
#include "common/core/strings.h"
#include "sfsim/oauth/auth_server.h"
#include "tests/fakes/fake_clock.h"
#include "tests/sfsim/oauth/test_keys.h"

namespace sfbridge::sfsim::oauth {

using sfbridge::testing::B64;
using sfbridge::testing::B64Url;
using sfbridge::testing::FakeClock;
using sfbridge::testing::GenerateRsaKey;
using sfbridge::testing::PrivateKey;
using sfbridge::testing::PublicKeyPem;
using sfbridge::testing::SelfSignedCertificatePem;
using sfbridge::testing::SignedJwt;

inline constexpr char kClientId[] = "3MVG9simulatedConsumerKey.for_tests";
inline constexpr char kClientSecret[] = "CLIENT-SECRET-9f8e7d";
inline constexpr char kUsername[] = "integration@example.com";
inline constexpr char kPassword[] = "PASSWORD-hunter2TOKENxyz";
inline constexpr char kRefreshToken[] = "5Aep861REFRESH-TOKEN-abc";
inline constexpr char kOrgId[] = "00D5g000004XyZaEAK";
inline constexpr char kUserId[] = "0055g000001AbCdAAK";
inline constexpr char kInstanceUrl[] = "http://127.0.0.1:8443";
inline constexpr char kLoginUrl[] = "http://127.0.0.1:8443";

inline const PrivateKey& Key() {
  static const PrivateKey* key = new PrivateKey(GenerateRsaKey());
  return *key;
}

inline const PrivateKey& OtherKey() {
  static const PrivateKey* key = new PrivateKey(GenerateRsaKey());
  return *key;
}

inline std::string FormEncode(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name + "=";
    // RFC 3986's reserved characters too: only the unreserved ones pass.
    Poco::URI::encode(value, ":/?#[]@!$&'()*+,;=", out);
  }
  return out;
}

inline Request TokenRequest(const std::map<std::string, std::string>& params) {
  Request r;
  r.method = "POST";
  r.path = std::string(kTokenPath);
  r.headers["content-type"] = "application/x-www-form-urlencoded";
  r.body = FormEncode(params);
  return r;
}

inline Request ApiRequest(const std::string& authorization) {
  Request r;
  r.method = "GET";
  r.path = "/services/data/v59.0/limits";
  if (!authorization.empty()) r.headers["authorization"] = authorization;
  return r;
}

// Every member of a flat JSON object, numbers and strings alike as text.
inline std::map<std::string, std::string> Fields(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  EXPECT_EQ(parser.parse(body).get(object), simdjson::SUCCESS) << body;
  std::map<std::string, std::string> out;
  for (auto [key, value] : object) {
    std::string_view text;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
      out[std::string(key)] = std::string(text);
    } else {
      out[std::string(key)] = simdjson::to_string(value);
    }
  }
  return out;
}

inline std::string HeaderValue(const Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

inline int64_t EpochSeconds(const FakeClock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
}

class AuthServerTest : public ::testing::Test {
 protected:
  static OAuthConfig Config() {
    OAuthConfig c;
    c.client_id = kClientId;
    c.client_secret = kClientSecret;
    c.username = kUsername;
    c.password = kPassword;
    c.jwt_certificate_pem = SelfSignedCertificatePem(Key().get());
    c.refresh_tokens = {"another-refresh-token", kRefreshToken};
    c.instance_url = kInstanceUrl;
    c.login_url = kLoginUrl;
    c.org_id = kOrgId;
    c.user_id = kUserId;
    return c;
  }

  std::map<std::string, std::string> PasswordParams() const {
    return {{"grant_type", "password"},
            {"client_id", kClientId},
            {"client_secret", kClientSecret},
            {"username", kUsername},
            {"password", kPassword}};
  }

  std::string Claims(std::string_view aud = "https://login.salesforce.com",
                     int64_t exp_offset = 180, std::string_view iss = kClientId,
                     std::string_view sub = kUsername) const {
    return core::StrCat(R"({"iss":")", iss, R"(","sub":")", sub, R"(","aud":")", aud, R"(","exp":)",
                        EpochSeconds(clock_) + exp_offset, "}");
  }

  Response Jwt(const std::string& assertion) {
    return server_->HandleToken(
        TokenRequest({{"grant_type", std::string(kJwtBearerGrant)}, {"assertion", assertion}}));
  }

  // The access token of a successful reply, after checking the reply is one.
  std::string Token(const Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    return Fields(r.body)["access_token"];
  }

  void ExpectError(const Response& r, int status, const std::string& error,
                   const std::string& description) {
    EXPECT_EQ(r.status, status) << r.body;
    std::map<std::string, std::string> fields = Fields(r.body);
    EXPECT_EQ(fields["error"], error) << r.body;
    EXPECT_EQ(fields["error_description"], description) << r.body;
    EXPECT_EQ(fields.size(), 2u) << r.body;
    replies_.push_back(r);
  }

  bool Authenticates(const std::string& token) const {
    return !server_->Authenticate(ApiRequest("Bearer " + token)).has_value();
  }

  FakeClock clock_;
  std::unique_ptr<AuthServer> server_ = std::make_unique<AuthServer>(Config(), clock_);
  // Every reply the test saw, for the check that none carries a secret.
  std::vector<Response> replies_;
};

}  // namespace sfbridge::sfsim::oauth
