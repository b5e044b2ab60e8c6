// sfbridge-fetcher in-process against sfsim, the test PostgreSQL and Kafka: a full backfill
// reaches Kafka exactly as the org holds it, in pages of about 2,000 records, and a restart
// picks up later creates, updates and deletes from the stored cursors.

#include "fetcher/fetcher_service.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/control/migrations.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/kafka/consumer.h"
#include "common/postgres/connection.h"
#include "common/salesforce/poco_transport.h"
#include "fetcher/kafka_sink.h"
#include "sfbridge/v1/record.pb.h"
#include "sfsim/simulator.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/sync_test_support.h"

namespace sfbridge::fetcher {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::Differences;
using testing::RecordsReader;
using testing::SeenByObject;

const std::vector<std::string> kObjects = {"User", "Account", "Contact", "Opportunity",
                                           "Invoice__c"};

sfsim::SimulatorOptions OrgOptions() {
  return testing::SimOptions({{"User", 5},
                              {"Account", 2000},
                              {"Contact", 20000},
                              {"Opportunity", 3000},
                              {"Invoice__c", 2000}});
}

class FetcherServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sim = sfsim::Simulator::Start(OrgOptions(), core::SystemClock::Instance());
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    org_id_ = testing::UniqueName("fetchit");
    conn_ = testing::ConnectWithUnlimitedOrg(db_.url(), org_id_);
    ASSERT_NE(conn_, nullptr);
  }

  FetcherOptions Options(milliseconds poll_interval) const {
    FetcherOptions o =
        testing::FetcherOptionsFor(db_.url(), org_id_, sim_->base_url(), testing::kLogin);
    o.objects = kObjects;
    o.poll_interval = poll_interval;
    o.metrics_port = 0;
    o.metrics_host = "127.0.0.1";
    o.replica_id = core::StrCat(org_id_, "-replica");
    o.max_attempts = 3;
    o.initial_backoff = milliseconds(50);
    o.settings_refresh = milliseconds(200);
    return o;
  }

  // True once every object is live (and none in error, which fails the test).
  bool AllLive() {
    auto objects = control::LoadObjects(*conn_, org_id_);
    EXPECT_TRUE(objects.ok()) << objects.status();
    if (!objects.ok()) return false;
    int live = 0;
    for (const control::ObjectStatus& o : *objects) {
      EXPECT_NE(o.state, control::ObjectState::kError)
          << o.object_name << ": " << o.error.value_or("");
      if (o.state == control::ObjectState::kLive) ++live;
    }
    return live == static_cast<int>(kObjects.size());
  }

  testing::TempDatabase db_;
  std::unique_ptr<sfsim::Simulator> sim_;
  std::unique_ptr<postgres::Connection> conn_;
  std::string org_id_;
};

using RunningFetcher = testing::RunningService<FetcherService>;

