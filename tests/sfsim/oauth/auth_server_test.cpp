#include "sfsim/oauth/auth_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/sfsim/oauth/auth_server_fixture.h"

namespace sfbridge::sfsim::oauth {
namespace {

TEST_F(AuthServerTest, PasswordFlowReturnsEverySalesforceField) {
  clock_.Advance(std::chrono::milliseconds(123));
  Response r = server_->HandleToken(TokenRequest(PasswordParams()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json;charset=UTF-8");
  EXPECT_NE(HeaderValue(r, "Cache-Control").find("no-store"), std::string::npos);

  std::map<std::string, std::string> f = Fields(r.body);
  const std::string id = std::string(kLoginUrl) + "/id/" + kOrgId + "/" + kUserId;
  EXPECT_EQ(f["instance_url"], kInstanceUrl);
  EXPECT_EQ(f["id"], id);
  EXPECT_EQ(f["token_type"], "Bearer");
  EXPECT_EQ(f["issued_at"], "1700000000123");  // epoch milliseconds, as a string
  EXPECT_TRUE(r.body.find(R"("issued_at":"1700000000123")") != std::string::npos) << r.body;
  EXPECT_EQ(f["scope"], "api refresh_token");
  EXPECT_EQ(f["signature"], B64(testing::HmacSha256Raw(kClientSecret, id + f["issued_at"])));
  EXPECT_EQ(f.count("refresh_token"), 0u);
  EXPECT_EQ(f.size(), 7u) << r.body;

  // "<15-character org id>!<random base62>", like Salesforce's session ids.
  const std::string& token = f["access_token"];
  ASSERT_GT(token.size(), 16u + 80u);
  EXPECT_EQ(token.substr(0, 16), std::string(kOrgId).substr(0, 15) + "!");
  for (char c : token.substr(16)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  EXPECT_TRUE(Authenticates(token));
  EXPECT_EQ(server_->ActiveTokens(), 1u);
  replies_.push_back(r);
}

TEST_F(AuthServerTest, PasswordFlowUsernameIsCaseInsensitive) {
  auto params = PasswordParams();
  params["username"] = "INTEGRATION@Example.com";
  EXPECT_TRUE(Authenticates(Token(server_->HandleToken(TokenRequest(params)))));
}

TEST_F(AuthServerTest, ParametersInTheQueryStringAreRead) {
  Request r = TokenRequest({});
  r.body.clear();
  r.query = PasswordParams();
  EXPECT_TRUE(Authenticates(Token(server_->HandleToken(r))));
}

TEST_F(AuthServerTest, ContentTypeWithCharsetIsFormEncoded) {
  Request r = TokenRequest(PasswordParams());
  r.headers["content-type"] = "application/x-www-form-urlencoded; charset=UTF-8";
  EXPECT_TRUE(Authenticates(Token(server_->HandleToken(r))));
}

TEST_F(AuthServerTest, WrongPasswordIsAnAuthenticationFailure) {
  auto params = PasswordParams();
  params["password"] = "PASSWORD-hunter2";  // without the security token
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_grant",
              "authentication failure");
  params = PasswordParams();
  params["username"] = "someone.else@example.com";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_grant",
              "authentication failure");
  EXPECT_EQ(server_->ActiveTokens(), 0u);
}

TEST_F(AuthServerTest, UnknownOrMissingClientIdIsInvalidClientId) {
  auto params = PasswordParams();
  params["client_id"] = "3MVG9unknown";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_client_id",
              "client identifier invalid");
  params.erase("client_id");
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_client_id",
              "client identifier invalid");
}

TEST_F(AuthServerTest, WrongOrMissingSecretIsInvalidClient) {
  auto params = PasswordParams();
  params["client_secret"] = "not-the-secret";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_client",
              "invalid client credentials");
  params.erase("client_secret");
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_client",
              "invalid client credentials");
}

TEST_F(AuthServerTest, MissingUsernameOrPasswordIsInvalidRequest) {
  auto params = PasswordParams();
  params.erase("username");
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_request",
              "username is missing");
  params = PasswordParams();
  params.erase("password");
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_request",
              "password is missing");
}

