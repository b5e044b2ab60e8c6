// Every OAuth flow of the client against sfsim's token endpoint, the refusals of wrong
// credentials (without a secret in any message), and transparent re-authentication after token
// expiry and revocation.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Counts the token requests that go through it.
class LoginCountingTransport final : public HttpTransport {
 public:
  explicit LoginCountingTransport(HttpTransport& inner) : inner_(inner) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    if (request.url.ends_with("/services/oauth2/token")) ++logins;
    return inner_.Send(request);
  }
  std::atomic<int> logins{0};

 private:
  HttpTransport& inner_;
};

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    jwt_ = new KeyAndCertificate(MakeSelfSignedCertificate("sfbridge connected app"));
    other_key_ = new KeyAndCertificate(MakeSelfSignedCertificate("somebody else"));
    sfsim::SimulatorOptions options = SmallOrgOptions();
    options.org.counts = {{"User", 5}, {"Account", 20}};
    options.oauth.jwt_certificate_pem = jwt_->certificate_pem;
    org_ = SfsimOrg::Start(options);
  }
  static void TearDownTestSuite() {
    org_.reset();
    delete jwt_;
    delete other_key_;
  }
  void SetUp() override { ASSERT_NE(org_, nullptr); }

  Credentials Jwt() const {
    Credentials c;
    c.flow = AuthFlow::kJwtBearer;
    c.login_url = org_->base_url();
    c.client_id = std::string(kClientId);
    c.username = std::string(kUsername);
    c.private_key_pem = jwt_->private_key_pem;
    return c;
  }
  Credentials ClientCredentials() const {
    Credentials c;
    c.flow = AuthFlow::kClientCredentials;
    c.login_url = org_->base_url();
    c.client_id = std::string(kClientId);
    c.client_secret = std::string(kClientSecret);
    return c;
  }
  Credentials Refresh() const {
    Credentials c;
    c.flow = AuthFlow::kRefreshToken;
    c.login_url = org_->base_url();
    c.client_id = std::string(kClientId);
    c.client_secret = std::string(kClientSecret);
    c.refresh_token = std::string(kRefreshToken);
    return c;
  }

  // Authenticates with `credentials`, then proves the token works with a query.
  void ExpectWorks(const Credentials& credentials) {
    std::unique_ptr<Client> client = org_->NewClient(org_->TestClientOptions(credentials));
    ASSERT_TRUE(client->Authenticate().ok()) << AuthFlowName(credentials.flow);
    absl::StatusOr<std::string> org_id = client->OrgId();
    ASSERT_TRUE(org_id.ok());
    EXPECT_EQ(*org_id, org_->sim().org().org_id());
    absl::StatusOr<QueryPage> page = client->Query("SELECT Id FROM Account");
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->total_size, 20);
  }

  // Authenticating with `credentials` fails with `code` and a message holding `text` and none of
  // the secrets.
  void ExpectRefused(const Credentials& credentials, absl::StatusCode code,
                     const std::string& text) {
    std::unique_ptr<Client> client = org_->NewClient(org_->TestClientOptions(credentials));
    absl::Status status = client->Authenticate();
    EXPECT_EQ(status.code(), code) << status;
    const std::string message(status.message());
    EXPECT_THAT(message, HasSubstr(text));
    EXPECT_THAT(message, HasSubstr(AuthFlowName(credentials.flow)));
    for (const std::string& secret :
         {credentials.password, credentials.client_secret, credentials.refresh_token,
          std::string(kPassword), std::string(kClientSecret), std::string(kRefreshToken)}) {
      if (!secret.empty()) {
        EXPECT_THAT(message, Not(HasSubstr(secret)));
      }
    }
    EXPECT_THAT(message, Not(HasSubstr("PRIVATE KEY")));
    // The first API call reports the same refusal instead of sending anything.
    absl::StatusOr<QueryPage> page = client->Query("SELECT Id FROM Account");
    EXPECT_EQ(page.status().code(), code);
  }

  static std::unique_ptr<SfsimOrg> org_;
  static KeyAndCertificate* jwt_;
  static KeyAndCertificate* other_key_;
};

std::unique_ptr<SfsimOrg> AuthTest::org_;
KeyAndCertificate* AuthTest::jwt_ = nullptr;
KeyAndCertificate* AuthTest::other_key_ = nullptr;

