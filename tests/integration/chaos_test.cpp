// A bounded chaos run: two sfbridge-fetcher programs, an sfbridge-writer and an sfbridge-proxy
// program against sfsim (in-process, churning), a Kafka broker and a PostgreSQL cluster of the
// test's own, with INSERTs through the proxy all along, while faults follow one another: kill -9
// of each program (restarted), a PostgreSQL restart with pg_ctl -m immediate, a broker restart
// on the same port, sfsim answering 5xx and dropping connections. Then, within a bound after the
// last fault, `sfbridge verify` finds no difference; every INSERT the proxy confirmed is in sfsim
// and the table; none it answered as not applied is in sfsim; readiness went down and came back;
// the figures are printed (faults, time to converge after the last one, record versions
// published more than once, the proxy's answers by SQLSTATE).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "sfsim/simulator.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/readiness_watch.h"
#include "tests/integration/sync_test_support.h"
#include "writer/table_schema.h"

namespace sfbridge {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ChildProcess;
using testing::OwnServer;
using testing::ReadinessWatch;
using Steady = std::chrono::steady_clock;

// One program, restartable, on a fixed admin port so that its readiness can be watched across
// restarts.
class Program {
 public:
  Program(std::string name, std::string binary, std::map<std::string, std::string> env)
      : name_(std::move(name)), binary_(std::move(binary)), env_(std::move(env)) {
    port_ = testing::FreePort();
    env_["SFBRIDGE_METRICS_PORT"] = std::to_string(port_);
    env_["SFBRIDGE_METRICS_HOST"] = "127.0.0.1";
    Start();
  }
  void Start() {
    process_ = ChildProcess::Start({binary_}, env_);
    ASSERT_NE(process_, nullptr) << name_;
  }
  void Kill9() {
    output_ += process_->Output();
    process_->Signal(SIGKILL);
    process_->Wait(seconds(10));
  }
  void Stop() {
    process_->Signal(SIGTERM);
    EXPECT_TRUE(process_->Wait(seconds(30)).has_value()) << name_;
    output_ += process_->Output();
  }
  bool alive() const { return process_->GroupAlive(); }
  uint16_t port() const { return static_cast<uint16_t>(port_); }
  const std::string& name() const { return name_; }
  std::string Output() const { return output_ + (process_ ? process_->Output() : ""); }

