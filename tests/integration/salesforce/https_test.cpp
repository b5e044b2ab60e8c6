// The client over HTTPS: sfsim serving a self-signed certificate, trusted by the client only when
// given as its extra CA file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class HttpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    KeyAndCertificate tls = MakeSelfSignedCertificate("127.0.0.1", "IP:127.0.0.1,DNS:localhost");
    cert_file_ = new std::string(dir_->Write("server.crt", tls.certificate_pem));
    sfsim::SimulatorOptions options = SmallOrgOptions();
    options.org.counts = {{"User", 5}, {"Account", 30}};
    options.server.tls_cert_file = *cert_file_;
    options.server.tls_key_file = dir_->Write("server.key", tls.private_key_pem);
    PocoTransportOptions transport;
    transport.extra_ca_file = *cert_file_;
    org_ = SfsimOrg::Start(options, transport);
  }
  static void TearDownTestSuite() {
    org_.reset();
    delete cert_file_;
    delete dir_;
  }
  void SetUp() override { ASSERT_NE(org_, nullptr); }

  static std::unique_ptr<SfsimOrg> org_;
  static TempDir* dir_;
  static std::string* cert_file_;
};

std::unique_ptr<SfsimOrg> HttpsTest::org_;
TempDir* HttpsTest::dir_ = nullptr;
std::string* HttpsTest::cert_file_ = nullptr;

TEST_F(HttpsTest, TrustedCertificateWorks) {
  EXPECT_THAT(org_->base_url(), StartsWith("https://127.0.0.1:"));
  std::unique_ptr<Client> client = org_->NewClient();
  absl::StatusOr<QueryPage> page = client->Query("SELECT Id, Name FROM Account");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total_size, 30);
  absl::StatusOr<std::vector<SaveResult>> saved =
      client->CreateRecords("Account", {StringFields({{"Name", "Over TLS"}})}, true);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_TRUE(saved->at(0).success);
  // The instance URL in the token is the HTTPS one, so every call stayed on TLS.
  std::optional<LimitInfo> info = client->last_limit_info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, org_->sim().limits().used());
}

TEST_F(HttpsTest, UntrustedCertificateIsACertificateError) {
  absl::StatusOr<std::unique_ptr<PocoTransport>> transport = PocoTransport::Create({});
  ASSERT_TRUE(transport.ok());
  Client client(org_->TestClientOptions(org_->PasswordCredentials()), **transport,
                core::SystemClock::Instance());
  const int64_t used = org_->sim().limits().used();
  absl::Status status = client.Authenticate();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("certificate"));
  EXPECT_EQ(client.Query("SELECT Id FROM Account").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(org_->sim().limits().used(), used);  // nothing reached the org
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
