// The fetcher program at scale and under faults, against sfsim, the test PostgreSQL and Kafka,
// with the figures printed: a 100k-record backfill at >= 1,850 records per call with changes during
// it, kill -9 mid-backfill and mid-poll, replicas sharing the budget and handing leases over, a
// budget change without restart, refused credentials backing off, a failing object.
// Over 500 lines: six long scenarios against the program (kill -9, replicas, budget changes),
// each printing its figures.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/control/events.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "fetcher/fetcher_service.h"
#include "sfsim/simulator.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/sync_test_support.h"

namespace sfbridge::fetcher {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

int64_t ApiCalls(sfsim::Simulator& sim) {
  int64_t n = 0;
  for (const auto& [kind, calls] : sim.limits().CallsByKind()) n += calls;
  return n;
}

// The fetcher's own count of its backfill page reads (sfbridge_fetcher_api_calls_total with
// phase="backfill" and outcome="ok"; the catch-up polls of objects already live are
// phase="poll").
int64_t BackfillPageCalls(FetcherService& fetcher) {
  int64_t n = 0;
  std::istringstream lines(fetcher.metrics().RenderText());
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("sfbridge_fetcher_api_calls_total{") ||
        line.find("phase=\"backfill\"") == std::string::npos ||
        line.find("kind=\"count\"") != std::string::npos ||
        line.find("outcome=\"ok\"") == std::string::npos) {
      continue;
    }
    n += std::stoll(line.substr(line.rfind(' ') + 1));
  }
  return n;
}

int64_t QueryCalls(sfsim::Simulator& sim) {
  int64_t n = 0;
  for (const auto& [kind, calls] : sim.limits().CallsByKind()) {
    if (kind.starts_with("query")) n += calls;
  }
  return n;
}

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

class FetcherProgramTest : public ::testing::Test {
 protected:
  void StartOrg(std::map<std::string, int64_t> counts, int burst_size = 500) {
    auto sim = sfsim::Simulator::Start(testing::SimOptions(std::move(counts), burst_size),
                                       core::SystemClock::Instance());
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    org_id_ = testing::UniqueName("fetchshow");
    conn_ = testing::ConnectWithUnlimitedOrg(db_.url(), org_id_);
    ASSERT_NE(conn_, nullptr);
  }

