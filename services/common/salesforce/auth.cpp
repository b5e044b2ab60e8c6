#include "common/salesforce/auth.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <charconv>
#include <memory>

#include "absl/strings/escaping.h"
#include "common/core/json_writer.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/salesforce/json_fields.h"
#include "common/salesforce/json_records.h"
#include "common/salesforce/url_encoding.h"

namespace sfbridge::salesforce {
namespace {

constexpr std::string_view kTokenPath = "/services/oauth2/token";
constexpr std::chrono::seconds kJwtLifetime{180};

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// OpenSSL's last error as text; it names what failed, never the key material.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

std::string Mask(const std::string& secret) { return secret.empty() ? "<unset>" : "***"; }

std::string_view TrimSlash(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return url;
}

absl::Status Require(
    const Credentials& c,
    std::initializer_list<std::pair<std::string_view, const std::string*>> needed) {
  for (const auto& [what, value] : needed) {
    if (value->empty()) {
      return absl::InvalidArgumentError(
          core::StrCat("salesforce credentials: flow ", AuthFlowName(c.flow), " needs ", what));
    }
  }
  return absl::OkStatus();
}

absl::StatusCode OAuthErrorCode(std::string_view error, int http_status) {
  if (error == "invalid_grant" || error == "invalid_client" || error == "invalid_client_id") {
    return absl::StatusCode::kUnauthenticated;
  }
  if (error == "inactive_user" || error == "inactive_org") {
    return absl::StatusCode::kPermissionDenied;
  }
  if (error == "unsupported_grant_type") return absl::StatusCode::kInvalidArgument;
  if (error == "rate_limit_exceeded") return absl::StatusCode::kResourceExhausted;
  absl::StatusCode code = core::HttpStatusToCode(http_status);
  return code == absl::StatusCode::kOk ? absl::StatusCode::kInternal : code;
}

}  // namespace

std::string_view AuthFlowName(AuthFlow flow) {
  switch (flow) {
    case AuthFlow::kPassword:
      return "password";
    case AuthFlow::kClientCredentials:
      return "client_credentials";
    case AuthFlow::kRefreshToken:
      return "refresh_token";
    case AuthFlow::kJwtBearer:
      return "jwt_bearer";
  }
  return "unknown";
}

std::string Credentials::Describe() const {
  return core::StrCat("flow=", AuthFlowName(flow), " login_url=", login_url,
                      " client_id=", client_id.empty() ? "<unset>" : client_id,
                      " username=", username.empty() ? "<unset>" : username,
                      " client_secret=", Mask(client_secret), " password=", Mask(password),
                      " refresh_token=", Mask(refresh_token),
                      " private_key=", Mask(private_key_pem));
}

absl::StatusOr<std::string> MakeJwtAssertion(std::string_view issuer, std::string_view subject,
                                             std::string_view audience,
                                             std::string_view private_key_pem,
                                             core::Clock::WallTime now) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  if (!bio) return absl::InternalError("jwt: out of memory");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(
        core::StrCat("jwt: the private key is not a readable PEM key: ", OpenSslError()));
  }
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("jwt: the private key is not an RSA key (RS256 needs one)");
  }

  const long long exp =
      std::chrono::duration_cast<std::chrono::seconds>((now + kJwtLifetime).time_since_epoch())
          .count();
  core::JsonWriter w;
  w.BeginObject()
      .Member("iss", issuer)
      .Member("sub", subject)
      .Member("aud", audience)
      .Key("exp")
      .Int(exp)
      .EndObject();
  const std::string claims = w.Take();
  std::string signing_input = core::StrCat(absl::WebSafeBase64Escape("{\"alg\":\"RS256\"}"), ".",
                                           absl::WebSafeBase64Escape(claims));

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t signature_size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &signature_size,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return absl::InternalError(core::StrCat("jwt: signing failed: ", OpenSslError()));
  }
  std::string signature(signature_size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &signature_size,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return absl::InternalError(core::StrCat("jwt: signing failed: ", OpenSslError()));
  }
  signature.resize(signature_size);
  return core::StrCat(signing_input, ".", absl::WebSafeBase64Escape(signature));
}

