// PostgreSQL (pg_ctl -m immediate, then started on the same port and data) or the Kafka broker
// (stopped, then started on the same port and data) restarted in place under a running fetcher
// and writer: sfsim -> fetcher -> Kafka -> writer -> PostgreSQL, the services in-process, the
// restarted server one of the test's own (never the shared one).
//
// Shows: both services notice the loss (/readyz 503 naming the server, dependency_up 0),
// reconnect without a restart (/readyz 200 again, dependency_up 1), the tables converge
// (`sfbridge verify` finds no difference), record versions published twice stay within a page
// per object, and prints the time from the server back to the first change synced per service.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "common/salesforce/poco_transport.h"
#include "fetcher/fetcher_service.h"
#include "sfsim/simulator.h"
#include "tests/harness/test_env.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/readiness_watch.h"
#include "tests/integration/sync_test_support.h"
#include "writer/table_schema.h"
#include "writer/writer_service.h"

namespace sfbridge {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using Steady = std::chrono::steady_clock;

using RunningWriter = testing::RunningService<writer::WriterService>;
using RunningFetcher = testing::RunningService<fetcher::FetcherService>;
using testing::ReadinessWatch;

double SecondsSince(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

enum class Outage { kPostgres, kKafka };

class OutageTest : public testing::OrgTest {
 protected:
  void SetUp() override { ConnectOrg("outage", pg_.address()); }

  std::optional<int64_t> Cursor(const std::string& object) {
    auto r = conn_->Exec(
        "SELECT cursor_modstamp_ms FROM sfbridge.objects WHERE org_id = $1 AND object_name = $2",
        {org_id_, object});
    if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return std::nullopt;
    return std::stoll(*r->rows[0][0]);
  }

  // Runs sfsim, the writer and the fetcher, restarts `which` in place while changes are made in
  // sfsim, and checks and prints what the file's comment says.
  void Run(Outage which, const std::string& brokers, testing::OwnServer& server);

  testing::OwnServer pg_{testing::OwnServer::Kind::kPostgres};
  // Reconnects by itself after a restart, as the services' connections do.
};

// Updates `n` Accounts of `sim` (a new Name each); returns the last one's id.
std::string UpdateAccounts(sfsim::Simulator& sim, int n, const std::string& tag) {
  std::string last;
  int i = 0;
  for (const auto& [id, stamp] : sim.org().Digest("Account", false)) {
    if (i >= n) break;
    sfsim::org::SaveResult r = sim.org().Update(
        "Account", id,
        {{"Name", {.kind = sfsim::org::InputValue::Kind::kString, .text = StrCat(tag, " ", i++)}}});
    EXPECT_TRUE(r.success);
    last = id;
  }
  return last;
}

void OutageTest::Run(Outage which, const std::string& brokers, testing::OwnServer& server) {
  const std::string name = which == Outage::kPostgres ? "postgres" : "kafka";
  const std::vector<std::string> objects = {"Account", "Contact"};
  auto sim = sfsim::Simulator::Start(
      testing::SimOrgOptions(31, {{"Account", 300}, {"Contact", 1500}}, 200, testing::kLogin),
      core::SystemClock::Instance());
  ASSERT_TRUE(sim.ok()) << sim.status();

  writer::WriterOptions w = testing::WriterOptionsFor(pg_.address(), org_id_);
  w.kafka_brokers = brokers;
  w.dependency_probe = milliseconds(500);
  fetcher::FetcherOptions f =
      testing::FetcherOptionsFor(pg_.address(), org_id_, (*sim)->base_url(), testing::kLogin);
  f.kafka_brokers = brokers;
  f.objects = objects;
  f.poll_interval = milliseconds(300);
  f.metrics_port = 0;
  f.metrics_host = "127.0.0.1";
  f.replica_id = StrCat(org_id_, "-replica");
  f.partitions = 3;
  f.max_attempts = 3;
  f.initial_backoff = milliseconds(50);
  f.dependency_probe = milliseconds(500);
  f.reconnect_max = milliseconds(1'000);

  auto all_live = [&] { return AllLive(objects); };
  auto converged = [&] { return Converged(**sim, objects); };

  auto writer = std::make_unique<RunningWriter>(w);
  auto fetch = std::make_unique<RunningFetcher>(f);
  ReadinessWatch fetcher_ready([&] { return fetch->service().bound_metrics_port(); });
  ReadinessWatch writer_ready([&] { return writer->service().bound_metrics_port(); });
  ASSERT_TRUE(testing::WaitUntil(all_live, seconds(300))) << "not every object went live";
  ASSERT_TRUE(testing::WaitUntil(converged, seconds(120))) << "the tables did not catch up";
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return fetcher_ready.last_status() == 200 && writer_ready.last_status() == 200; },
      seconds(30)))
      << "fetcher:\n"
      << fetcher_ready.History() << "writer:\n"
      << writer_ready.History();