 private:
  std::string name_, binary_;
  std::map<std::string, std::string> env_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  std::string output_;
};

TEST(ChaosTest, EveryFaultInARowThenTheTablesConverge) {
  OwnServer pg(OwnServer::Kind::kPostgres);
  OwnServer kafka(OwnServer::Kind::kKafka);
  const std::string org_id = testing::UniqueName("chaos");
  std::unique_ptr<postgres::Connection> conn =
      testing::ConnectWithUnlimitedOrg(pg.address(), org_id);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(writer::EnsureWriterTables(*conn).ok());
  // A budget of 4 calls a second and pages of 1,000: the backfill is still running when the
  // faults start.
  ASSERT_TRUE(
      conn->Exec("UPDATE sfbridge.orgs SET rate_per_second = 4, burst = 4 WHERE org_id = $1",
                 {org_id})
          .ok());

  const std::vector<std::string> objects = {"Account", "Contact", "Opportunity"};
  auto sim = sfsim::Simulator::Start(
      testing::SimOptions(
          {{"User", 5}, {"Account", 2000}, {"Contact", 20000}, {"Opportunity", 2000}}),
      core::SystemClock::Instance());
  ASSERT_TRUE(sim.ok()) << sim.status();

  auto fetcher_env = [&](const std::string& replica) {
    std::map<std::string, std::string> env = testing::FetcherEnv(
        pg.address(), org_id, (*sim)->base_url(), "Account,Contact,Opportunity");
    env["SFBRIDGE_KAFKA_BROKERS"] = kafka.address();
    env["SFBRIDGE_FETCHER_REPLICA_ID"] = replica;
    env["SFBRIDGE_FETCHER_LEASE_TTL"] = "3s";
    env["SFBRIDGE_FETCHER_POLL_INTERVAL"] = "300ms";
    env["SFBRIDGE_FETCHER_RETRY_INITIAL"] = "500ms";
    env["SFBRIDGE_FETCHER_RETRY_MAX"] = "2s";
    env["SFBRIDGE_FETCHER_PAGE_SIZE"] = "1000";
    return env;
  };
  const int grpc_port = testing::FreePort();
  Program writer("writer", SFBRIDGE_WRITER,
                 {{"SFBRIDGE_POSTGRES_URL", pg.address()},
                  {"SFBRIDGE_KAFKA_BROKERS", kafka.address()},
                  {"SFBRIDGE_ORG_ID", org_id},
                  {"SFBRIDGE_GRPC_PORT", std::to_string(grpc_port)},
                  {"SFBRIDGE_GRPC_HOST", "127.0.0.1"}});
  Program fetcher_a("fetcher-a", SFBRIDGE_FETCHER, fetcher_env("a"));
  Program fetcher_b("fetcher-b", SFBRIDGE_FETCHER, fetcher_env("b"));
  // The proxy, once the writer made the Account table (the proxy learns the synced tables).
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto t = testing::SyncedTableName(*conn, org_id, "Account");
        return t.ok() && !t->empty();
      },
      seconds(60)));
  std::map<std::string, std::string> proxy_env;
  for (const auto& [k, v] : fetcher_env("proxy")) {
    if (k.starts_with("SFBRIDGE_SALESFORCE_")) proxy_env[k] = v;
  }
  const std::string pg_port = pg.address().substr(
      pg.address().rfind(':') + 1, pg.address().rfind('/') - pg.address().rfind(':') - 1);
  const int proxy_port = testing::FreePort();
  proxy_env["SFBRIDGE_POSTGRES_URL"] = pg.address();
  proxy_env["SFBRIDGE_ORG_ID"] = org_id;
  proxy_env["SFBRIDGE_WRITER_ADDRESS"] = StrCat("127.0.0.1:", grpc_port);
  proxy_env["SFBRIDGE_UPSTREAM_URL"] = StrCat("postgresql://127.0.0.1:", pg_port);
  proxy_env["SFBRIDGE_LISTEN_HOST"] = "127.0.0.1";
  proxy_env["SFBRIDGE_LISTEN_PORT"] = std::to_string(proxy_port);
  Program proxy("proxy", SFBRIDGE_PROXY, proxy_env);
  ReadinessWatch writer_ready([&] { return writer.port(); });
  ReadinessWatch proxy_ready([&] { return proxy.port(); });
  ReadinessWatch a_ready([&] { return fetcher_a.port(); });
  ReadinessWatch b_ready([&] { return fetcher_b.port(); });

  // Churn in sfsim all along, until the faults are over.
  std::atomic<bool> churn{true};
  std::atomic<int64_t> churned{0};
  std::jthread churner([&](std::stop_token stop) {
    uint64_t seed = 1;
    while (!stop.stop_requested() && churn.load()) {
      churned += (*sim)->org().ChurnStep(seed++, 10, 5);
      std::this_thread::sleep_for(milliseconds(200));
    }
  });

  // INSERTs through the proxy all along, each with a name of its own; the answers kept.
  struct Write {
    std::string name;
    std::string id;          // when confirmed
    std::string sqlstate;    // when not: the SQLSTATE, or "connection"
    std::string applied_id;  // a 58000 answer's record, from its detail
  };
  std::mutex writes_mu;
  std::vector<Write> writes;
  std::jthread writes_thread([&](std::stop_token stop) {
    const std::string url = StrCat("postgresql://postgres@127.0.0.1:", proxy_port, "/postgres");
    std::unique_ptr<postgres::Connection> c;
    static const std::regex kSqlState(R"(SQLSTATE ([0-9A-Z]{5}))");
    static const std::regex kAppliedId(R"(Salesforce ids: ([0-9A-Za-z]{15,18}))");
    for (int n = 0; !stop.stop_requested() && churn.load(); ++n) {
      std::this_thread::sleep_for(milliseconds(150));
      Write w{StrCat("chaos-", n), "", ""};
      if (c == nullptr) {
        auto opened = postgres::Connection::Connect(url);
        if (!opened.ok()) continue;  // no statement sent
        c = *std::move(opened);
      }
      auto r = c->Exec(
          StrCat("INSERT INTO salesforce.account (name) VALUES ('", w.name, "') RETURNING id"));
      if (r.ok() && r->rows.size() == 1 && r->rows[0][0]) {
        w.id = *r->rows[0][0];
      } else {
        std::smatch m;
        const std::string message(r.ok() ? "no row" : r.status().message());
        w.sqlstate = std::regex_search(message, m, kSqlState) ? m[1].str() : "connection";
        // A write answered 58000 (applied) names its record: churn may rename it meanwhile.
        if (std::regex_search(message, m, kAppliedId)) w.applied_id = m[1].str();
        if (!r.ok() && r.status().code() == absl::StatusCode::kUnavailable) c.reset();
      }
      std::lock_guard lock(writes_mu);
      writes.push_back(std::move(w));
    }
  });

  const auto started = Steady::now();
  auto live = [&] { return testing::ObjectsLive(*conn, org_id, static_cast<int>(objects.size())); };
  // The faults start during the backfill.
  std::this_thread::sleep_for(seconds(3));
  int faults = 0;
  auto pause = [](int s) { std::this_thread::sleep_for(seconds(s)); };
  const bool live_before_faults = live();

  fetcher_a.Kill9();
  ++faults;
  pause(2);
  fetcher_a.Start();
  pause(3);

  const auto pg_stopped = Steady::now();
  pg.Stop();  // pg_ctl -m immediate: a crash
  ++faults;
  pause(3);
  pg.Start();
  pause(4);

  writer.Kill9();
  ++faults;
  pause(2);
  writer.Start();
  pause(3);

  const auto kafka_stopped = Steady::now();
  kafka.Restart();
  ++faults;
  pause(4);

  sfsim::FaultSettings bad;
  bad.error_5xx_rate = 0.3;
  bad.drop_rate = 0.1;
  (*sim)->faults().Set(bad);
  ++faults;
  pause(5);
  (*sim)->faults().Set(sfsim::FaultSettings{});

  proxy.Kill9();
  ++faults;
  pause(2);
  proxy.Start();
  pause(2);

  fetcher_b.Kill9();
  ++faults;
  pause(2);
  fetcher_b.Start();
  const auto last_fault = Steady::now();
  pause(3);
  churn.store(false);
  churner.request_stop();
  churner.join();
  writes_thread.request_stop();
  writes_thread.join();

  // Converged: every object live and `sfbridge verify` without a difference, within 3 minutes.
  const auto bound = seconds(180);
  testing::CommandResult verify;
  bool converged = false;
  while (Steady::now() - last_fault < bound) {
    if (live()) {
      verify = testing::RunCommand({SFBRIDGE_CLI, "verify", "--postgres.url=" + pg.address(),
                                    "--org.id=" + org_id, "--sfsim.url=" + (*sim)->base_url()},
                                   {}, seconds(120));
      if (verify.exit_code == 0) {
        converged = true;
        break;
      }
    }
    std::this_thread::sleep_for(seconds(2));
  }
  const double converge_s = std::chrono::duration<double>(Steady::now() - last_fault).count();
  EXPECT_TRUE(converged) << verify.output << "\nwriter:\n" << writer.Output().substr(0, 20'000);
  EXPECT_TRUE(writer.alive() && fetcher_a.alive() && fetcher_b.alive());

  // Readiness went down (PostgreSQL, Kafka) and came back for every program.
  EXPECT_TRUE(writer_ready.Saw(503, "postgres unreachable", pg_stopped)) << writer_ready.History();
  EXPECT_TRUE(writer_ready.Saw(503, "kafka unreachable", kafka_stopped)) << writer_ready.History();
  for (ReadinessWatch* w : {&writer_ready, &a_ready, &b_ready}) {
    EXPECT_TRUE(testing::WaitUntil([&] { return w->last_status() == 200; }, seconds(30)))
        << w->History();
  }
  EXPECT_TRUE(a_ready.Saw(503, "postgres unreachable", pg_stopped) ||
              b_ready.Saw(503, "postgres unreachable", pg_stopped))
      << a_ready.History() << b_ready.History();

  EXPECT_TRUE(testing::WaitUntil([&] { return proxy_ready.last_status() == 200; }, seconds(30)))
      << proxy_ready.History();
  EXPECT_TRUE(proxy_ready.Saw(503, "postgres unreachable", pg_stopped)) << proxy_ready.History();

  // The proxy's answers: a confirmed INSERT is in sfsim (and in the table unless churn deleted
  // it since), and so is one answered 58000 (applied, the read-back or the writer failed); one
  // answered as not applied is not in sfsim. 40003 (outcome unknown) and a lost connection may
  // have happened either way.
  std::map<std::string, int> by_state;
  const std::map<std::string, int64_t> stored = [&] {
    auto s = testing::StoredModstamps(*conn, org_id, "Account");
    return s.ok() ? *s : std::map<std::string, int64_t>{};
  }();
  int confirmed = 0;
  for (const Write& w : writes) {
    ++by_state[w.id.empty() ? w.sqlstate : "ok"];
    if (!w.id.empty()) {
      ++confirmed;
      sfsim::org::RecordPtr rec = (*sim)->org().Get(w.id, /*include_deleted=*/true);
      EXPECT_NE(rec, nullptr) << w.name << " " << w.id << " confirmed but not in sfsim";
      if ((*sim)->org().Get(w.id) != nullptr) {
        EXPECT_TRUE(stored.contains(w.id)) << w.name << " " << w.id << " not in the table";
      }
      continue;
    }
    if (w.sqlstate == "40003" || w.sqlstate == "connection") continue;
    auto found = (*sim)->org().Query(StrCat("SELECT Id FROM Account WHERE Name = '", w.name, "'"),
                                     /*include_deleted=*/true);
    ASSERT_TRUE(std::holds_alternative<sfsim::org::QueryResult>(found));
    const size_t in_sfsim = std::get<sfsim::org::QueryResult>(found).records.size();
    if (w.sqlstate == "58000" && !w.applied_id.empty()) {
      // By id: churn may have renamed it since.
      EXPECT_NE((*sim)->org().Get(w.applied_id, /*include_deleted=*/true), nullptr)
          << w.name << " answered 58000 (applied) as " << w.applied_id << " but is not in sfsim";
    } else if (w.sqlstate == "58000") {
      EXPECT_EQ(in_sfsim, 1u) << w.name << " answered 58000 (applied) but is not in sfsim once";
    } else {
      EXPECT_EQ(in_sfsim, 0u) << w.name << " answered " << w.sqlstate << " but is in sfsim";
    }
  }
  EXPECT_GT(confirmed, 0);
  std::string outcomes;
  for (const auto& [state, n] : by_state) outcomes += StrCat(" ", state, "=", n);

  writer.Stop();
  fetcher_a.Stop();
  fetcher_b.Stop();
  proxy.Stop();

  testing::RecordsReader reader(StrCat("sfbridge.", org_id, ".records"), kafka.address());
  reader.ReadUntil([](const testing::SeenByObject&) { return false; }, seconds(3), seconds(120));
  std::printf(
      "[ chaos ] faults=%d (kill -9 of each program, PostgreSQL crash, broker restart, sfsim "
      "5xx/drops) over %.0f s with %lld churned changes; converged %.1f s after the last fault "
      "(verify: %s); messages=%lld record versions published more than once=%lld; backfill %s "
      "when the faults started\n",
      faults, std::chrono::duration<double>(last_fault - started).count(),
      static_cast<long long>(churned.load()), converge_s, converged ? "no difference" : "FAILED",
      static_cast<long long>(reader.messages()), static_cast<long long>(reader.repeated_versions()),
      live_before_faults ? "done" : "running");
  const auto named = std::count_if(writes.begin(), writes.end(),
                                   [](const Write& w) { return !w.applied_id.empty(); });
  std::printf("[ chaos ] %zu INSERTs through the proxy:%s (58000 naming its record: %td)\n",
              writes.size(), outcomes.c_str(), named);
  std::printf("[ chaos ] readiness, writer:\n%sfetcher a:\n%sfetcher b:\n%sproxy:\n%s",
              writer_ready.History().c_str(), a_ready.History().c_str(), b_ready.History().c_str(),
              proxy_ready.History().c_str());
}

}  // namespace
}  // namespace sfbridge