TEST_F(AuthServerTest, UnknownOrMissingGrantTypeIsUnsupported) {
  auto params = PasswordParams();
  params["grant_type"] = "authorization_code_v9";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "unsupported_grant_type",
              "grant type not supported");
  params.erase("grant_type");
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "unsupported_grant_type",
              "grant type not supported");
}

TEST_F(AuthServerTest, JsonBodyIsNotReadSoTheGrantTypeIsMissing) {
  Request r = TokenRequest({});
  r.headers["content-type"] = "application/json";
  r.body = core::StrCat(R"({"grant_type":"password","client_id":")", kClientId,
                        R"(","client_secret":")", kClientSecret, R"(","username":")", kUsername,
                        R"(","password":")", kPassword, R"("})");
  ExpectError(server_->HandleToken(r), 400, "unsupported_grant_type", "grant type not supported");
}

TEST_F(AuthServerTest, NonPostIsMethodNotAllowed) {
  Request r = TokenRequest(PasswordParams());
  r.method = "GET";
  Response reply = server_->HandleToken(r);
  ExpectError(reply, 405, "invalid_request", "must use HTTP POST");
  EXPECT_EQ(HeaderValue(reply, "Allow"), "POST");
}

TEST_F(AuthServerTest, ClientCredentialsInTheBody) {
  Response r = server_->HandleToken(TokenRequest({{"grant_type", "client_credentials"},
                                                  {"client_id", kClientId},
                                                  {"client_secret", kClientSecret}}));
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, std::string> f = Fields(r.body);
  EXPECT_EQ(f.count("refresh_token"), 0u);
  EXPECT_EQ(f["token_type"], "Bearer");
  EXPECT_EQ(f["signature"], B64(testing::HmacSha256Raw(kClientSecret, f["id"] + f["issued_at"])));
  EXPECT_TRUE(Authenticates(f["access_token"]));
  replies_.push_back(r);
}

TEST_F(AuthServerTest, ClientCredentialsWithHttpBasic) {
  Request r = TokenRequest({{"grant_type", "client_credentials"}});
  r.headers["authorization"] = "Basic " + B64(std::string(kClientId) + ":" + kClientSecret);
  EXPECT_TRUE(Authenticates(Token(server_->HandleToken(r))));

  r.headers["authorization"] = "Basic " + B64(std::string(kClientId) + ":wrong");
  ExpectError(server_->HandleToken(r), 400, "invalid_client", "invalid client credentials");
  r.headers["authorization"] = "Basic " + B64("3MVG9nobody:" + std::string(kClientSecret));
  ExpectError(server_->HandleToken(r), 400, "invalid_client_id", "client identifier invalid");
}

TEST_F(AuthServerTest, ClientCredentialsDisabledIsNotSupportedOnThisDomain) {
  OAuthConfig config = Config();
  config.client_credentials_enabled = false;
  AuthServer server(config, clock_);
  ExpectError(server.HandleToken(TokenRequest({{"grant_type", "client_credentials"},
                                               {"client_id", kClientId},
                                               {"client_secret", kClientSecret}})),
              400, "invalid_grant", "request not supported on this domain");
  EXPECT_EQ(server.ActiveTokens(), 0u);
}

TEST_F(AuthServerTest, RefreshTokenWithAndWithoutSecret) {
  for (bool with_secret : {true, false}) {
    std::map<std::string, std::string> params = {{"grant_type", "refresh_token"},
                                                 {"client_id", kClientId},
                                                 {"refresh_token", kRefreshToken}};
    if (with_secret) params["client_secret"] = kClientSecret;
    Response r = server_->HandleToken(TokenRequest(params));
    ASSERT_EQ(r.status, 200) << r.body;
    std::map<std::string, std::string> f = Fields(r.body);
    EXPECT_EQ(f["signature"], B64(testing::HmacSha256Raw(kClientSecret, f["id"] + f["issued_at"])));
    EXPECT_EQ(f.count("refresh_token"), 0u);
    EXPECT_EQ(f["instance_url"], kInstanceUrl);
    EXPECT_TRUE(Authenticates(f["access_token"]));
    replies_.push_back(r);
  }
  EXPECT_EQ(server_->ActiveTokens(), 2u);
}

