#pragma once

// The settings of every service that talks to Salesforce (the fetcher, the proxy's write path):
// the same keys, help texts and OAuth flows everywhere.
//   salesforce.login-url, salesforce.auth (password | client_credentials | refresh_token | jwt),
//   salesforce.client-id, salesforce.client-secret, salesforce.username, salesforce.password,
//   salesforce.refresh-token, salesforce.private-key-file, salesforce.api-version,
//   salesforce.ca-file
// Secrets are declared secret, so they are never printed.

#include <string>

#include "absl/status/statusor.h"
#include "common/core/config.h"
#include "common/salesforce/auth.h"

namespace sfbridge::salesforce {

// `client_id_required`: false for a service that may run without Salesforce (the proxy without
// an org); its caller then checks the id itself.
void AddSalesforceKeys(core::ConfigSchema& schema, bool client_id_required = true);

struct SalesforceSettings {
  Credentials credentials;
  std::string api_version = "59.0";
  std::string ca_file;  // extra trusted CAs (PEM); empty for none
};

// Errors: kInvalidArgument for an unreadable private key file.
absl::StatusOr<SalesforceSettings> SalesforceSettingsFromConfig(const core::Config& config);

}  // namespace sfbridge::salesforce
