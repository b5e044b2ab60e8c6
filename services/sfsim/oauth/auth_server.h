#pragma once

// sfsim's OAuth 2.0 authorization server: the token endpoint Salesforce serves at
// POST /services/oauth2/token, and the bearer-token check every REST call goes through.
//
// Replies follow Salesforce's shapes (the Salesforce API reference, §1):
//   success 200 {"access_token","signature","scope","instance_url","id","token_type","issued_at"}
//   (the JWT bearer flow answers without "signature" and "issued_at", as Salesforce does);
//   failure 400 {"error","error_description"}.
// No reply echoes a client secret, password, refresh token or assertion, and no error reply
// carries any request value at all.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/core/clock.h"
#include "sfsim/http/http_types.h"
#include "sfsim/oauth/crypto.h"

namespace sfbridge::sfsim::oauth {

inline constexpr std::string_view kTokenPath = "/services/oauth2/token";
inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct OAuthConfig {
  // The connected app.
  std::string client_id;
  std::string client_secret;
  // The one user of the org. `password` is the password followed by the security token, as the
  // password flow sends it. The username compares case-insensitively, as Salesforce's does.
  std::string username;
  std::string password;
  // PEM X.509 certificate (or PEM public key) that verifies JWT bearer assertions; empty disables
  // the JWT bearer flow.
  std::string jwt_certificate_pem;
  // Refresh tokens this org accepts (issued out of band, as a web-server flow would have).
  std::vector<std::string> refresh_tokens;
  // Salesforce serves the client credentials flow only on a My Domain host; here it is a switch.
  bool client_credentials_enabled = true;
  // Where REST calls go, e.g. http://127.0.0.1:8443. May be set later with set_instance_url.
  std::string instance_url;
  // The login host: the base of the identity URL, and an audience JWTs may name besides
  // https://login.salesforce.com and https://test.salesforce.com. Empty means instance_url.
  std::string login_url;
  // 18-character ids: 00D... and 005...
  std::string org_id;
  std::string user_id;
  // The connected app's scopes, as the reply's "scope" lists them.
  std::string scope = "api refresh_token";
  // How long an access token lives after it is issued.
  std::chrono::seconds token_lifetime{7200};
};

// OkStatus, or InvalidArgument naming the first field that makes `config` unusable (missing
// client id or org/user ids, a JWT certificate that does not parse).
absl::Status ValidateOAuthConfig(const OAuthConfig& config);

// Thread-safe: every method may be called from any thread at once.
class AuthServer {
 public:
  // `clock` must outlive this object. Throws std::invalid_argument when ValidateOAuthConfig
  // rejects `config`: bad configuration stops the simulator at start-up.
  AuthServer(OAuthConfig config, core::Clock& clock);

  // POST /services/oauth2/token. Parameters come from the form-encoded body and the query
  // string, client credentials also from "Authorization: Basic". Grant types: password,
  // client_credentials, refresh_token, urn:ietf:params:oauth:grant-type:jwt-bearer.
  Response HandleToken(const Request& request);

  // nullopt when "Authorization: Bearer <token>" (or Salesforce's older "OAuth <token>") names a
  // live token; otherwise the 401 Salesforce gives:
  // [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}].
  std::optional<Response> Authenticate(const Request& request) const;

  // Fault injection: every access token issued so far becomes invalid. Refresh tokens, the
  // password and the JWT certificate still work, so a client can log in again.
  void RevokeAll();
  // Access tokens issued and not yet expired or revoked.
  size_t ActiveTokens() const;
  // Token requests answered so far, granted or refused.
  int64_t TokenRequests() const { return token_requests_.load(); }
  void set_instance_url(std::string url);

 private:
  struct Client {
    std::string id;
    std::string secret;
  };

  Response Password(const std::map<std::string, std::string>& params, const Client& client);
  Response ClientCredentials(const Client& client);
  Response RefreshToken(const std::map<std::string, std::string>& params, const Client& client);
  Response JwtBearer(const std::map<std::string, std::string>& params);
  // The 200 reply for a new access token; registers the token.
  Response Issue(bool signed_reply);
  std::string LoginUrl() const;  // requires mu_

  const OAuthConfig config_;
  std::optional<RsaPublicKey> jwt_key_;
  core::Clock& clock_;

  mutable std::mutex mu_;
  std::atomic<int64_t> token_requests_{0};
  std::string instance_url_;  // guarded by mu_
  // SHA-256 of each live access token -> when it expires. Only digests are kept, so neither a
  // memory dump nor the lookup's timing reveals a token.
  std::map<std::string, core::Clock::WallTime> tokens_;  // guarded by mu_
};

}  // namespace sfbridge::sfsim::oauth
