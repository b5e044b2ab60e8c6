// The JWT bearer flow (RFC 7523) end to end: assertions made and signed in the test.

#include <gtest/gtest.h>

#include "sfsim/oauth/auth_server.h"
#include "tests/sfsim/oauth/auth_server_fixture.h"

namespace sfbridge::sfsim::oauth {
namespace {

TEST_F(AuthServerTest, JwtBearerWithCertificate) {
  Response r = Jwt(SignedJwt(Key().get(), Claims()));
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, std::string> f = Fields(r.body);
  // Salesforce's JWT bearer reply: no signature, no issued_at, no refresh token.
  EXPECT_EQ(f.size(), 5u) << r.body;
  EXPECT_EQ(f["scope"], "api refresh_token");
  EXPECT_EQ(f["instance_url"], kInstanceUrl);
  EXPECT_EQ(f["id"], std::string(kLoginUrl) + "/id/" + kOrgId + "/" + kUserId);
  EXPECT_EQ(f["token_type"], "Bearer");
  EXPECT_TRUE(Authenticates(f["access_token"]));
  replies_.push_back(r);
}

TEST_F(AuthServerTest, JwtBearerWithPublicKeyPem) {
  OAuthConfig config = Config();
  config.jwt_certificate_pem = PublicKeyPem(Key().get());
  AuthServer server(config, clock_);
  Response r = server.HandleToken(TokenRequest({{"grant_type", std::string(kJwtBearerGrant)},
                                                {"assertion", SignedJwt(Key().get(), Claims())}}));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(AuthServerTest, JwtBearerAcceptsEveryLoginAudience) {
  for (std::string aud :
       {"https://login.salesforce.com", "https://test.salesforce.com", kLoginUrl}) {
    EXPECT_EQ(Jwt(SignedJwt(Key().get(), Claims(aud))).status, 200) << aud;
  }
  std::string array_aud =
      core::StrCat(R"({"iss":")", kClientId, R"(","sub":")", kUsername,
                   R"(","aud":["https://elsewhere","https://test.salesforce.com"],"exp":)",
                   EpochSeconds(clock_) + 60, "}");
  EXPECT_EQ(Jwt(SignedJwt(Key().get(), array_aud)).status, 200);
}

TEST_F(AuthServerTest, JwtSignedByAnotherKeyIsAnInvalidAssertion) {
  ExpectError(Jwt(SignedJwt(OtherKey().get(), Claims())), 400, "invalid_grant",
              "invalid assertion");
}

TEST_F(AuthServerTest, JwtExpiredOrTooFarAhead) {
  ExpectError(Jwt(SignedJwt(Key().get(), Claims("https://login.salesforce.com", -1))), 400,
              "invalid_grant", "expired authorization code");
  ExpectError(Jwt(SignedJwt(Key().get(), Claims("https://login.salesforce.com", 0))), 400,
              "invalid_grant", "expired authorization code");
  ExpectError(Jwt(SignedJwt(Key().get(), Claims("https://login.salesforce.com", 3600))), 400,
              "invalid_grant", "invalid assertion");
  // A valid assertion stops working once the clock passes its exp.
  std::string assertion = SignedJwt(Key().get(), Claims("https://login.salesforce.com", 60));
  EXPECT_EQ(Jwt(assertion).status, 200);
  clock_.Advance(std::chrono::seconds(61));
  ExpectError(Jwt(assertion), 400, "invalid_grant", "expired authorization code");
}

TEST_F(AuthServerTest, JwtWithoutExpiryIsAnInvalidAssertion) {
  std::string claims = core::StrCat(R"({"iss":")", kClientId, R"(","sub":")", kUsername,
                                    R"(","aud":"https://login.salesforce.com"})");
  ExpectError(Jwt(SignedJwt(Key().get(), claims)), 400, "invalid_grant", "invalid assertion");
}

TEST_F(AuthServerTest, JwtWithWrongAudience) {
  ExpectError(Jwt(SignedJwt(Key().get(), Claims("https://mycompany.my.salesforce.com"))), 400,
              "invalid_grant", "audience is invalid");
  ExpectError(Jwt(SignedJwt(Key().get(), Claims("https://login.salesforce.com/"))), 400,
              "invalid_grant", "audience is invalid");
}

TEST_F(AuthServerTest, JwtWithWrongIssuerOrSubject) {
  ExpectError(Jwt(SignedJwt(Key().get(), Claims("https://login.salesforce.com", 60, "3MVG9other"))),
              400, "invalid_client_id", "client identifier invalid");
  ExpectError(Jwt(SignedJwt(Key().get(),
                            Claims("https://login.salesforce.com", 60, kClientId, "nobody@x.com"))),
              400, "invalid_grant", "user hasn't approved this consumer");
}

TEST_F(AuthServerTest, JwtWithAlgNoneIsRefused) {
  std::string unsigned_jwt = B64Url(R"({"alg":"none"})") + "." + B64Url(Claims()) + ".";
  ExpectError(Jwt(unsigned_jwt), 400, "invalid_grant", "invalid assertion");
  // alg none with a valid RS256 signature attached is refused too: the header decides.
  std::string rs256 = SignedJwt(Key().get(), Claims());
  std::string relabelled = B64Url(R"({"alg":"none"})") + rs256.substr(rs256.find('.'));
  ExpectError(Jwt(relabelled), 400, "invalid_grant", "invalid assertion");
}

TEST_F(AuthServerTest, JwtWithHs256KeyedByThePublicKeyIsRefused) {
  // The classic algorithm-confusion forgery: HMAC keyed by the (public) certificate.
  std::string input = B64Url(R"({"alg":"HS256","typ":"JWT"})") + "." + B64Url(Claims());
  for (const std::string& key :
       {SelfSignedCertificatePem(Key().get()), PublicKeyPem(Key().get())}) {
    std::string forged = input + "." + B64Url(testing::HmacSha256Raw(key, input));
    ExpectError(Jwt(forged), 400, "invalid_grant", "invalid assertion");
  }
}

TEST_F(AuthServerTest, MalformedOrMissingAssertion) {
  ExpectError(Jwt("not-a-jwt"), 400, "invalid_grant", "invalid assertion");
  ExpectError(Jwt("a.b.c"), 400, "invalid_grant", "invalid assertion");
  ExpectError(server_->HandleToken(TokenRequest({{"grant_type", std::string(kJwtBearerGrant)}})),
              400, "invalid_request", "assertion is missing");
}

TEST_F(AuthServerTest, JwtFlowDisabledWithoutCertificate) {
  OAuthConfig config = Config();
  config.jwt_certificate_pem.clear();
  AuthServer server(config, clock_);
  ExpectError(server.HandleToken(TokenRequest({{"grant_type", std::string(kJwtBearerGrant)},
                                               {"assertion", SignedJwt(Key().get(), Claims())}})),
              400, "invalid_grant", "invalid assertion");
}

}  // namespace
}  // namespace sfbridge::sfsim::oauth