TEST_F(AuthTest, PasswordFlow) { ExpectWorks(org_->PasswordCredentials()); }
TEST_F(AuthTest, ClientCredentialsFlow) { ExpectWorks(ClientCredentials()); }
TEST_F(AuthTest, RefreshTokenFlow) { ExpectWorks(Refresh()); }
TEST_F(AuthTest, JwtBearerFlow) { ExpectWorks(Jwt()); }

TEST_F(AuthTest, VersionsNeedNoLogin) {
  Credentials wrong = org_->PasswordCredentials();
  wrong.password = "nope";
  std::unique_ptr<Client> client = org_->NewClient(org_->TestClientOptions(wrong));
  absl::StatusOr<std::vector<ApiVersion>> versions = client->Versions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_FALSE(versions->empty());
}

TEST_F(AuthTest, WrongPasswordClientIdAndSecret) {
  Credentials c = org_->PasswordCredentials();
  c.password = "wrong-password-0000";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated, "invalid_grant: authentication failure");
  c = org_->PasswordCredentials();
  c.username = "someone.else@example.com";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated, "invalid_grant: authentication failure");
  c = org_->PasswordCredentials();
  c.client_secret = "wrong-client-secret-0000";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated, "invalid_client");
  c = org_->PasswordCredentials();
  c.client_id = "3MVG9NotOurApp";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated, "invalid_client_id");
}

TEST_F(AuthTest, WrongClientCredentials) {
  Credentials c = ClientCredentials();
  c.client_secret = "wrong-client-secret-1111";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated,
                "invalid_client: invalid client credentials");
}

TEST_F(AuthTest, WrongRefreshToken) {
  Credentials c = Refresh();
  c.refresh_token = "5Aep861-not-a-token-we-issued";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated,
                "invalid_grant: expired access/refresh token");
}

TEST_F(AuthTest, WrongJwtKeyOrUser) {
  Credentials c = Jwt();
  c.private_key_pem = other_key_->private_key_pem;
  ExpectRefused(c, absl::StatusCode::kUnauthenticated, "invalid_grant: invalid assertion");
  c = Jwt();
  c.username = "someone.else@example.com";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated, "user hasn't approved this consumer");
  c = Jwt();
  c.audience = "https://elsewhere.example.com";
  ExpectRefused(c, absl::StatusCode::kUnauthenticated, "audience is invalid");
  // A key that is not a key fails before anything is sent.
  c = Jwt();
  c.private_key_pem = "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n";
  std::unique_ptr<Client> client = org_->NewClient(org_->TestClientOptions(c));
  EXPECT_EQ(client->Authenticate().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthTest, RevokedTokensAreRenewedTransparently) {
  LoginCountingTransport transport(org_->transport());
  Client client(org_->TestClientOptions(org_->PasswordCredentials()), transport,
                core::SystemClock::Instance());
  ASSERT_TRUE(client.Query("SELECT Id FROM Account").ok());
  EXPECT_EQ(transport.logins.load(), 1);
  ASSERT_EQ(org_->Admin("POST", "revoke-tokens").status, 200);
  absl::StatusOr<QueryPage> page = client.Query("SELECT Id FROM Account");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total_size, 20);
  EXPECT_EQ(transport.logins.load(), 2);
  ASSERT_TRUE(client.Query("SELECT Id FROM Account").ok());
  EXPECT_EQ(transport.logins.load(), 2);
}

class TokenExpiryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sfsim::SimulatorOptions options = SmallOrgOptions();
    options.org.counts = {{"User", 5}, {"Account", 20}};
    options.oauth.token_lifetime = std::chrono::seconds(1);
    org_ = SfsimOrg::Start(options);
  }
  static void TearDownTestSuite() { org_.reset(); }
  static std::unique_ptr<SfsimOrg> org_;
};

std::unique_ptr<SfsimOrg> TokenExpiryTest::org_;

TEST_F(TokenExpiryTest, ExpiredTokenIsRenewedTransparently) {
  ASSERT_NE(org_, nullptr);
  LoginCountingTransport transport(org_->transport());
  Client client(org_->TestClientOptions(org_->PasswordCredentials()), transport,
                core::SystemClock::Instance());
  ASSERT_TRUE(client.Query("SELECT Id FROM Account").ok());
  EXPECT_EQ(transport.logins.load(), 1);
  // The token lives one second; this sleep is the expiry itself, not a wait for a result.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(org_->sim().auth().ActiveTokens(), 0u);
  absl::StatusOr<QueryPage> page = client.Query("SELECT Id FROM Account");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total_size, 20);
  EXPECT_EQ(transport.logins.load(), 2);
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