  FetcherOptions Options(std::vector<std::string> objects, milliseconds poll_interval) const {
    FetcherOptions o =
        testing::FetcherOptionsFor(db_.url(), org_id_, sim_->base_url(), testing::kLogin);
    o.objects = std::move(objects);
    o.poll_interval = poll_interval;
    o.metrics_port = -1;
    o.replica_id = testing::UniqueName("replica");
    o.max_attempts = 2;
    o.initial_backoff = milliseconds(50);
    o.settings_refresh = milliseconds(200);
    o.lease_ttl = milliseconds(3'000);
    o.partitions = 3;
    o.bulk_threshold = 0;  // REST pages; fetcher_bulk_test covers the Bulk backfill
    return o;
  }

  void SetRate(double per_second, int burst) {
    auto org = control::LoadOrg(*conn_, org_id_);
    ASSERT_TRUE(org.ok()) << org.status();
    org->rate_per_second = per_second;
    org->burst = burst;
    org->priority_reserve = 0;
    ASSERT_TRUE(control::UpsertOrg(*conn_, *org).ok());
  }

  std::map<std::string, control::ObjectStatus> Objects() {
    return testing::ObjectsByName(*conn_, org_id_);
  }
  bool AllLive(const std::vector<std::string>& names) {
    return testing::AllLive(*conn_, org_id_, names);
  }

  std::string Env(std::string_view objects) const { return std::string(objects); }

  std::unique_ptr<testing::ChildProcess> StartBinary(const std::string& objects,
                                                     const std::string& replica,
                                                     const std::string& poll = "300ms") {
    auto env = testing::FetcherEnv(db_.url(), org_id_, sim_->base_url(), objects);
    env["SFBRIDGE_FETCHER_REPLICA_ID"] = replica;
    env["SFBRIDGE_FETCHER_POLL_INTERVAL"] = poll;
    env["SFBRIDGE_FETCHER_LEASE_TTL"] = "3s";
    env["SFBRIDGE_FETCHER_BULK_THRESHOLD"] = "0";  // REST pages, as Options()
    return testing::ChildProcess::Start({SFBRIDGE_FETCHER}, env);
  }

  testing::TempDatabase db_;
  std::unique_ptr<sfsim::Simulator> sim_;
  std::unique_ptr<postgres::Connection> conn_;
  std::string org_id_;
};

using RunningFetcher = testing::RunningService<FetcherService>;

// >= 100k records over several objects, with creates, updates, deletes and bursts sharing one
// SystemModstamp (more than a page) made during the backfill and after it.
TEST_F(FetcherProgramTest, LargeBackfillAtNearlyFullPagesPerCallWithChangesDuringAndAfter) {
  const std::vector<std::string> objects = {"Account", "Contact", "Opportunity", "Invoice__c"};
  // 100 short of whole pages, so that records the churn creates before an object's first page
  // do not add a page.
  StartOrg({{"User", 5},
            {"Account", 23'900},
            {"Contact", 49'900},
            {"Opportunity", 19'900},
            {"Invoice__c", 11'900}});
  sim_->limits().ResetCounts();
  const auto start = Steady::now();
  auto fetcher = std::make_unique<RunningFetcher>(Options(objects, seconds(60)));
  // Changes while the backfill runs: small churn steps and one burst of 2,500 sharing a stamp.
  std::atomic<bool> churning{true};
  std::atomic<int> churned{0};
  std::thread churn([&] {
    uint64_t seed = 100;
    while (churning.load()) {
      churned += sim_->org().ChurnStep(seed++, 50, 10);
      std::this_thread::sleep_for(milliseconds(100));
    }
  });
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto o = Objects();
        return o.contains("Contact") && o["Contact"].records_done > 0;
      },
      seconds(120)));
  churned += sim_->org().ChurnStep(7'777, 2'500, 2'500);
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(180)));
  const double backfill_seconds = Seconds(Steady::now() - start);
  const int64_t query_calls = QueryCalls(*sim_);
  const int64_t all_calls = ApiCalls(*sim_);
  const int64_t page_calls = BackfillPageCalls(fetcher->service());
  churning = false;
  churn.join();

  int64_t backfilled = 0;
  for (const auto& [name, o] : Objects()) backfilled += o.records_done;
  const double per_page_call = static_cast<double>(backfilled) / static_cast<double>(page_calls);
  std::printf(
      "[ backfill ] records=%lld seconds=%.1f records_per_second=%.0f backfill_page_calls=%lld "
      "records_per_page_call=%.1f query_calls=%lld (catch-up polls included) "
      "all_api_calls=%lld (describes included) records_per_api_call=%.1f changes_during=%d\n",
      static_cast<long long>(backfilled), backfill_seconds, backfilled / backfill_seconds,
      static_cast<long long>(page_calls), per_page_call, static_cast<long long>(query_calls),
      static_cast<long long>(all_calls),
      static_cast<double>(backfilled) / static_cast<double>(all_calls), churned.load());
  EXPECT_GE(backfilled, 100'000);
  // A page holds up to 2,000 records; only each object's last page is short. Polls are counted
  // apart: the catch-up polls of objects that went live while others still backfilled fetch the
  // changes made meanwhile, which `backfilled` does not count.
  EXPECT_GT(page_calls, 0);
  EXPECT_LE(page_calls, query_calls);
  EXPECT_GE(per_page_call, 1900.0);

  // After the backfill: more changes, among them a burst larger than a page at one stamp; the
  // fetcher polls them.
  ASSERT_TRUE(fetcher->Stop().ok());
  fetcher.reset();
  churned += sim_->org().ChurnStep(8'888, 3'000, 3'000);
  churned += sim_->org().ChurnStep(9'999, 500, 20);
  fetcher = std::make_unique<RunningFetcher>(Options(objects, milliseconds(200)));
  testing::RecordsReader reader(control::RecordsTopic(org_id_));
  reader.ReadUntil(
      [&](const testing::SeenByObject& seen) { return testing::MatchesOrg(*sim_, objects, seen); },
      seconds(60), seconds(180));
  ASSERT_TRUE(fetcher->Stop().ok());
  int64_t total = 0, tombstones = 0;
  for (const std::string& object : objects) {
    auto expected = sim_->org().Digest(object, true);
    auto live = sim_->org().Digest(object, false);
    total += static_cast<int64_t>(expected.size());
    ASSERT_TRUE(reader.seen().contains(object)) << object;
    EXPECT_EQ(testing::Differences(expected, reader.seen().at(object)), "") << object;
    for (const auto& [id, seen] : reader.seen().at(object)) {
      EXPECT_EQ(seen.deleted, !live.contains(id)) << object << " " << id;
      tombstones += seen.deleted ? 1 : 0;
    }
  }
  std::printf("[ changes ] records=%lld tombstones=%lld changes=%d messages=%lld\n",
              static_cast<long long>(total), static_cast<long long>(tombstones), churned.load(),
              static_cast<long long>(reader.messages()));
}

// kill -9 of the binary mid-backfill and mid-poll: a restart misses nothing; the records read
// twice are counted (repeated versions in the topic).
TEST_F(FetcherProgramTest, KillNineMidBackfillAndMidPollMissesNothing) {
  const std::vector<std::string> objects = {"Account", "Contact"};
  StartOrg({{"User", 5}, {"Account", 6'000}, {"Contact", 30'000}});
  SetRate(3, 1);  // about 3 pages a second, so that a kill lands mid-backfill
  auto child = StartBinary("Account,Contact", "kill-a");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto o = Objects();
        return o.contains("Contact") && o["Contact"].records_done >= 8'000;
      },
      seconds(120)))
      << child->Output();
  const int64_t done_at_kill = Objects()["Contact"].records_done;
  child->Signal(SIGKILL);
  ASSERT_TRUE(child->Wait(seconds(30)).has_value());
  EXPECT_NE(Objects()["Contact"].state, control::ObjectState::kLive);

  // Restart (the dead replica's leases expire after the 3 s ttl), then changes while it polls,
  // and a second kill -9 among them.
  child = StartBinary("Account,Contact", "kill-b");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)))
      << child->Output();
  SetRate(50, 5);
  int churned = 0;
  for (int i = 0; i < 20; ++i) {
    churned += sim_->org().ChurnStep(500 + i, 100, 25);
    std::this_thread::sleep_for(milliseconds(100));
  }
  child->Signal(SIGKILL);
  ASSERT_TRUE(child->Wait(seconds(30)).has_value());
  for (int i = 0; i < 10; ++i) churned += sim_->org().ChurnStep(900 + i, 100, 25);
  child = StartBinary("Account,Contact", "kill-c");
  ASSERT_NE(child, nullptr);

