#include "sfsim/simulator.h"

#include "common/core/strings.h"
#include "sfsim/admin_api.h"
#include "sfsim/churn.h"
#include "sfsim/query_cursors.h"
#include "sfsim/rest_api.h"

namespace sfbridge::sfsim {

struct Simulator::Parts {
  std::unique_ptr<org::Org> org;
  std::unique_ptr<oauth::AuthServer> auth;
  std::unique_ptr<ApiLimits> limits;
  std::unique_ptr<Faults> faults;
  std::unique_ptr<QueryCursors> cursors;
  std::unique_ptr<BulkQueryJobs> bulk;
  std::unique_ptr<RestApi> rest;
  std::unique_ptr<Churn> churn;
  std::unique_ptr<AdminApi> admin;
  std::unique_ptr<Server> server;
  std::string base_url;
};

Simulator::Simulator() : parts_(new Parts()) {}

Simulator::~Simulator() {
  if (parts_->server) parts_->server->Stop();
  if (parts_->churn) parts_->churn->Stop();
}

absl::StatusOr<std::unique_ptr<Simulator>> Simulator::Start(SimulatorOptions options,
                                                            core::Clock& clock) {
  std::unique_ptr<Simulator> sim(new Simulator());
  Parts& p = *sim->parts_;
  absl::StatusOr<std::unique_ptr<org::Org>> org = org::Org::Create(options.org, clock);
  if (!org.ok()) return org.status();
  p.org = std::move(*org);
  p.limits = std::make_unique<ApiLimits>(options.daily_api_max, options.long_running_max);
  p.faults = std::make_unique<Faults>(options.org.seed);
  p.faults->Set(options.faults);
  p.cursors = std::make_unique<QueryCursors>(clock, options.query_locator_idle, 10'000);
  p.churn = std::make_unique<Churn>(*p.org, options.org.seed * 7919 + 1);

  // The server is bound first so that the instance URL (with the real port) goes into tokens.
  Server* server_ptr = nullptr;
  Simulator* self = sim.get();
  p.server = std::make_unique<Server>(options.server, [self](const Request& r) -> Response {
    Parts& parts = *self->parts_;
    if (std::string_view(r.path).starts_with(kAdminPrefix)) {
      if (!parts.admin)
        return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
      return parts.admin->Handle(r);
    }
    return parts.rest->Handle(r);
  });
  server_ptr = p.server.get();
  options.oauth.org_id = p.org->org_id();
  if (options.oauth.user_id.empty()) {
    // The integration user: the org's first User, as a login would find it.
    std::map<std::string, int64_t> users = p.org->Digest("User", false);
    options.oauth.user_id = users.empty() ? "005000000000001AAA" : users.begin()->first;
  }
  if (absl::Status valid = oauth::ValidateOAuthConfig(options.oauth); !valid.ok()) return valid;
  p.auth = std::make_unique<oauth::AuthServer>(options.oauth, clock);
  RestApiOptions rest_options;
  rest_options.default_batch_size = options.query_batch_size;
  options.bulk.created_by_id = options.oauth.user_id;
  p.bulk = std::make_unique<BulkQueryJobs>(*p.org, clock, options.bulk);
  p.rest = std::make_unique<RestApi>(*p.org, *p.auth, *p.limits, *p.faults, *p.cursors, *p.bulk,
                                     clock, rest_options);
  if (options.admin_enabled) {
    p.admin = std::make_unique<AdminApi>(*p.org, *p.auth, *p.limits, *p.faults, *p.cursors,
                                         *p.churn, *p.bulk);
  }
  absl::StatusOr<uint16_t> port = server_ptr->Start();
  if (!port.ok()) return port.status();
  p.base_url = server_ptr->BaseUrl();
  p.auth->set_instance_url(p.base_url);
  p.churn->SetRate(options.churn_per_second, options.churn_burst);
  p.churn->Start();
  return sim;
}

const std::string& Simulator::base_url() const { return parts_->base_url; }
org::Org& Simulator::org() { return *parts_->org; }
oauth::AuthServer& Simulator::auth() { return *parts_->auth; }
ApiLimits& Simulator::limits() { return *parts_->limits; }
Faults& Simulator::faults() { return *parts_->faults; }
BulkQueryJobs& Simulator::bulk() { return *parts_->bulk; }

}  // namespace sfbridge::sfsim
