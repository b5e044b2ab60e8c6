#include "sfsim/oauth/auth_server.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <utility>

#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "sfsim/oauth/jwt.h"

namespace sfbridge::sfsim::oauth {
namespace {

using core::StrCat;
using Params = std::map<std::string, std::string>;

// Salesforce accepts assertions for these hosts besides the org's own login URL.
constexpr std::string_view kProductionLogin = "https://login.salesforce.com";
constexpr std::string_view kSandboxLogin = "https://test.salesforce.com";
// How far ahead an assertion's exp may lie: Salesforce asks for three minutes, and a client's
// clock may run a little ahead of the server's.
constexpr std::chrono::seconds kMaxAssertionLifetime{300};
// Random characters after "<org id>!" in an access token (about 570 bits).
constexpr size_t kTokenRandomLength = 96;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string Get(const Params& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

// RFC 6749 §5.1: token endpoint replies must not be cached.
void AddNoStore(Response& response) {
  response.headers.emplace_back("Cache-Control",
                                "no-cache,must-revalidate,max-age=0,no-store,private");
  response.headers.emplace_back("Pragma", "no-cache");
}

// Salesforce's token-endpoint error. `description` is a fixed text: never put a request value in
// it, since values here are secrets.
Response OAuthError(std::string_view error, std::string_view description, int status = 400) {
  core::JsonWriter w;
  w.BeginObject().Member("error", error).Member("error_description", description).EndObject();
  Response r;
  r.status = status;
  r.body = w.Take();
  AddNoStore(r);
  return r;
}

Response InvalidClientId() { return OAuthError("invalid_client_id", "client identifier invalid"); }
Response InvalidClient() { return OAuthError("invalid_client", "invalid client credentials"); }
Response InvalidAssertion() { return OAuthError("invalid_grant", "invalid assertion"); }

bool IsFormEncoded(std::string_view content_type) {
  std::string type = Lower(Trim(content_type.substr(0, content_type.find(';'))));
  return type == "application/x-www-form-urlencoded";
}

// The id and secret from "Authorization: Basic base64(id:secret)", if the header has them.
std::optional<std::pair<std::string, std::string>> BasicCredentials(const Request& request) {
  const std::string authorization = request.Header("authorization");
  std::string_view header = Trim(authorization);
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size() ||
      !EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::optional<std::string> decoded = Base64Decode(Trim(header.substr(kScheme.size())));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

}  // namespace

absl::Status ValidateOAuthConfig(const OAuthConfig& config) {
  if (config.client_id.empty()) return absl::InvalidArgumentError("oauth: client_id is empty");
  auto valid_id = [](const std::string& id, std::string_view prefix) {
    return (id.size() == 15 || id.size() == 18) && id.starts_with(prefix) &&
           std::all_of(id.begin(), id.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  };
  if (!valid_id(config.org_id, "00D")) {
    return absl::InvalidArgumentError(
        "oauth: org_id must be a 15- or 18-character id starting 00D");
  }
  if (!valid_id(config.user_id, "005")) {
    return absl::InvalidArgumentError(
        "oauth: user_id must be a 15- or 18-character id starting 005");
  }
  if (config.token_lifetime <= std::chrono::seconds::zero()) {
    return absl::InvalidArgumentError("oauth: token_lifetime must be positive");
  }
  if (!config.jwt_certificate_pem.empty()) {
    absl::StatusOr<RsaPublicKey> key = RsaPublicKey::FromPem(config.jwt_certificate_pem);
    if (!key.ok()) {
      return absl::InvalidArgumentError(StrCat("oauth: ", core::ToString(key.status().message())));
    }
  }
  return absl::OkStatus();
}

AuthServer::AuthServer(OAuthConfig config, core::Clock& clock)
    : config_(std::move(config)), clock_(clock), instance_url_(config_.instance_url) {
  if (absl::Status s = ValidateOAuthConfig(config_); !s.ok()) {
    throw std::invalid_argument(core::ToString(s.message()));
  }
  if (!config_.jwt_certificate_pem.empty()) {
    jwt_key_.emplace(*RsaPublicKey::FromPem(config_.jwt_certificate_pem));
  }
}

Response AuthServer::HandleToken(const Request& request) {
  token_requests_.fetch_add(1);
  if (request.method != "POST") {
    Response r = OAuthError("invalid_request", "must use HTTP POST", 405);
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  // Salesforce reads parameters from the query string as well as the body. A body that is not
  // form-encoded (JSON, say) is not read at all, so such a request has no grant_type.
  Params params = request.query;
  std::string content_type = request.Header("content-type");
  if (content_type.empty() || IsFormEncoded(content_type)) {
    for (auto& [name, value] : ParseFormEncoded(request.body)) params[name] = std::move(value);
  }

  Client client{Get(params, "client_id"), Get(params, "client_secret")};
  if (client.id.empty() && client.secret.empty()) {
    if (auto basic = BasicCredentials(request)) {
      client.id = std::move(basic->first);
      client.secret = std::move(basic->second);
    }
  }

  std::string grant_type = Get(params, "grant_type");
  if (grant_type == "password") return Password(params, client);
  if (grant_type == "client_credentials") return ClientCredentials(client);
  if (grant_type == "refresh_token") return RefreshToken(params, client);
  if (grant_type == kJwtBearerGrant) return JwtBearer(params);
  return OAuthError("unsupported_grant_type", "grant type not supported");
}

Response AuthServer::Password(const Params& params, const Client& client) {
  if (!ConstantTimeEquals(client.id, config_.client_id)) return InvalidClientId();
  if (!ConstantTimeEquals(client.secret, config_.client_secret)) return InvalidClient();
  std::string username = Get(params, "username");
  std::string password = Get(params, "password");
  if (username.empty()) return OAuthError("invalid_request", "username is missing");
  if (password.empty()) return OAuthError("invalid_request", "password is missing");
  // Both comparisons always run, so the timing does not tell which one failed.
  bool user_ok = EqualsIgnoreCase(username, config_.username);
  bool password_ok = ConstantTimeEquals(password, config_.password);
  if (!user_ok || !password_ok) return OAuthError("invalid_grant", "authentication failure");
  return Issue(/*signed_reply=*/true);
}

Response AuthServer::ClientCredentials(const Client& client) {
  // Salesforce refuses the flow on login.salesforce.com before looking at the client.
  if (!config_.client_credentials_enabled) {
    return OAuthError("invalid_grant", "request not supported on this domain");
  }
  if (!ConstantTimeEquals(client.id, config_.client_id)) return InvalidClientId();
  if (!ConstantTimeEquals(client.secret, config_.client_secret)) return InvalidClient();
  return Issue(/*signed_reply=*/true);
}

Response AuthServer::RefreshToken(const Params& params, const Client& client) {
  if (!ConstantTimeEquals(client.id, config_.client_id)) return InvalidClientId();
  // The secret is optional in this flow, but a wrong one is refused.
  if (!client.secret.empty() && !ConstantTimeEquals(client.secret, config_.client_secret)) {
    return InvalidClient();
  }
  std::string refresh_token = Get(params, "refresh_token");
  if (refresh_token.empty()) return OAuthError("invalid_request", "refresh token is missing");
  bool known = false;
  for (const std::string& accepted : config_.refresh_tokens) {
    known |= ConstantTimeEquals(refresh_token, accepted);
  }
  if (!known) return OAuthError("invalid_grant", "expired access/refresh token");
  return Issue(/*signed_reply=*/true);
}

Response AuthServer::JwtBearer(const Params& params) {
  std::string assertion = Get(params, "assertion");
  if (assertion.empty()) return OAuthError("invalid_request", "assertion is missing");
  absl::StatusOr<Jwt> jwt = DecodeJwt(assertion);
  if (!jwt.ok() || jwt->alg != "RS256") return InvalidAssertion();
  // The issuer names the connected app whose certificate checks the signature.
  if (!ConstantTimeEquals(jwt->iss, config_.client_id)) return InvalidClientId();
  if (!jwt_key_ || !jwt->VerifyRs256(*jwt_key_)) return InvalidAssertion();

  std::string login_url;
  {
    std::lock_guard lock(mu_);
    login_url = LoginUrl();
  }
  bool audience_ok = std::any_of(jwt->aud.begin(), jwt->aud.end(), [&](const std::string& aud) {
    return aud == login_url || aud == kProductionLogin || aud == kSandboxLogin;
  });
  if (!audience_ok) return OAuthError("invalid_grant", "audience is invalid");

  if (!jwt->exp) return InvalidAssertion();
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  if (*jwt->exp <= now) return OAuthError("invalid_grant", "expired authorization code");
  if (*jwt->exp > now + kMaxAssertionLifetime.count()) return InvalidAssertion();

  if (!EqualsIgnoreCase(jwt->sub, config_.username)) {
    return OAuthError("invalid_grant", "user hasn't approved this consumer");
  }
  return Issue(/*signed_reply=*/false);
}

Response AuthServer::Issue(bool signed_reply) {
  std::string token =
      StrCat(std::string_view(config_.org_id).substr(0, 15), "!", RandomBase62(kTokenRandomLength));
  core::Clock::WallTime now = clock_.Now();
  std::string issued_at = std::to_string(core::ToUnixMillis(now));

  std::string instance_url;
  std::string id;
  {
    std::lock_guard lock(mu_);
    // Expired entries are dropped here so the map stays as small as the live set.
    std::erase_if(tokens_, [&](const auto& entry) { return entry.second <= now; });
    tokens_[Sha256(token)] = now + config_.token_lifetime;
    instance_url = instance_url_;
    id = StrCat(LoginUrl(), "/id/", config_.org_id, "/", config_.user_id);
  }

  core::JsonWriter w;
  w.BeginObject().Member("access_token", token);
  if (signed_reply) {
    w.Member("signature", Base64Encode(HmacSha256(config_.client_secret, id + issued_at)));
  }
  w.Member("scope", config_.scope)
      .Member("instance_url", instance_url)
      .Member("id", id)
      .Member("token_type", "Bearer");
  if (signed_reply) w.Member("issued_at", issued_at);
  w.EndObject();

  Response r;
  r.body = w.Take();
  AddNoStore(r);
  return r;
}

std::optional<Response> AuthServer::Authenticate(const Request& request) const {
  const std::string authorization = request.Header("authorization");
  std::string_view header = Trim(authorization);
  std::string_view token;
  for (std::string_view scheme : {"bearer ", "oauth "}) {
    if (header.size() > scheme.size() &&
        EqualsIgnoreCase(header.substr(0, scheme.size()), scheme)) {
      token = Trim(header.substr(scheme.size()));
      break;
    }
  }
  if (!token.empty()) {
    std::string digest = Sha256(token);
    core::Clock::WallTime now = clock_.Now();
    std::lock_guard lock(mu_);
    auto it = tokens_.find(digest);
    if (it != tokens_.end() && now < it->second) return std::nullopt;
  }
  Response r = ErrorResponse(401, "INVALID_SESSION_ID", "Session expired or invalid");
  r.headers.emplace_back("WWW-Authenticate", "Token");
  return r;
}

void AuthServer::RevokeAll() {
  std::lock_guard lock(mu_);
  tokens_.clear();
}

size_t AuthServer::ActiveTokens() const {
  core::Clock::WallTime now = clock_.Now();
  std::lock_guard lock(mu_);
  return std::count_if(tokens_.begin(), tokens_.end(),
                       [&](const auto& entry) { return now < entry.second; });
}

void AuthServer::set_instance_url(std::string url) {
  std::lock_guard lock(mu_);
  instance_url_ = std::move(url);
}

std::string AuthServer::LoginUrl() const {
  return config_.login_url.empty() ? instance_url_ : config_.login_url;
}

}  // namespace sfbridge::sfsim::oauth