TEST_F(AuthServerTest, RefreshTokenErrors) {
  std::map<std::string, std::string> params = {
      {"grant_type", "refresh_token"}, {"client_id", kClientId}, {"refresh_token", "5Aep-unknown"}};
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_grant",
              "expired access/refresh token");
  params["refresh_token"] = kRefreshToken;
  params["client_secret"] = "wrong";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_client",
              "invalid client credentials");
  params.erase("client_secret");
  params["client_id"] = "3MVG9nobody";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_client_id",
              "client identifier invalid");
  params["client_id"] = kClientId;
  params.erase("refresh_token");
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_request",
              "refresh token is missing");
}

TEST_F(AuthServerTest, TokensExpireAfterTheirLifetime) {
  std::string token = Token(server_->HandleToken(TokenRequest(PasswordParams())));
  clock_.Advance(std::chrono::seconds(7199));
  EXPECT_TRUE(Authenticates(token));
  EXPECT_EQ(server_->ActiveTokens(), 1u);
  clock_.Advance(std::chrono::seconds(1));
  std::optional<Response> denied = server_->Authenticate(ApiRequest("Bearer " + token));
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(denied->body,
            R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
  EXPECT_EQ(server_->ActiveTokens(), 0u);
  // Logging in again gives a new, working token.
  std::string fresh = Token(server_->HandleToken(TokenRequest(PasswordParams())));
  EXPECT_NE(fresh, token);
  EXPECT_TRUE(Authenticates(fresh));
  EXPECT_FALSE(Authenticates(token));
}

TEST_F(AuthServerTest, ConfiguredLifetimeIsUsed) {
  OAuthConfig config = Config();
  config.token_lifetime = std::chrono::seconds(60);
  AuthServer server(config, clock_);
  std::string token = Token(server.HandleToken(TokenRequest(PasswordParams())));
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_FALSE(server.Authenticate(ApiRequest("Bearer " + token)).has_value());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(server.Authenticate(ApiRequest("Bearer " + token)).has_value());
}

TEST_F(AuthServerTest, RevokeAllInvalidatesEveryIssuedToken) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i) {
    tokens.push_back(Token(server_->HandleToken(TokenRequest(PasswordParams()))));
  }
  EXPECT_EQ(server_->ActiveTokens(), 3u);
  server_->RevokeAll();
  EXPECT_EQ(server_->ActiveTokens(), 0u);
  for (const std::string& token : tokens) EXPECT_FALSE(Authenticates(token));
  // The refresh token still logs in.
  std::string fresh = Token(server_->HandleToken(TokenRequest({{"grant_type", "refresh_token"},
                                                               {"client_id", kClientId},
                                                               {"refresh_token", kRefreshToken}})));
  EXPECT_TRUE(Authenticates(fresh));
}

TEST_F(AuthServerTest, AuthenticateRefusesWhatIsNotALiveBearerToken) {
  std::string token = Token(server_->HandleToken(TokenRequest(PasswordParams())));
  for (const std::string& header : std::vector<std::string>{
           std::string(), "Bearer", "Bearer ", "Bearer " + token + "x", "Basic " + token, token,
           "Bearer " + token.substr(0, token.size() - 1)}) {
    std::optional<Response> denied = server_->Authenticate(ApiRequest(header));
    ASSERT_TRUE(denied.has_value()) << header;
    EXPECT_EQ(denied->status, 401);
    EXPECT_EQ(Fields(denied->body.substr(1, denied->body.size() - 2))["errorCode"],
              "INVALID_SESSION_ID");
  }
  // Salesforce also takes the older "OAuth" scheme, and the scheme is case-insensitive.
  EXPECT_FALSE(server_->Authenticate(ApiRequest("OAuth " + token)).has_value());
  EXPECT_FALSE(server_->Authenticate(ApiRequest("bearer " + token)).has_value());
}

TEST_F(AuthServerTest, AnotherServersTokenIsRefused) {
  AuthServer other(Config(), clock_);
  std::string token = Token(other.HandleToken(TokenRequest(PasswordParams())));
  EXPECT_FALSE(Authenticates(token));
}