  // Changes before and during the outage; the server down for a few seconds.
  UpdateAccounts(**sim, 20, "before");
  std::this_thread::sleep_for(milliseconds(500));
  const auto stopped = Steady::now();
  server.Stop();
  UpdateAccounts(**sim, 40, "during");
  (*sim)->org().ChurnStep(5, 100, 20);
  const std::string down = name + " unreachable";
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return fetcher_ready.Saw(503, down, stopped) && writer_ready.Saw(503, down, stopped); },
      seconds(20)))
      << "readiness did not go down\nfetcher:\n"
      << fetcher_ready.History() << "writer:\n"
      << writer_ready.History();
  EXPECT_FALSE(fetch->service().ready());
  EXPECT_FALSE(writer->service().ready());
  EXPECT_THAT(fetch->service().metrics().RenderText(),
              HasSubstr(StrCat("sfbridge_fetcher_dependency_up{org=\"", org_id_, "\",dependency=\"",
                               name, "\"} 0")));
  EXPECT_THAT(writer->service().metrics().RenderText(),
              HasSubstr(StrCat("sfbridge_writer_dependency_up{org=\"", org_id_, "\",dependency=\"",
                               name, "\"} 0")));
  std::this_thread::sleep_for(seconds(3));

  server.Start();
  const auto back = Steady::now();
  const std::string marker = UpdateAccounts(**sim, 1, "after");
  const int64_t marker_stamp = (*sim)->org().Digest("Account", false).at(marker);

  // The first change after the server is back: the fetcher stores a cursor past the marker
  // (published and acknowledged first), the writer stores the marker's row.
  std::optional<double> fetcher_s, writer_s;
  const auto give_up = Steady::now() + seconds(90);
  while ((!fetcher_s || !writer_s) && Steady::now() < give_up) {
    if (!fetcher_s) {
      std::optional<int64_t> cursor = Cursor("Account");
      if (cursor && *cursor >= marker_stamp) fetcher_s = SecondsSince(back);
    }
    if (!writer_s) {
      auto stored = StoredSoFar("Account");
      auto it = stored.find(marker);
      if (it != stored.end() && it->second == marker_stamp) writer_s = SecondsSince(back);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(fetcher_s.has_value()) << "the fetcher stored no cursor past the marker";
  ASSERT_TRUE(writer_s.has_value()) << "the writer did not store the marker";
  std::printf(
      "[ %s restart ] down %.1f s; from %s back to the first change synced: fetcher %.2f s "
      "(cursor stored past a change made at the restart), writer %.2f s (its row stored)\n",
      name.c_str(), std::chrono::duration<double>(back - stopped).count(), name.c_str(), *fetcher_s,
      *writer_s);

  ASSERT_TRUE(testing::WaitUntil(converged, seconds(60))) << "the tables did not converge";
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return fetcher_ready.Saw(200, "", back) && writer_ready.Saw(200, "", back); },
      seconds(30)))
      << "readiness did not come back\nfetcher:\n"
      << fetcher_ready.History() << "writer:\n"
      << writer_ready.History();
  std::printf("[ %s restart ] readiness, fetcher:\n%swriter:\n%s", name.c_str(),
              fetcher_ready.History().c_str(), writer_ready.History().c_str());
  EXPECT_THAT(fetch->service().metrics().RenderText(),
              HasSubstr(StrCat("sfbridge_fetcher_dependency_up{org=\"", org_id_, "\",dependency=\"",
                               name, "\"} 1")));
  EXPECT_THAT(writer->service().metrics().RenderText(),
              HasSubstr(StrCat("sfbridge_writer_dependency_up{org=\"", org_id_, "\",dependency=\"",
                               name, "\"} 1")));

  ASSERT_TRUE(fetch->Stop().ok());
  ASSERT_TRUE(writer->Stop().ok());

  // Record versions published more than once: at most a page per object (the page in flight
  // when the server went).
  testing::RecordsReader reader(StrCat("sfbridge.", org_id_, ".records"), brokers);
  reader.ReadUntil([](const testing::SeenByObject&) { return false; }, seconds(3), seconds(60));
  std::printf("[ %s restart ] messages=%lld versions published more than once=%lld\n", name.c_str(),
              static_cast<long long>(reader.messages()),
              static_cast<long long>(reader.repeated_versions()));
  EXPECT_LE(reader.repeated_versions(), 2 * 2000);

  // verify, field by field, against sfsim.
  testing::CommandResult verify =
      testing::RunCommand({SFBRIDGE_CLI, "verify", "--postgres.url=" + pg_.address(),
                           "--org.id=" + org_id_, "--sfsim.url=" + (*sim)->base_url()},
                          {}, seconds(120));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("missing=0 extra=0 stale=0")) << verify.output;
}