TEST_F(FetcherServiceTest, BackfillsEveryRecordThenFollowsChanges) {
  int64_t total = 0;
  for (const std::string& object : kObjects) total += sim_->org().Count(object, true);

  // Phase 1: the backfill. Polls wait a minute so the calls counted are the backfill's.
  sim_->limits().ResetCounts();
  const auto start = std::chrono::steady_clock::now();
  auto fetcher = std::make_unique<RunningFetcher>(Options(seconds(60)));
  const auto give_up = start + seconds(300);
  bool live = false;
  while (!(live = AllLive()) && std::chrono::steady_clock::now() < give_up && !HasFailure()) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  const double backfill_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::map<std::string, int64_t> calls = sim_->limits().CallsByKind();
  ASSERT_TRUE(live) << "not every object went live";

  EXPECT_GT(fetcher->service().bound_metrics_port(), 0);
  EXPECT_TRUE(fetcher->service().ready());
  const std::string metrics = fetcher->service().metrics().RenderText();
  EXPECT_NE(metrics.find("sfbridge_fetcher_api_calls_total{"), std::string::npos);
  EXPECT_NE(metrics.find("sfbridge_fetcher_records_published_total{"), std::string::npos);
  EXPECT_NE(metrics.find("sfbridge_fetcher_backfill_records{"), std::string::npos);
  ASSERT_TRUE(fetcher->Stop().ok());
  fetcher.reset();

  int64_t query_calls = 0;
  std::string by_kind;
  for (const auto& [kind, n] : calls) {
    by_kind += core::StrCat(kind, "=", n, " ");
    if (kind == "query" || kind == "query_more" || kind == "query_all") query_calls += n;
  }
  // Each object's last page is short (or the count ends it): with five objects, one of five
  // records, the average stays below the 2,000 of a full page.
  const double per_call = static_cast<double>(total) / static_cast<double>(query_calls);
  std::printf(
      "[ backfill ] records=%lld seconds=%.2f records_per_second=%.0f query_calls=%lld "
      "records_per_query_call=%.1f calls: %s\n",
      static_cast<long long>(total), backfill_seconds, total / backfill_seconds,
      static_cast<long long>(query_calls), per_call, by_kind.c_str());
  // The backfill proper, as the control plane stamped it (start-up and discovery excluded).
  auto window = conn_->Exec(
      "SELECT EXTRACT(EPOCH FROM max(backfill_completed_at) - min(backfill_started_at)) "
      "FROM sfbridge.objects WHERE org_id = $1",
      {org_id_});
  ASSERT_TRUE(window.ok()) << window.status();
  ASSERT_TRUE(window->rows.at(0).at(0).has_value());
  const double window_seconds = std::stod(*window->rows[0][0]);
  std::printf("[ backfill ] stamped window=%.2f s records_per_second=%.0f\n", window_seconds,
              total / std::max(window_seconds, 0.001));
  EXPECT_GE(per_call, 1700);

  const std::string topic = control::RecordsTopic(org_id_);
  RecordsReader reader(topic);
  reader.ReadUntil(
      [&](const SeenByObject& seen) {
        size_t n = 0;
        for (const auto& [o, m] : seen) n += m.size();
        return n >= static_cast<size_t>(total);
      },
      seconds(10), seconds(120));
  for (const std::string& object : kObjects) {
    auto expected = sim_->org().Digest(object, true);
    auto it = reader.seen().find(object);
    ASSERT_NE(it, reader.seen().end()) << object << " never published";
    EXPECT_EQ(Differences(expected, it->second), "") << object;
  }
  std::printf("[ backfill ] messages=%lld distinct=%lld\n",
              static_cast<long long>(reader.messages()), static_cast<long long>(total));

  // Phase 2: changes while the fetcher is down, then a restart from the stored cursors.
  sfsim::org::InputRecord account = {
      {"Name", {.kind = sfsim::org::InputValue::Kind::kString, .text = "Fetcher Test Co"}}};
  sfsim::org::SaveResult created = sim_->org().Create("Account", account);
  ASSERT_TRUE(created.success) << (created.errors.empty() ? "" : created.errors[0].message);
  const std::string contact_id = sim_->org().Digest("Contact", false).begin()->first;
  sfsim::org::SaveResult updated = sim_->org().Update(
      "Contact", contact_id,
      {{"LastName", {.kind = sfsim::org::InputValue::Kind::kString, .text = "Renamed"}}});
  ASSERT_TRUE(updated.success) << (updated.errors.empty() ? "" : updated.errors[0].message);
  const std::string opportunity_id = sim_->org().Digest("Opportunity", false).rbegin()->first;
  sfsim::org::SaveResult deleted = sim_->org().Delete(opportunity_id);
  ASSERT_TRUE(deleted.success) << (deleted.errors.empty() ? "" : deleted.errors[0].message);
  const int churned = sim_->org().ChurnStep(11, 300, 60);
  EXPECT_GT(churned, 0);

  auto matches = [&](const SeenByObject& seen) {
    for (const std::string& object : kObjects) {
      auto it = seen.find(object);
      if (it == seen.end()) return false;
      if (!Differences(sim_->org().Digest(object, true), it->second).empty()) return false;
    }
    return true;
  };
  fetcher = std::make_unique<RunningFetcher>(Options(milliseconds(300)));
  reader.ReadUntil(matches, seconds(120), seconds(120));
  ASSERT_TRUE(fetcher->Stop().ok());
  fetcher.reset();

  for (const std::string& object : kObjects) {
    auto expected = sim_->org().Digest(object, true);
    auto live_ids = sim_->org().Digest(object, false);
    const auto& seen = reader.seen().at(object);
    EXPECT_EQ(Differences(expected, seen), "") << object << " after the changes";
    int tombstones = 0;
    for (const auto& [id, stamp] : expected) {
      auto it = seen.find(id);
      if (it == seen.end()) continue;
      const bool is_deleted = !live_ids.contains(id);
      EXPECT_EQ(it->second.deleted, is_deleted) << object << " " << id;
      tombstones += is_deleted ? 1 : 0;
    }
    std::printf("[ changes ] object=%s records=%zu tombstones=%d\n", object.c_str(),
                expected.size(), tombstones);
  }
  const auto& accounts = reader.seen().at("Account");
  EXPECT_TRUE(accounts.contains(created.id));
  EXPECT_EQ(reader.seen().at("Contact").at(contact_id).modstamp_ms,
            sim_->org().Digest("Contact", true).at(contact_id));
  ASSERT_TRUE(reader.seen().at("Opportunity").contains(opportunity_id));
  EXPECT_TRUE(reader.seen().at("Opportunity").at(opportunity_id).deleted);
  std::printf("[ changes ] churned=%d messages=%lld\n", churned,
              static_cast<long long>(reader.messages()));
}

