#pragma once

// What the end-to-end sync tests share: a control plane with an org whose budget does not
// limit the test, services run in threads, and waiting for a condition.

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "common/control/migrations.h"
#include "common/control/org_settings.h"
#include "common/postgres/connection.h"

namespace sfbridge::testing {

// Connects to `url`, migrates the control plane and registers `org_id` with a budget of 1,000
// calls a second, so the test measures the services, not the rate limit. nullptr on failure.
inline std::unique_ptr<postgres::Connection> ConnectWithUnlimitedOrg(const std::string& url,
                                                                     const std::string& org_id) {
  auto conn = postgres::Connection::Connect(url);
  if (!conn.ok() || !control::Migrate(**conn).ok()) return nullptr;
  control::OrgSettings settings;
  settings.org_id = org_id;
  settings.display_name = org_id;
  settings.rate_per_second = 1000;
  settings.burst = 1000;
  settings.daily_quota_share = 1;
  if (!control::UpsertOrg(**conn, settings).ok()) return nullptr;
  return *std::move(conn);
}

// Runs a service (anything with `absl::Status Run(std::stop_token)`) in a thread from
// construction until Stop() or destruction.
template <typename Service>
class RunningService {
 public:
  template <typename Options>
  explicit RunningService(Options options) : service_(std::move(options)) {
    thread_ = std::jthread([this](std::stop_token stop) { result_ = service_.Run(stop); });
  }
  ~RunningService() {
    if (thread_.joinable()) Stop().IgnoreError();
  }
  // Stops the service and returns what Run returned.
  absl::Status Stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  Service& service() { return service_; }

 private:
  Service service_;
  absl::Status result_;
  std::jthread thread_;
};

// Checks `done` every 200 ms until it holds or `limit` passes; its last answer.
template <typename Pred>
bool WaitUntil(Pred done, std::chrono::milliseconds limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

}  // namespace sfbridge::testing
