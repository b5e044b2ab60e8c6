#pragma once

// What the end-to-end sync tests share: a control plane with an org whose budget does not
// limit the test, an sfsim org and the options of the services that sync it, services run in
// threads, the synced tables read back, and waiting for a condition.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/control/migrations.h"
#include "common/control/org_settings.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "fetcher/fetcher_service.h"
#include "sfsim/simulator.h"
#include "tests/harness/test_env.h"
#include "writer/table_schema.h"
#include "writer/writer_service.h"

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

// The connected app and user an sfsim org accepts and the fetcher logs in with.
struct SimLogin {
  std::string_view client_id;
  std::string_view client_secret;
  std::string_view username;
  std::string_view password;
};

// An sfsim org generated from `seed` with `counts` records per object, the admin API and
// `login`.
inline sfsim::SimulatorOptions SimOrgOptions(uint64_t seed, std::map<std::string, int64_t> counts,
                                             int burst_size, const SimLogin& login) {
  sfsim::SimulatorOptions o;
  o.org.seed = seed;
  o.org.counts = std::move(counts);
  o.org.burst_size = burst_size;
  o.admin_enabled = true;
  o.server.threads = 4;
  o.oauth.client_id = std::string(login.client_id);
  o.oauth.client_secret = std::string(login.client_secret);
  o.oauth.username = std::string(login.username);
  o.oauth.password = std::string(login.password);
  return o;
}

// A fetcher of `org_id` into `postgres_url` and the test Kafka, logging in at `login_url` with
// the password flow; the caller sets the objects, intervals and the rest.
inline fetcher::FetcherOptions FetcherOptionsFor(const std::string& postgres_url,
                                                 const std::string& org_id,
                                                 const std::string& login_url,
                                                 const SimLogin& login) {
  fetcher::FetcherOptions o;
  o.postgres_url = postgres_url;
  o.kafka_brokers = KafkaBrokers();
  o.org_id = org_id;
  o.credentials.flow = salesforce::AuthFlow::kPassword;
  o.credentials.login_url = login_url;
  o.credentials.client_id = std::string(login.client_id);
  o.credentials.client_secret = std::string(login.client_secret);
  o.credentials.username = std::string(login.username);
  o.credentials.password = std::string(login.password);
  return o;
}

// A writer of `org_id` from the test Kafka into `postgres_url`, its gRPC and metrics servers on
// ports of 127.0.0.1 the system picks.
inline writer::WriterOptions WriterOptionsFor(const std::string& postgres_url,
                                              const std::string& org_id) {
  writer::WriterOptions o;
  o.postgres_url = postgres_url;
  o.kafka_brokers = KafkaBrokers();
  o.org_id = org_id;
  o.grpc_port = 0;
  o.grpc_host = "127.0.0.1";
  o.metrics_port = 0;
  o.metrics_host = "127.0.0.1";
  return o;
}

// Whether `count` objects of `org_id` are live (false when they cannot be read).
inline bool ObjectsLive(postgres::Connection& conn, const std::string& org_id, int count) {
  auto rows = control::LoadObjects(conn, org_id);
  if (!rows.ok()) return false;
  int live = 0;
  for (const auto& o : *rows) live += o.state == control::ObjectState::kLive ? 1 : 0;
  return live == count;
}

// "schema"."table" of the synced table of `org_id`'s `object`; "" when it has none yet.
inline absl::StatusOr<std::string> SyncedTableName(postgres::Connection& conn,
                                                   const std::string& org_id,
                                                   const std::string& object) {
  auto t = conn.Exec(
      "SELECT schema_name, table_name FROM sfbridge.synced_tables "
      "WHERE org_id = $1 AND object_name = $2",
      {org_id, object});
  if (!t.ok()) return t.status();
  if (t->rows.empty()) return "";
  return core::StrCat("\"", *t->rows[0][0], "\".\"", *t->rows[0][1], "\"");
}

// id -> _modstamp_ms of the synced table of `org_id`'s `object`; empty when it has none yet.
inline absl::StatusOr<std::map<std::string, int64_t>> StoredModstamps(postgres::Connection& conn,
                                                                      const std::string& org_id,
                                                                      const std::string& object) {
  std::map<std::string, int64_t> out;
  absl::StatusOr<std::string> table = SyncedTableName(conn, org_id, object);
  if (!table.ok()) return table.status();
  if (table->empty()) return out;
  auto rows = conn.Exec(core::StrCat("SELECT id, _modstamp_ms FROM ", *table));
  if (!rows.ok()) return rows.status();
  for (const auto& r : rows->rows) out[*r[0]] = std::stoll(*r[1]);
  return out;
}

// A test with an org of its own on a control-plane connection (ConnectOrg in SetUp), and what
// it syncs read back.
class OrgTest : public ::testing::Test {
 protected:
  // Names the org "<prefix>-..." (UniqueName), connects to `url`, registers the org with
  // ConnectWithUnlimitedOrg and creates the writer's tables; fails the test on an error.
  void ConnectOrg(std::string_view prefix, const std::string& url) {
    org_id_ = UniqueName(std::string(prefix));
    conn_ = ConnectWithUnlimitedOrg(url, org_id_);
    ASSERT_NE(conn_, nullptr);
    ASSERT_TRUE(writer::EnsureWriterTables(*conn_).ok());
  }

  // id -> _modstamp_ms of the object's synced table; empty when it has none yet. An error fails
  // the test.
  std::map<std::string, int64_t> Stored(const std::string& object) {
    absl::StatusOr<std::map<std::string, int64_t>> stored =
        StoredModstamps(*conn_, org_id_, object);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? *std::move(stored) : std::map<std::string, int64_t>{};
  }
  // The same while waiting for a sync, when PostgreSQL may be away: empty on an error.
  std::map<std::string, int64_t> StoredSoFar(const std::string& object) {
    absl::StatusOr<std::map<std::string, int64_t>> stored =
        StoredModstamps(*conn_, org_id_, object);
    return stored.ok() ? *std::move(stored) : std::map<std::string, int64_t>{};
  }

  // Whether every one of `objects` is live (ObjectsLive).
  bool AllLive(const std::vector<std::string>& objects) {
    return ObjectsLive(*conn_, org_id_, static_cast<int>(objects.size()));
  }
  // Whether every one of `objects` holds in its table what `sim` holds (its digest).
  bool Converged(sfsim::Simulator& sim, const std::vector<std::string>& objects) {
    for (const std::string& object : objects) {
      if (sim.org().Digest(object, false) != StoredSoFar(object)) return false;
    }
    return true;
  }

  std::unique_ptr<postgres::Connection> conn_;
  std::string org_id_;
};

// Runs a service (anything with `absl::Status Run(std::stop_token)`) in a thread from
// construction until Stop() or destruction.
template <typename Service>
class RunningService {
 public:
  // `args` are the service's: its options, then what it takes besides (a clock, say).
  template <typename... Args>
  explicit RunningService(Args&&... args) : service_(std::forward<Args>(args)...) {
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