TEST_F(AuthServerTest, TokensAreDistinct) {
  std::set<std::string> tokens;
  for (int i = 0; i < 200; ++i) {
    tokens.insert(Token(server_->HandleToken(TokenRequest(PasswordParams()))));
  }
  EXPECT_EQ(tokens.size(), 200u);
}

TEST_F(AuthServerTest, InstanceUrlCanBeSetLater) {
  server_->set_instance_url("http://127.0.0.1:40123");
  Response r = server_->HandleToken(TokenRequest(PasswordParams()));
  EXPECT_EQ(Fields(r.body)["instance_url"], "http://127.0.0.1:40123");
}

TEST_F(AuthServerTest, EmptyLoginUrlFallsBackToTheInstanceUrl) {
  OAuthConfig config = Config();
  config.login_url.clear();
  AuthServer server(config, clock_);
  server.set_instance_url("http://127.0.0.1:40123");
  Response r = server.HandleToken(TokenRequest(PasswordParams()));
  EXPECT_EQ(Fields(r.body)["id"],
            std::string("http://127.0.0.1:40123/id/") + kOrgId + "/" + kUserId);
}

TEST_F(AuthServerTest, NoSecretInAnyReply) {
  // Provoke every kind of reply, then search them all.
  auto params = PasswordParams();
  params["password"] = std::string(kPassword) + "-wrong";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_grant",
              "authentication failure");
  params = PasswordParams();
  params["client_secret"] = std::string(kClientSecret) + "-wrong";
  ExpectError(server_->HandleToken(TokenRequest(params)), 400, "invalid_client",
              "invalid client credentials");
  std::string assertion = SignedJwt(OtherKey().get(), Claims());
  ExpectError(Jwt(assertion), 400, "invalid_grant", "invalid assertion");
  ExpectError(
      server_->HandleToken(TokenRequest({{"grant_type", "refresh_token"},
                                         {"client_id", kClientId},
                                         {"client_secret", kClientSecret},
                                         {"refresh_token", std::string(kRefreshToken) + "x"}})),
      400, "invalid_grant", "expired access/refresh token");
  replies_.push_back(server_->HandleToken(TokenRequest(PasswordParams())));
  replies_.push_back(server_->HandleToken(TokenRequest({{"grant_type", "refresh_token"},
                                                        {"client_id", kClientId},
                                                        {"refresh_token", kRefreshToken}})));
  replies_.push_back(*server_->Authenticate(ApiRequest("Bearer 00Dnothing!abc")));

  for (const Response& r : replies_) {
    std::string all = r.body;
    for (const auto& [name, value] : r.headers) all += name + ": " + value + "\n";
    for (std::string_view secret : {std::string_view(kClientSecret), std::string_view(kPassword),
                                    std::string_view(kRefreshToken), std::string_view("hunter2"),
                                    std::string_view(assertion)}) {
      EXPECT_EQ(all.find(secret), std::string::npos) << all;
    }
  }
}

TEST_F(AuthServerTest, ConcurrentLoginsAndChecks) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Response r = server_->HandleToken(TokenRequest(PasswordParams()));
        std::string token = Fields(r.body)["access_token"];
        if (r.status != 200 || !Authenticates(token)) ++failures;
        if (i % 10 == 0) server_->ActiveTokens();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server_->ActiveTokens(), 200u);
}

TEST(OAuthConfigTest, RejectsUnusableConfiguration) {
  FakeClock clock;
  OAuthConfig config;
  config.client_id = kClientId;
  config.org_id = kOrgId;
  config.user_id = kUserId;
  EXPECT_TRUE(ValidateOAuthConfig(config).ok());

  OAuthConfig bad = config;
  bad.jwt_certificate_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  absl::Status status = ValidateOAuthConfig(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("certificate"), absl::string_view::npos) << status;
  EXPECT_THROW(AuthServer server(bad, clock), std::invalid_argument);

  bad = config;
  bad.org_id = "005notanorg";
  EXPECT_FALSE(ValidateOAuthConfig(bad).ok());
  bad = config;
  bad.client_id.clear();
  EXPECT_FALSE(ValidateOAuthConfig(bad).ok());
}

}  // namespace
}  // namespace sfbridge::sfsim::oauth