  testing::RecordsReader reader(control::RecordsTopic(org_id_));
  reader.ReadUntil(
      [&](const testing::SeenByObject& seen) { return testing::MatchesOrg(*sim_, objects, seen); },
      seconds(60), seconds(180));
  child->Signal(SIGTERM);
  EXPECT_TRUE(child->Wait(seconds(30)).has_value());
  int64_t total = 0;
  for (const std::string& object : objects) {
    auto expected = sim_->org().Digest(object, true);
    total += static_cast<int64_t>(expected.size());
    ASSERT_TRUE(reader.seen().contains(object));
    EXPECT_EQ(testing::Differences(expected, reader.seen().at(object)), "") << object;
  }
  std::printf(
      "[ kill -9 ] contact_done_at_kill=%lld records=%lld changes=%d messages=%lld "
      "read_twice=%lld (same record version published again)\n",
      static_cast<long long>(done_at_kill), static_cast<long long>(total), churned,
      static_cast<long long>(reader.messages()),
      static_cast<long long>(reader.repeated_versions()));
}

// Replicas of one org (binaries) share its budget: sfsim's request rate stays within it with two
// and with three replicas; a replica killed with -9 hands its objects over within the lease ttl.
TEST_F(FetcherProgramTest, ReplicasStayWithinTheBudgetAndHandOverWithinTheLeaseTtl) {
  const std::string objects = "User,Account,Contact,Opportunity,Invoice__c";
  StartOrg({{"User", 5},
            {"Account", 1'000},
            {"Contact", 4'000},
            {"Opportunity", 1'000},
            {"Invoice__c", 1'000}});
  const double rate = 2;
  const int burst = 2;
  SetRate(rate, burst);
  std::map<std::string, std::unique_ptr<testing::ChildProcess>> replicas;
  for (const char* name : {"rep-1", "rep-2"}) {
    replicas[name] = StartBinary(objects, name, "100ms");
    ASSERT_NE(replicas[name], nullptr);
  }
  auto held_by = [&]() {
    std::map<std::string, std::string> out;
    auto r = conn_->Exec(
        "SELECT object_name, holder FROM sfbridge.leases WHERE org_id = $1 AND "
        "expires_at_ms > (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
        {org_id_});
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      for (auto& row : r->rows) out[*row[0]] = *row[1];
    }
    return out;
  };
  auto holders = [&]() {
    std::set<std::string> h;
    for (const auto& [o, holder] : held_by()) h.insert(holder);
    return h;
  };
  ASSERT_TRUE(testing::WaitUntil([&] { return holders().size() == 2; }, seconds(60)));
  // Polls every 100 ms on five objects want far more than 2 calls a second: the budget decides.
  auto measure = [&](const char* label, seconds window) {
    std::this_thread::sleep_for(seconds(2));
    const int64_t c0 = ApiCalls(*sim_);
    const auto t0 = Steady::now();
    std::this_thread::sleep_for(window);
    const int64_t c1 = ApiCalls(*sim_);
    const double t = Seconds(Steady::now() - t0);
    const double measured = static_cast<double>(c1 - c0) / t;
    std::printf(
        "[ replicas ] %s window=%.1fs calls=%lld measured=%.3f/s configured=%.3f/s burst=%d "
        "ratio=%.3f\n",
        label, t, static_cast<long long>(c1 - c0), measured, rate, burst, measured / rate);
    // Never above the budget (the bucket may hold `burst` at the start); and the replicas do use
    // it.
    EXPECT_LE(static_cast<double>(c1 - c0), rate * t + burst) << label;
    EXPECT_GE(measured, 0.7 * rate) << label;
  };
  measure("2 replicas", seconds(25));

  replicas["rep-3"] = StartBinary(objects, "rep-3", "100ms");
  ASSERT_NE(replicas["rep-3"], nullptr);
  ASSERT_TRUE(testing::WaitUntil([&] { return holders().size() == 3; }, seconds(60)));
  measure("3 replicas", seconds(60));

  // kill -9 one replica: its objects are held by the others within the ttl (3 s) plus one
  // renewal round (ttl / 3).
  std::set<std::string> victims;
  for (const auto& [o, holder] : held_by()) {
    if (holder == "rep-2") victims.insert(o);
  }
  ASSERT_FALSE(victims.empty());
  replicas["rep-2"]->Signal(SIGKILL);
  const auto killed = Steady::now();
  ASSERT_TRUE(replicas["rep-2"]->Wait(seconds(30)).has_value());
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto held = held_by();
        for (const std::string& o : victims) {
          auto it = held.find(o);
          if (it == held.end() || it->second == "rep-2") return false;
        }
        return true;
      },
      seconds(30)));
  const double handover = Seconds(Steady::now() - killed);
  std::printf("[ replicas ] handover of %zu objects after kill -9: %.2f s (lease ttl 3 s)\n",
              victims.size(), handover);
  EXPECT_LE(handover, 3.0 + 1.0 + 1.0);  // ttl, one renewal round, this loop's 200 ms steps
  for (auto& [name, child] : replicas) {
    if (name == "rep-2") continue;
    child->Signal(SIGTERM);
    EXPECT_TRUE(child->Wait(seconds(30)).has_value());
  }
}

// The rate budget changed in the control plane applies without a restart.
TEST_F(FetcherProgramTest, ABudgetChangeTakesEffectWithoutRestart) {
  const std::vector<std::string> objects = {"Account", "Contact", "Opportunity"};
  StartOrg({{"User", 5}, {"Account", 300}, {"Contact", 600}, {"Opportunity", 300}});
  SetRate(2, 1);
  RunningFetcher fetcher(Options(objects, milliseconds(50)));
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(60)));
  auto measure = [&](double configured) {
    const int64_t c0 = ApiCalls(*sim_);
    const auto t0 = Steady::now();
    std::this_thread::sleep_for(seconds(8));
    const double t = Seconds(Steady::now() - t0);
    const double measured = static_cast<double>(ApiCalls(*sim_) - c0) / t;
    std::printf("[ budget ] configured=%.1f/s measured=%.2f/s\n", configured, measured);
    EXPECT_LE(measured * t, configured * t + 1.5);
    EXPECT_GE(measured, 0.7 * configured);
    return measured;
  };
  const double before = measure(2);
  SetRate(8, 1);
  std::this_thread::sleep_for(milliseconds(500));
  const double after = measure(8);
  EXPECT_GT(after, 2.5 * before);
}

