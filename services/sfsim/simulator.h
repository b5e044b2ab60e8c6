#pragma once

// A whole simulated org behind an HTTP(S) server: the org's records, OAuth, the REST API, the
// admin API, limits, faults and live churn. main.cpp runs one from configuration; tests start
// one in-process on a free port.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "sfsim/api_limits.h"
#include "sfsim/bulk_jobs.h"
#include "sfsim/faults.h"
#include "sfsim/http/server.h"
#include "sfsim/oauth/auth_server.h"
#include "sfsim/org/org.h"

namespace sfbridge::sfsim {

struct SimulatorOptions {
  ServerOptions server;
  org::OrgOptions org;
  oauth::OAuthConfig oauth;  // instance_url and login_url are filled in from the server
  int64_t daily_api_max = 100'000;
  int long_running_max = 25;
  FaultSettings faults;
  double churn_per_second = 0;
  int churn_burst = 1;
  bool admin_enabled = false;
  int query_batch_size = 2000;
  std::chrono::milliseconds query_locator_idle{15 * 60 * 1000};
  BulkSettings bulk;  // created_by_id is filled in with the integration user
};

class Simulator {
 public:
  // Generates the org, binds the server and starts serving (and churning). `clock` must outlive
  // the Simulator. Errors: bad org options, a port that cannot be bound, unusable TLS files.
  static absl::StatusOr<std::unique_ptr<Simulator>> Start(SimulatorOptions options,
                                                          core::Clock& clock);
  ~Simulator();

  const std::string& base_url() const;
  org::Org& org();
  oauth::AuthServer& auth();
  ApiLimits& limits();
  Faults& faults();
  BulkQueryJobs& bulk();

 private:
  Simulator();
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace sfbridge::sfsim
