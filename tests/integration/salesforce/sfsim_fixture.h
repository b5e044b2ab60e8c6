#pragma once

// What the integration tests of the Salesforce client against sfsim share: a small simulated
// org started in-process on a free port, the client's real PocoTransport, and raw HTTP helpers
// for the routes the client has no typed call for (single-record CRUD, upsert, sfsim's admin
// API). Every suite starts its own org in SetUpTestSuite so suites never see each other's
// writes, faults or revoked tokens.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"
#include "common/salesforce/url_encoding.h"
#include "sfsim/simulator.h"

namespace sfbridge::salesforce::integration {

// The connected app and user the simulated org knows. The secrets are long and distinctive so
// that a test can prove none of them leaks into an error message.
inline constexpr std::string_view kClientId = "3MVG9sfbridgeIntegrationConsumerKey";
inline constexpr std::string_view kClientSecret = "client-secret-7f3c9a1e5b2d4c6e8a0f";
inline constexpr std::string_view kUsername = "integration@sfbridge.example";
inline constexpr std::string_view kPassword = "pass-word-1b9d-plus-security-token-x7Q2";
inline constexpr std::string_view kRefreshToken = "5Aep861refresh-token-e4d2c0b8a6f4";
inline constexpr std::string_view kApiVersion = "59.0";

// A small org: a few thousand records, an admin API, the test's connected app and user.
sfsim::SimulatorOptions SmallOrgOptions();

// A reply of a raw request.
struct Reply {
  int status = 0;
  std::string body;
  HttpHeaders headers;
};

// One running sfsim and the transport that reaches it.
class SfsimOrg {
 public:
  // Starts sfsim with `options`; nullptr (with a test failure recorded) when it cannot start.
  static std::unique_ptr<SfsimOrg> Start(sfsim::SimulatorOptions options,
                                         PocoTransportOptions transport_options = {});

  sfsim::Simulator& sim() { return *sim_; }
  PocoTransport& transport() { return *transport_; }
  const std::string& base_url() const { return sim_->base_url(); }
  // "/services/data/v59.0"
  static std::string DataPath() { return core::StrCat("/services/data/v", kApiVersion); }

  Credentials PasswordCredentials() const;
  // Client options for tests: short backoff (milliseconds), a fixed jitter seed.
  ClientOptions TestClientOptions(Credentials credentials) const;
  std::unique_ptr<Client> NewClient(ClientOptions options);
  std::unique_ptr<Client> NewClient() {
    return NewClient(TestClientOptions(PasswordCredentials()));
  }

  // A raw request; `path` starts with "/" and may carry a query string.
  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             HttpHeaders headers = {});
  // A raw REST call under /services/data/v59.0 with a bearer token of this fixture's own
  // (fetched with the password flow on first use, and again after a 401).
  Reply Data(const std::string& method, const std::string& path, const std::string& body = "");
  // A call of sfsim's admin API: `path` below /__sfsim/.
  Reply Admin(const std::string& method, const std::string& path, const std::string& body = "");

  // A new access token from the password flow.
  std::string FetchAccessToken();

  // sfsim's count of calls of `kind` ("collections_create", "query", ...) since the last reset.
  int64_t CallCount(std::string_view kind);
  void ResetStats() { Admin("POST", "stats/reset"); }
  // POST /__sfsim/faults with `json` (members left out keep their values).
  void SetFaults(const std::string& json);
  // Every fault and all latency off.
  void ClearFaults();
  // GET /__sfsim/digest/{object}: Id -> SystemModstamp in ms.
  std::map<std::string, int64_t> Digest(std::string_view object, bool include_deleted = false);
  // Creates a record directly through the admin API (no API call spent); its id.
  std::string AdminCreate(std::string_view object, const std::string& json);

 private:
  SfsimOrg() = default;
  std::unique_ptr<sfsim::Simulator> sim_;
  std::unique_ptr<PocoTransport> transport_;
  std::string token_;
};

// A suite that shares one small org (SmallOrgOptions), started before its first test and
// stopped after its last, and gives each test a fresh password-flow client of it.
class SmallOrgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { org_ = SfsimOrg::Start(SmallOrgOptions()); }
  static void TearDownTestSuite() { org_.reset(); }
  void SetUp() override {
    ASSERT_NE(org_, nullptr);
    client_ = org_->NewClient();
  }

  static inline std::unique_ptr<SfsimOrg> org_;
  std::unique_ptr<Client> client_;
};

// The ApiError of a failed status; a test failure (and an empty ApiError) when it has none.
ApiError ExpectApiError(const absl::Status& status);

// The string value of `name` in `record`, "" when absent or not a string/number.
std::string FieldText(const Record& record, std::string_view name);

// Parses JSON or fails the test; the parser must outlive the element.
simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& json);

// Fields whose values are all strings, in the given order.
Fields StringFields(std::initializer_list<std::pair<std::string, std::string>> fields);

// An RSA private key and a self-signed certificate for it (PEM), made with OpenSSL.
struct KeyAndCertificate {
  std::string private_key_pem;
  std::string certificate_pem;
};
// `subject_alt_names` as OpenSSL writes them: "IP:127.0.0.1,DNS:localhost"; empty for none.
KeyAndCertificate MakeSelfSignedCertificate(std::string_view common_name,
                                            std::string_view subject_alt_names = "");

// A directory under /tmp removed (with its files) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::string Write(std::string_view name, std::string_view contents) const;

 private:
  std::string path_;
};

}  // namespace sfbridge::salesforce::integration