TEST_F(FetcherServiceTest, BinaryServesMetricsAndStopsOnSigterm) {
  const int port = testing::FreePort();
  std::map<std::string, std::string> env = testing::FetcherEnv(
      db_.url(), org_id_, sim_->base_url(), "User, Account,Contact,Opportunity,Invoice__c");
  env["SFBRIDGE_FETCHER_POLL_INTERVAL"] = "1s";
  env["SFBRIDGE_METRICS_PORT"] = std::to_string(port);
  auto child = testing::ChildProcess::Start({SFBRIDGE_FETCHER}, env);
  ASSERT_NE(child, nullptr);
  const auto give_up = std::chrono::steady_clock::now() + seconds(300);
  bool live = false;
  while (!(live = AllLive()) && std::chrono::steady_clock::now() < give_up && !HasFailure() &&
         child->GroupAlive()) {
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(live) << child->Output();

  auto transport = salesforce::PocoTransport::Create({});
  ASSERT_TRUE(transport.ok());
  const std::string base = core::StrCat("http://127.0.0.1:", port);
  auto ready = (*transport)->Send({.url = base + "/readyz", .timeout = seconds(10)});
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
  auto metrics = (*transport)->Send({.url = base + "/metrics", .timeout = seconds(10)});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(metrics->body.find(core::StrCat("sfbridge_fetcher_records_published_total{org=\"",
                                            org_id_, "\",object=\"Contact\"} 20000")),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("sfbridge_fetcher_api_calls_total{"), std::string::npos);
  EXPECT_NE(metrics->body.find(core::StrCat("sfbridge_fetcher_backfill_records{org=\"", org_id_,
                                            "\",object=\"Contact\"} 20000")),
            std::string::npos);

  child->Signal(SIGTERM);
  std::optional<int> code = child->Wait(seconds(30));
  ASSERT_TRUE(code.has_value()) << child->Output();
  EXPECT_EQ(*code, 0) << child->Output();
  const std::string output = child->Output();
  EXPECT_NE(output.find("object=Contact"), std::string::npos);
  EXPECT_EQ(output.find(testing::kPassword), std::string::npos);
  EXPECT_EQ(output.find(testing::kClientSecret), std::string::npos);
}

}  // namespace
}  // namespace sfbridge::fetcher
