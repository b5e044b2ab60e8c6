#include "common/core/strings.h"
#include "common/salesforce/client_config.h"
#include "proxy/writes/salesforce_write_path.h"

namespace sfbridge::proxy {

using core::ConfigType;

void AddWritePathKeys(core::ConfigSchema& s) {
  s.Add({.name = "org.id",
         .help = "The org whose synced tables are written through Salesforce (its name in the "
                 "control plane); empty: every statement passes through"});
  s.Add({.name = "postgres.url",
         .help = "Control-plane PostgreSQL (libpq URL): the org's rate budget and synced tables",
         .secret = true});
  s.Add({.name = "writer.address",
         .help = "host:port of the writer's gRPC server, which applies confirmed changes"});
  salesforce::AddSalesforceKeys(s, /*client_id_required=*/false);
  s.Add({.name = "writes.budget-wait",
         .type = ConfigType::kDuration,
         .help = "Longest wait for a token of the org's API budget before a write fails (53400)",
         .default_value = "10s",
         .min = 0});
  s.Add({.name = "writes.salesforce-timeout",
         .type = ConfigType::kDuration,
         .help = "Timeout of one Salesforce request",
         .default_value = "30s",
         .min = 100});
  s.Add({.name = "writes.salesforce-attempts",
         .type = ConfigType::kInt,
         .help = "Attempts per Salesforce call (the first included) while a failure may pass",
         .default_value = "3",
         .min = 1,
         .max = 10});
  s.Add({.name = "writes.writer-timeout",
         .type = ConfigType::kDuration,
         .help = "Timeout of the writer's Apply",
         .default_value = "10s",
         .min = 100});
  s.Add({.name = "writes.catalog-refresh",
         .type = ConfigType::kDuration,
         .help = "How often the list of synced tables is checked for changes",
         .default_value = "1s",
         .min = 10});
  s.Add({.name = "writes.max-rows",
         .type = ConfigType::kInt,
         .help = "Rows one statement may change; up to 200 a statement is one all-or-none "
                 "Salesforce call, above that it is sent in several calls and is not atomic",
         .default_value = "200",
         .min = 1,
         .max = 100000});
  s.Add({.name = "writes.coalesce-window",
         .type = ConfigType::kDuration,
         .help = "Writes of several sessions arriving within this window share one Composite "
                 "request (up to 25 subrequests, each statement still all-or-none on its own); "
                 "writes that arrive while a request waits for the budget or is in flight go "
                 "in the next one; a write arriving alone after a quiet spell (no write "
                 "within the window before it) does not wait. 0ms: each statement sends its "
                 "own request",
         .default_value = "2ms",
         .min = 0,
         .max = 1000});
}

absl::StatusOr<WritePathOptions> WritePathOptionsFromConfig(const core::Config& c) {
  WritePathOptions o;
  o.org_id = c.GetString("org.id");
  o.control_url = c.GetString("postgres.url");
  o.writer_address = c.GetString("writer.address");
  absl::StatusOr<salesforce::SalesforceSettings> sf = salesforce::SalesforceSettingsFromConfig(c);
  if (!sf.ok()) return sf.status();
  o.credentials = sf->credentials;
  o.api_version = sf->api_version;
  o.ca_file = sf->ca_file;
  o.budget_wait = c.GetDuration("writes.budget-wait");
  o.salesforce_timeout = c.GetDuration("writes.salesforce-timeout");
  o.salesforce_attempts = static_cast<int>(c.GetInt("writes.salesforce-attempts"));
  o.writer_timeout = c.GetDuration("writes.writer-timeout");
  o.catalog_refresh = c.GetDuration("writes.catalog-refresh");
  o.max_rows = static_cast<int>(c.GetInt("writes.max-rows"));
  o.coalesce_window = c.GetDuration("writes.coalesce-window");
  if (!o.org_id.empty()) {
    std::vector<std::string> missing;
    if (o.control_url.empty()) missing.push_back("postgres.url");
    if (o.writer_address.empty()) missing.push_back("writer.address");
    if (o.credentials.client_id.empty()) missing.push_back("salesforce.client-id");
    if (!missing.empty()) {
      return absl::InvalidArgumentError(
          core::StrCat("org.id is set (", o.org_id, ") but not: ", core::StrJoin(missing, ", ")));
    }
  }
  return o;
}

}  // namespace sfbridge::proxy
