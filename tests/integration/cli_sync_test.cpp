// The sfbridge binary's verify and status commands against tables synced end to end
// (sfsim -> fetcher -> Kafka -> writer -> PostgreSQL, in-process), then against tables broken
// by hand.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <map>
#include <memory>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/control/migrations.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/kafka/producer.h"
#include "common/postgres/connection.h"
#include "fetcher/fetcher_service.h"
#include "sfsim/simulator.h"
#include "tests/harness/test_env.h"
#include "tests/integration/sync_test_support.h"
#include "writer/table_schema.h"
#include "writer/writer_service.h"

namespace sfbridge {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kClientId = "3MVG9cliSyncConsumerKey";
constexpr std::string_view kClientSecret = "cli-sync-client-secret-2b9e";
constexpr std::string_view kUsername = "cli@sfbridge.example";
constexpr std::string_view kPassword = "cli-sync-pass-word-token-9Qz";
constexpr testing::SimLogin kLogin = {kClientId, kClientSecret, kUsername, kPassword};

testing::CommandResult Cli(std::vector<std::string> args) {
  args.insert(args.begin(), SFBRIDGE_CLI);
  return testing::RunCommand(args, {}, seconds(120));
}

// The first line of `text` that starts with `prefix`; empty when none does.
std::string LineStartingWith(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(prefix)) return line;
  }
  return "";
}

using RunningWriter = testing::RunningService<writer::WriterService>;
using RunningFetcher = testing::RunningService<fetcher::FetcherService>;

class CliSyncTest : public testing::OrgTest {
 protected:
  void SetUp() override { ConnectOrg("cliit", db_.url()); }

  std::string Table(const std::string& object) {
    auto t = testing::SyncedTableName(*conn_, org_id_, object);
    EXPECT_TRUE(t.ok() && !t->empty());
    return t.ok() ? *t : "";
  }

  testing::TempDatabase db_;
};

sfsim::SimulatorOptions OrgOptions() {
  return testing::SimOrgOptions(23, {{"User", 5}, {"Account", 300}, {"Contact", 2000}}, 200,
                                kLogin);
}