// Refused credentials: the org shows auth_error with the reason, the fetcher is not ready and
// says why, and the token requests sfsim sees over 12 s follow the backoff (1, 2, 4, 4 s) instead
// of a hot loop. A replica with good credentials then clears the state.
TEST_F(FetcherProgramTest, WrongCredentialsShowAnErrorStateAndBackOff) {
  StartOrg({{"User", 5}, {"Account", 100}});
  FetcherOptions bad = Options({"Account"}, milliseconds(200));
  bad.credentials.password = "not-the-password";
  bad.retry_initial = milliseconds(1'000);
  bad.retry_max = milliseconds(4'000);
  const int64_t tokens_before = sim_->auth().TokenRequests();
  const auto start = Steady::now();
  auto fetcher = std::make_unique<RunningFetcher>(bad);
  std::this_thread::sleep_for(seconds(12));
  const int64_t token_requests = sim_->auth().TokenRequests() - tokens_before;
  const double t = Seconds(Steady::now() - start);
  auto org = control::LoadOrg(*conn_, org_id_);
  ASSERT_TRUE(org.ok());
  std::printf("[ auth ] token requests over %.1f s: %lld (retries after 1, 2, 4, 4 s)\n", t,
              static_cast<long long>(token_requests));
  EXPECT_EQ(org->state, "auth_error");
  ASSERT_TRUE(org->last_error.has_value());
  EXPECT_NE(org->last_error->find("invalid_grant"), std::string::npos) << *org->last_error;
  EXPECT_EQ(org->last_error->find("not-the-password"), std::string::npos);
  EXPECT_GE(token_requests, 3);
  EXPECT_LE(token_requests, 6);
  EXPECT_EQ(ApiCalls(*sim_), 0);  // nothing else was tried
  // Not ready, and /readyz says why.
  const std::string not_ready = fetcher->service().NotReadyReason();
  EXPECT_NE(not_ready.find("org in auth_error: "), std::string::npos) << not_ready;
  EXPECT_NE(not_ready.find("invalid_grant"), std::string::npos) << not_ready;
  EXPECT_FALSE(fetcher->service().ready());
  auto events = control::LoadEvents(*conn_, org_id_);
  ASSERT_TRUE(events.ok());
  int org_errors = 0;
  for (const auto& e : *events) org_errors += e.kind == control::kEventOrgError ? 1 : 0;
  EXPECT_EQ(org_errors, 1);  // one event for the whole episode
  ASSERT_TRUE(fetcher->Stop().ok());

  RunningFetcher good(Options({"Account"}, milliseconds(200)));
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive({"Account"}); }, seconds(60)));
  org = control::LoadOrg(*conn_, org_id_);
  ASSERT_TRUE(org.ok());
  EXPECT_EQ(org->state, "ok");
  EXPECT_EQ(good.service().NotReadyReason(), "");
}