TEST_F(OutageTest, PostgresRestartedUnderFetcherAndWriter) {
  Run(Outage::kPostgres, testing::KafkaBrokers(), pg_);
}

TEST_F(OutageTest, KafkaRestartedUnderFetcherAndWriter) {
  testing::OwnServer kafka(testing::OwnServer::Kind::kKafka);
  Run(Outage::kKafka, kafka.address(), kafka);
}

TEST_F(OutageTest, AFetcherStartedWhilePostgresIsDownWaitsForItAndSyncs) {
  auto sim =
      sfsim::Simulator::Start(testing::SimOrgOptions(32, {{"Account", 50}}, 200, testing::kLogin),
                              core::SystemClock::Instance());
  ASSERT_TRUE(sim.ok()) << sim.status();
  fetcher::FetcherOptions f =
      testing::FetcherOptionsFor(pg_.address(), org_id_, (*sim)->base_url(), testing::kLogin);
  f.kafka_brokers = testing::KafkaBrokers();
  f.objects = std::vector<std::string>{"Account"};
  f.poll_interval = milliseconds(300);
  f.metrics_port = 0;
  f.metrics_host = "127.0.0.1";
  f.reconnect_max = milliseconds(500);

  pg_.Stop();
  RunningFetcher fetch(f);
  ReadinessWatch ready([&] { return fetch.service().bound_metrics_port(); });
  const auto started = Steady::now();
  ASSERT_TRUE(testing::WaitUntil([&] { return ready.Saw(503, "postgres unreachable", started); },
                                 seconds(20)))
      << "the fetcher did not say what it waits for\n"
      << ready.History();
  std::this_thread::sleep_for(seconds(2));
  EXPECT_FALSE(fetch.service().ready());
  EXPECT_THAT(fetch.service().metrics().RenderText(),
              HasSubstr(StrCat("sfbridge_fetcher_dependency_up{org=\"", org_id_,
                               "\",dependency=\"postgres\"} 0")));

  pg_.Start();
  const auto back = Steady::now();
  ASSERT_TRUE(
      testing::WaitUntil([&] { return testing::ObjectsLive(*conn_, org_id_, 1); }, seconds(120)))
      << "the fetcher did not backfill once PostgreSQL was back\n"
      << ready.History();
  ASSERT_TRUE(testing::WaitUntil([&] { return ready.Saw(200, "", back); }, seconds(30)))
      << ready.History();
  std::printf("[ start without postgres ] from postgres back to the object live: %.2f s\n",
              SecondsSince(back));
  ASSERT_TRUE(fetch.Stop().ok());
}

}  // namespace
}  // namespace sfbridge
