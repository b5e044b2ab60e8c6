#include "common/salesforce/client_config.h"

#include <fstream>
#include <sstream>

#include "common/core/strings.h"

namespace sfbridge::salesforce {

void AddSalesforceKeys(core::ConfigSchema& s, bool client_id_required) {
  s.Add({.name = "salesforce.login-url",
         .help = "OAuth login URL (or My Domain)",
         .default_value = "https://login.salesforce.com"});
  s.Add({.name = "salesforce.auth",
         .help = "OAuth flow",
         .default_value = "password",
         .choices = {"password", "client_credentials", "refresh_token", "jwt"}});
  s.Add({.name = "salesforce.client-id",
         .help = "Connected app consumer key",
         .required = client_id_required});
  s.Add({.name = "salesforce.client-secret",
         .help = "Connected app consumer secret",
         .secret = true});
  s.Add({.name = "salesforce.username", .help = "User name (password and jwt flows)"});
  s.Add({.name = "salesforce.password",
         .help = "Password followed by the security token",
         .secret = true});
  s.Add({.name = "salesforce.refresh-token",
         .help = "Refresh token (refresh_token flow)",
         .secret = true});
  s.Add({.name = "salesforce.private-key-file", .help = "PEM RSA private key (jwt flow)"});
  s.Add({.name = "salesforce.api-version", .help = "REST API version", .default_value = "59.0"});
  s.Add({.name = "salesforce.ca-file", .help = "Extra trusted CA certificates (PEM)"});
}

absl::StatusOr<SalesforceSettings> SalesforceSettingsFromConfig(const core::Config& c) {
  SalesforceSettings settings;
  Credentials& cr = settings.credentials;
  const std::string& flow = c.GetString("salesforce.auth");
  if (flow == "password") cr.flow = AuthFlow::kPassword;
  if (flow == "client_credentials") cr.flow = AuthFlow::kClientCredentials;
  if (flow == "refresh_token") cr.flow = AuthFlow::kRefreshToken;
  if (flow == "jwt") cr.flow = AuthFlow::kJwtBearer;
  cr.login_url = c.GetString("salesforce.login-url");
  cr.client_id = c.GetString("salesforce.client-id");
  cr.client_secret = c.GetString("salesforce.client-secret");
  cr.username = c.GetString("salesforce.username");
  cr.password = c.GetString("salesforce.password");
  cr.refresh_token = c.GetString("salesforce.refresh-token");
  if (const std::string& key_file = c.GetString("salesforce.private-key-file"); !key_file.empty()) {
    std::ifstream in(key_file, std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError(
          core::StrCat("salesforce.private-key-file: cannot read ", key_file));
    }
    std::stringstream buf;
    buf << in.rdbuf();
    cr.private_key_pem = buf.str();
  }
  settings.api_version = c.GetString("salesforce.api-version");
  settings.ca_file = c.GetString("salesforce.ca-file");
  return settings;
}

}  // namespace sfbridge::salesforce