// An object whose describe fails, then one whose queries fail: each is marked in error with the
// reason, the others go on, and each recovers on a later retry once the fault is gone.
TEST_F(FetcherProgramTest, AFailingObjectIsMarkedInErrorWhileTheOthersContinue) {
  const std::vector<std::string> objects = {"Account", "Contact", "Opportunity"};
  StartOrg({{"User", 5}, {"Account", 300}, {"Contact", 600}, {"Opportunity", 300}});
  sfsim::FaultSettings faults;
  faults.failing_objects = {"Opportunity"};
  sim_->faults().Set(faults);
  FetcherOptions options = Options(objects, milliseconds(200));
  options.retry_initial = milliseconds(500);
  options.retry_max = milliseconds(2'000);
  RunningFetcher fetcher(options);
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto o = Objects();
        return AllLive({"Account", "Contact"}) && o.contains("Opportunity") &&
               o["Opportunity"].state == control::ObjectState::kError;
      },
      seconds(60)));
  auto opportunity = Objects()["Opportunity"];
  ASSERT_TRUE(opportunity.error.has_value());
  EXPECT_NE(opportunity.error->find("describe Opportunity"), std::string::npos)
      << *opportunity.error;
  EXPECT_NE(opportunity.error->find("SERVER_UNAVAILABLE"), std::string::npos) << *opportunity.error;
  std::printf("[ failing object ] describe: %s\n", opportunity.error->c_str());

  sim_->faults().Set({});
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(30)));

  // Now the queries of Contact fail: Contact goes into error, Account keeps being polled.
  faults.failing_objects = {"Contact"};
  sim_->faults().Set(faults);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return Objects()["Contact"].state == control::ObjectState::kError; }, seconds(30)));
  auto contact = Objects()["Contact"];
  ASSERT_TRUE(contact.error.has_value());
  EXPECT_NE(contact.error->find("Contact: query"), std::string::npos) << *contact.error;
  const int64_t account_polled = Objects()["Account"].last_poll_at_ms.value_or(0);
  std::this_thread::sleep_for(seconds(2));
  EXPECT_GT(Objects()["Account"].last_poll_at_ms.value_or(0), account_polled);
  EXPECT_EQ(Objects()["Contact"].state, control::ObjectState::kError);
  std::printf("[ failing object ] query: %s\n", contact.error->c_str());
  sim_->faults().Set({});
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(30)));
  auto events = control::LoadEvents(*conn_, org_id_, 0, 1000);
  ASSERT_TRUE(events.ok());
  int errors = 0;
  for (const auto& e : *events) errors += e.kind == control::kEventObjectError ? 1 : 0;
  EXPECT_GE(errors, 2);
}

}  // namespace
}  // namespace sfbridge::fetcher
