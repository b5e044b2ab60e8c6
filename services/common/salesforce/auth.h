#pragma once

// OAuth 2.0 against Salesforce's token endpoint (reference §1): the request each flow sends and
// the meaning of the reply. Pure functions: the Client sends the request (through the gate, with
// retries) and keeps the token.
//
// Secrets (password, client secret, refresh token, private key, access token) never appear in a
// status message produced here, nor in Credentials::Describe().

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/salesforce/http_transport.h"

namespace sfbridge::salesforce {

enum class AuthFlow {
  kPassword,           // grant_type=password: client_id, client_secret, username, password
  kClientCredentials,  // grant_type=client_credentials: client_id, client_secret (My Domain only)
  kRefreshToken,       // grant_type=refresh_token: client_id, refresh_token, [client_secret]
  kJwtBearer,          // RS256 assertion: client_id (iss), username (sub), private_key_pem
};

// "password", "client_credentials", "refresh_token", "jwt_bearer".
std::string_view AuthFlowName(AuthFlow flow);

struct Credentials {
  AuthFlow flow = AuthFlow::kPassword;
  // Where the token endpoint lives: https://login.salesforce.com, https://test.salesforce.com or
  // the org's My Domain. The token URL is login_url + "/services/oauth2/token".
  std::string login_url = "https://login.salesforce.com";
  std::string client_id;        // the connected app's consumer key (not a secret)
  std::string client_secret;    // secret
  std::string username;         // not a secret
  std::string password;         // secret: password followed by the security token
  std::string refresh_token;    // secret
  std::string private_key_pem;  // secret: PEM RSA private key for the JWT bearer flow
  // JWT "aud"; empty means login_url.
  std::string audience;

  // One line for logs and errors: the flow, login URL, client id and username; every secret
  // shown only as "***" (set) or "<unset>".
  std::string Describe() const;
};

struct Token {
  std::string access_token;  // secret
  std::string instance_url;  // "https://mydomain.my.salesforce.com", no trailing slash
  std::string org_id;        // from the identity URL .../id/{org_id}/{user_id}
  std::string user_id;
  core::Clock::WallTime issued_at;  // Salesforce's issued_at, else the time of the reply
};

// The token request of `credentials`'s flow, made at time `now` (the JWT's exp is now + 3 min).
// Errors: kInvalidArgument when a field the flow needs is empty or the private key is unusable.
absl::StatusOr<HttpRequest> BuildTokenRequest(const Credentials& credentials,
                                              core::Clock::WallTime now);

// The token in a reply of the token endpoint. `now` is the fallback issued_at.
// Errors: an OAuth error reply {"error","error_description"} becomes
//   invalid_grant, invalid_client, invalid_client_id   kUnauthenticated (permanent)
//   inactive_user, inactive_org                         kPermissionDenied (permanent)
//   unsupported_grant_type                              kInvalidArgument
//   rate_limit_exceeded                                 kResourceExhausted (retryable)
//   anything else                                       the HTTP status's code (5xx retryable)
// and a 200 without access_token or instance_url is kInternal.
absl::StatusOr<Token> ParseTokenReply(const HttpResponse& response, core::Clock::WallTime now);

// header.claims.signature of an RS256 JWT with claims iss, sub, aud, exp (now + 3 min).
absl::StatusOr<std::string> MakeJwtAssertion(std::string_view issuer, std::string_view subject,
                                             std::string_view audience,
                                             std::string_view private_key_pem,
                                             core::Clock::WallTime now);

}  // namespace sfbridge::salesforce