absl::StatusOr<HttpRequest> BuildTokenRequest(const Credentials& c, core::Clock::WallTime now) {
  if (c.login_url.empty()) {
    return absl::InvalidArgumentError("salesforce credentials: login_url is empty");
  }
  std::vector<std::pair<std::string, std::string>> params;
  switch (c.flow) {
    case AuthFlow::kPassword:
      if (absl::Status s = Require(c, {{"client_id", &c.client_id},
                                       {"client_secret", &c.client_secret},
                                       {"username", &c.username},
                                       {"password", &c.password}});
          !s.ok())
        return s;
      params = {{"grant_type", "password"},
                {"client_id", c.client_id},
                {"client_secret", c.client_secret},
                {"username", c.username},
                {"password", c.password}};
      break;
    case AuthFlow::kClientCredentials:
      if (absl::Status s =
              Require(c, {{"client_id", &c.client_id}, {"client_secret", &c.client_secret}});
          !s.ok())
        return s;
      params = {{"grant_type", "client_credentials"},
                {"client_id", c.client_id},
                {"client_secret", c.client_secret}};
      break;
    case AuthFlow::kRefreshToken:
      if (absl::Status s =
              Require(c, {{"client_id", &c.client_id}, {"refresh_token", &c.refresh_token}});
          !s.ok())
        return s;
      params = {{"grant_type", "refresh_token"},
                {"refresh_token", c.refresh_token},
                {"client_id", c.client_id}};
      if (!c.client_secret.empty()) params.emplace_back("client_secret", c.client_secret);
      break;
    case AuthFlow::kJwtBearer: {
      if (absl::Status s = Require(c, {{"client_id", &c.client_id},
                                       {"username", &c.username},
                                       {"private_key_pem", &c.private_key_pem}});
          !s.ok())
        return s;
      std::string audience(c.audience.empty() ? TrimSlash(c.login_url) : c.audience);
      absl::StatusOr<std::string> assertion =
          MakeJwtAssertion(c.client_id, c.username, audience, c.private_key_pem, now);
      if (!assertion.ok()) return assertion.status();
      params = {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                {"assertion", *std::move(assertion)}};
      break;
    }
  }
  HttpRequest request;
  request.method = "POST";
  request.url = core::StrCat(TrimSlash(c.login_url), kTokenPath);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = EncodeParams(params);
  return request;
}

absl::StatusOr<Token> ParseTokenReply(const HttpResponse& response, core::Clock::WallTime now) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  bool is_object =
      parser.parse(response.body.data(), response.body.size()).get_object().get(object) ==
      simdjson::SUCCESS;
  if (response.status != 200) {
    std::string error = is_object ? StringField(object, "error") : std::string();
    std::string description = is_object ? StringField(object, "error_description") : std::string();
    std::string message = core::StrCat("oauth token request refused (HTTP ", response.status, ")");
    if (!error.empty()) core::StrAppend(&message, ": ", error);
    if (!description.empty()) core::StrAppend(&message, ": ", description);
    return absl::Status(OAuthErrorCode(error, response.status), message);
  }
  if (!is_object) return absl::InternalError("oauth token reply is not a JSON object");
  Token token;
  token.access_token = StringField(object, "access_token");
  token.instance_url = std::string(TrimSlash(StringField(object, "instance_url")));
  if (token.access_token.empty() || token.instance_url.empty()) {
    return absl::InternalError("oauth token reply lacks access_token or instance_url");
  }
  // https://login.salesforce.com/id/{org_id}/{user_id}
  std::string id = StringField(object, "id");
  size_t slash = id.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    token.user_id = id.substr(slash + 1);
    size_t org_slash = id.rfind('/', slash - 1);
    if (org_slash != std::string::npos) {
      token.org_id = id.substr(org_slash + 1, slash - org_slash - 1);
    }
  }
  token.issued_at = now;
  std::string issued_at = StringField(object, "issued_at");
  long long millis = 0;
  auto [end, ec] = std::from_chars(issued_at.data(), issued_at.data() + issued_at.size(), millis);
  if (!issued_at.empty() && ec == std::errc() && end == issued_at.data() + issued_at.size()) {
    token.issued_at = core::Clock::WallTime(std::chrono::milliseconds(millis));
  }
  return token;
}

}  // namespace sfbridge::salesforce