TEST_F(CliSyncTest, VerifyAndStatusOnSyncedThenBrokenTables) {
  const std::vector<std::string> objects = {"User", "Account", "Contact"};
  auto sim = sfsim::Simulator::Start(OrgOptions(), core::SystemClock::Instance());
  ASSERT_TRUE(sim.ok()) << sim.status();

  const writer::WriterOptions w = testing::WriterOptionsFor(db_.url(), org_id_);

  fetcher::FetcherOptions f =
      testing::FetcherOptionsFor(db_.url(), org_id_, (*sim)->base_url(), kLogin);
  f.objects = objects;
  f.poll_interval = milliseconds(300);
  f.metrics_port = -1;
  f.replica_id = StrCat(org_id_, "-replica");
  f.partitions = 3;
  f.max_attempts = 3;
  f.initial_backoff = milliseconds(50);

  auto all_live = [&] { return AllLive(objects); };
  auto converged = [&] { return Converged(**sim, objects); };
  {
    auto writer = std::make_unique<RunningWriter>(w);
    auto fetch = std::make_unique<RunningFetcher>(f);
    ASSERT_TRUE(testing::WaitUntil(all_live, seconds(300))) << "not every object went live";
    ASSERT_TRUE(testing::WaitUntil(converged, seconds(300))) << "the tables did not catch up";
    ASSERT_TRUE(fetch->Stop().ok());
    ASSERT_TRUE(writer->Stop().ok());
  }

  const std::vector<std::string> base = {"verify", "--postgres.url=" + db_.url(),
                                         "--org.id=" + org_id_,
                                         "--sfsim.url=" + (*sim)->base_url()};
  auto ok = Cli(base);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  for (const std::string& object : objects) {
    const std::string line = LineStartingWith(ok.output, object + " ");
    const int64_t count = (*sim)->org().Count(object, false);
    EXPECT_THAT(line,
                HasSubstr(StrCat("rows=", count, " source=", count, " missing=0 extra=0 stale=0")))
        << ok.output;
  }
  EXPECT_THAT(LineStartingWith(ok.output, "total "), HasSubstr("missing=0 extra=0 stale=0"));
  EXPECT_THAT(ok.output, HasSubstr("snapshot"));

  // Break the Contact table: one row gone, one older, one that Salesforce does not have.
  const std::string table = Table("Contact");
  const std::map<std::string, int64_t> contacts = Stored("Contact");
  ASSERT_GE(contacts.size(), 2u);
  const std::string deleted = contacts.begin()->first;
  const std::string older = std::next(contacts.begin())->first;
  const std::string extra = "003EXTRAEXTRAEXTRA";
  ASSERT_TRUE(conn_->Exec(StrCat("DELETE FROM ", table, " WHERE id = $1"), {deleted}).ok());
  ASSERT_TRUE(
      conn_
          ->Exec(StrCat("UPDATE ", table, " SET _modstamp_ms = _modstamp_ms - 60000 WHERE id = $1"),
                 {older})
          .ok());
  ASSERT_TRUE(
      conn_->Exec(StrCat("INSERT INTO ", table, " (id, _modstamp_ms) VALUES ($1, 1)"), {extra})
          .ok());

  auto bad = Cli(base);
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  const std::string contact_line = LineStartingWith(bad.output, "Contact ");
  EXPECT_THAT(contact_line, HasSubstr("missing=1 extra=1 stale=1")) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr(StrCat("missing: ", deleted)));
  EXPECT_THAT(bad.output, HasSubstr(StrCat("extra: ", extra)));
  EXPECT_THAT(bad.output, HasSubstr(StrCat("stale, table older: ", older)));
  for (std::string_view object : {"User", "Account"}) {
    EXPECT_THAT(LineStartingWith(bad.output, StrCat(object, " ")),
                HasSubstr("missing=0 extra=0 stale=0"))
        << bad.output;
  }
  EXPECT_THAT(LineStartingWith(bad.output, "total "), HasSubstr("missing=1 extra=1 stale=1"));

  // The same through the Salesforce REST API (sfsim's), keyset paged by Id.
  auto rest = Cli(
      {"verify", "--postgres.url=" + db_.url(), "--org.id=" + org_id_,
       "--salesforce.login-url=" + (*sim)->base_url(), StrCat("--salesforce.client-id=", kClientId),
       StrCat("--salesforce.client-secret=", kClientSecret),
       StrCat("--salesforce.username=", kUsername), StrCat("--salesforce.password=", kPassword)});
  EXPECT_EQ(rest.exit_code, 1) << rest.output;
  EXPECT_THAT(LineStartingWith(rest.output, "Contact "), HasSubstr("missing=1 extra=1 stale=1"))
      << rest.output;
  EXPECT_THAT(LineStartingWith(rest.output, "total "),
              HasSubstr("rows=2305 source=2305 missing=1 extra=1 stale=1"))
      << rest.output;
  EXPECT_THAT(rest.output, Not(HasSubstr(std::string(kPassword))));
  EXPECT_THAT(rest.output, Not(HasSubstr(std::string(kClientSecret))));

  // Only the objects asked for.
  auto only = Cli({"verify", "--postgres.url=" + db_.url(), "--org.id=" + org_id_,
                   "--sfsim.url=" + (*sim)->base_url(), "--objects=User,Account"});
  EXPECT_EQ(only.exit_code, 0) << only.output;
  EXPECT_EQ(LineStartingWith(only.output, "Contact "), "") << only.output;

  // A settle period does not hide a lasting difference.
  auto settled = Cli({"verify", "--postgres.url=" + db_.url(), "--org.id=" + org_id_,
                      "--sfsim.url=" + (*sim)->base_url(), "--objects=Contact", "--settle=2"});
  EXPECT_EQ(settled.exit_code, 1) << settled.output;
  EXPECT_THAT(LineStartingWith(settled.output, "Contact "), HasSubstr("missing=1 extra=1 stale=1"));

  auto status = Cli({"status", "--postgres.url=" + db_.url(), "--org.id=" + org_id_});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  for (const std::string& object : objects) {
    const std::string line = LineStartingWith(status.output, "  " + object + " ");
    EXPECT_THAT(line, HasSubstr("live")) << status.output;
    EXPECT_THAT(line, HasSubstr("100.0%")) << status.output;
  }
  EXPECT_THAT(status.output, HasSubstr("budget   rate=1000.000/s burst=1000 tokens="));
  EXPECT_THAT(status.output, HasSubstr("calls_total="));
  EXPECT_THAT(status.output, HasSubstr("writer   lag unknown (pass --kafka.brokers to see it)"));
  EXPECT_THAT(status.output, HasSubstr(StrCat("sfbridge.", org_id_, ".records: [0] at ")));

  // With Kafka: the writer's lag per partition. Five messages it has not seen (it is stopped)
  // add exactly five to the lag.
  auto lag_of = [&](const std::string& output) -> int64_t {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(output).get(doc)) return -1;
    int64_t lag = -1;
    if (doc["orgs"].at(0)["consumer_lag"].get_int64().get(lag)) return -1;
    return lag;
  };
  const std::vector<std::string> lag_args = {"status", "--postgres.url=" + db_.url(),
                                             "--org.id=" + org_id_,
                                             "--kafka.brokers=" + testing::KafkaBrokers()};
  auto with_kafka = Cli(lag_args);
  EXPECT_EQ(with_kafka.exit_code, 0) << with_kafka.output;
  EXPECT_THAT(with_kafka.output, HasSubstr("writer   lag ")) << with_kafka.output;
  EXPECT_THAT(with_kafka.output, HasSubstr(" lag 0")) << with_kafka.output;
  std::vector<std::string> json_args = lag_args;
  json_args.push_back("--format=json");
  auto before = Cli(json_args);
  const int64_t lag_before = lag_of(before.output);
  ASSERT_GE(lag_before, 0) << before.output;
  {
    auto producer = kafka::Producer::Create({.brokers = testing::KafkaBrokers()},
                                            [](const kafka::DeliveryReport&) {});
    ASSERT_TRUE(producer.ok()) << producer.status();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*producer)
                      ->Produce(StrCat("sfbridge.", org_id_, ".records"), StrCat("lag-", i),
                                "not a record", static_cast<uint64_t>(i))
                      .ok());
    }
    ASSERT_TRUE((*producer)->Flush(10'000).ok());
  }
  auto after = Cli(json_args);
  EXPECT_EQ(lag_of(after.output), lag_before + 5) << after.output;
  EXPECT_THAT(after.output, HasSubstr("\"high_watermark\":")) << after.output;

  auto no_kafka = Cli({"status", "--postgres.url=" + db_.url(), "--org.id=" + org_id_,
                       "--kafka.brokers=127.0.0.1:1", "--format=json"});
  EXPECT_EQ(no_kafka.exit_code, 0) << no_kafka.output;
  EXPECT_THAT(no_kafka.output, HasSubstr("\"consumer_lag\":null")) << no_kafka.output;
  EXPECT_THAT(no_kafka.output, HasSubstr("\"consumer_lag_error\":\"no Kafka broker answered"))
      << no_kafka.output;

  auto json =
      Cli({"status", "--postgres.url=" + db_.url(), "--org.id=" + org_id_, "--format=json"});
  EXPECT_EQ(json.exit_code, 0) << json.output;
  {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array orgs;
    ASSERT_FALSE(parser.parse(json.output).get(doc)) << json.output;
    ASSERT_FALSE(doc["orgs"].get_array().get(orgs)) << json.output;
    EXPECT_EQ(orgs.size(), 1u);
    simdjson::dom::array rows;
    ASSERT_FALSE(orgs.at(0)["objects"].get_array().get(rows)) << json.output;
    EXPECT_EQ(rows.size(), objects.size());
    simdjson::dom::array offsets;
    ASSERT_FALSE(orgs.at(0)["consumer_offsets"].get_array().get(offsets)) << json.output;
    EXPECT_EQ(offsets.size(), 3u);
  }
  EXPECT_THAT(json.output, HasSubstr(StrCat("\"org_id\":\"", org_id_, "\"")));
  EXPECT_THAT(json.output, HasSubstr("\"object\":\"Contact\",\"state\":\"live\""));
  EXPECT_THAT(json.output, HasSubstr("\"progress_percent\":100.0"));
  EXPECT_THAT(json.output, HasSubstr("\"calls_total\":"));

  auto usage = Cli({"verify", "--postgres.url=" + db_.url(), "--sfsim.url=" + (*sim)->base_url()});
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  EXPECT_THAT(usage.output, HasSubstr("org.id"));

  auto unknown_org = Cli({"verify", "--postgres.url=" + db_.url(), "--org.id=nosuchorg",
                          "--sfsim.url=" + (*sim)->base_url()});
  EXPECT_EQ(unknown_org.exit_code, 2) << unknown_org.output;
  EXPECT_THAT(unknown_org.output, HasSubstr("nosuchorg"));

  auto no_source = Cli({"verify", "--postgres.url=" + db_.url(), "--org.id=" + org_id_});
  EXPECT_EQ(no_source.exit_code, 2) << no_source.output;
  EXPECT_THAT(no_source.output, HasSubstr("--sfsim.url"));

  auto help = Cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("verify"));
  EXPECT_THAT(help.output, HasSubstr("status"));
}

}  // namespace
}  // namespace sfbridge
