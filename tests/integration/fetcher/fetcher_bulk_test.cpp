// The Bulk API 2.0 backfill end to end: sfsim in-process, the test PostgreSQL and Kafka. An
// object above the threshold arrives complete through one job, with the changes made while the
// job ran; a failed job falls back to REST; a fetcher killed with -9 at 30% and again at 70% of
// the job resumes the same job from its stored page each time. No job is left in sfsim.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/control/bulk_jobs.h"
#include "common/control/events.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/kafka/consumer.h"
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

using RunningFetcher = testing::RunningService<FetcherService>;

class FetcherBulkTest : public ::testing::Test {
 protected:
  void StartOrg(std::map<std::string, int64_t> counts) {
    auto sim = sfsim::Simulator::Start(testing::SimOptions(std::move(counts)),
                                       core::SystemClock::Instance());
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    org_id_ = testing::UniqueName("fetchbulk");
    conn_ = testing::ConnectWithUnlimitedOrg(db_.url(), org_id_);
    ASSERT_NE(conn_, nullptr);
  }

  FetcherOptions Options(std::vector<std::string> objects) const {
    FetcherOptions o =
        testing::FetcherOptionsFor(db_.url(), org_id_, sim_->base_url(), testing::kLogin);
    o.objects = std::move(objects);
    o.poll_interval = milliseconds(300);
    o.metrics_port = -1;
    o.replica_id = testing::UniqueName("replica");
    o.max_attempts = 2;
    o.initial_backoff = milliseconds(50);
    o.settings_refresh = milliseconds(200);
    o.lease_ttl = milliseconds(3'000);
    o.partitions = 3;
    o.bulk_page_records = 10'000;
    o.bulk_poll_initial = milliseconds(200);
    o.bulk_poll_max = milliseconds(1'000);
    return o;
  }

  std::map<std::string, control::ObjectStatus> Objects() {
    return testing::ObjectsByName(*conn_, org_id_);
  }
  bool AllLive(const std::vector<std::string>& names) {
    return testing::AllLive(*conn_, org_id_, names);
  }
  std::optional<control::BulkJobRow> Job(const std::string& object) {
    auto row = control::LoadBulkJob(*conn_, org_id_, object);
    EXPECT_TRUE(row.ok()) << row.status();
    return row.ok() ? *row : std::nullopt;
  }
  // Waits until the object's job is deleted in sfbridge.bulk_jobs, then stops the fetcher.
  void AwaitJobDeletedThenStop(RunningFetcher& fetcher, const std::string& object) {
    ASSERT_TRUE(
        testing::WaitUntil([&] { return Job(object) && Job(object)->deleted; }, seconds(30)));
    ASSERT_TRUE(fetcher.Stop().ok());
  }
  int64_t Calls(const std::string& kind) {
    auto calls = sim_->limits().CallsByKind();
    auto it = calls.find(kind);
    return it == calls.end() ? 0 : it->second;
  }
  // Reads the records topic until it matches the org, then compares every object.
  testing::RecordsReader ExpectTopicMatchesOrg(const std::vector<std::string>& objects) {
    testing::RecordsReader reader(control::RecordsTopic(org_id_));
    reader.ReadUntil(
        [&](const testing::SeenByObject& seen) {
          return testing::MatchesOrg(*sim_, objects, seen);
        },
        seconds(30), seconds(180));
    for (const std::string& object : objects) {
      auto expected = sim_->org().Digest(object, true);
      EXPECT_TRUE(reader.seen().contains(object)) << object;
      if (reader.seen().contains(object)) {
        EXPECT_EQ(testing::Differences(expected, reader.seen().at(object)), "") << object;
      }
    }
    return reader;
  }

  testing::TempDatabase db_;
  std::unique_ptr<sfsim::Simulator> sim_;
  std::unique_ptr<postgres::Connection> conn_;
  std::string org_id_;
};

TEST_F(FetcherBulkTest, LargeObjectThroughOneJobWithTheChangesMadeWhileItRan) {
  const std::vector<std::string> objects = {"Account", "Contact"};
  StartOrg({{"User", 5}, {"Account", 3'000}, {"Contact", 30'000}});
  sim_->bulk().set_records_per_second(10'000);  // a job of about 3 s, for changes meanwhile
  sim_->limits().ResetCounts();
  const auto start = Steady::now();
  auto fetcher = std::make_unique<RunningFetcher>(Options(objects));
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto job = Job("Contact");
        return job && !job->job_id.empty();
      },
      seconds(60)));
  int churned = 0;
  for (int i = 0; i < 5; ++i) {
    churned += sim_->org().ChurnStep(300 + i, 40, 10);
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)));
  const double backfill_seconds = std::chrono::duration<double>(Steady::now() - start).count();
  testing::RecordsReader reader = ExpectTopicMatchesOrg(objects);
  ASSERT_NO_FATAL_FAILURE(AwaitJobDeletedThenStop(*fetcher, "Contact"));

  const control::BulkJobRow job = *Job("Contact");
  EXPECT_FALSE(job.fallback_reason);
  EXPECT_EQ(job.locator, "null");
  EXPECT_TRUE(sim_->bulk().List().empty()) << "a job left behind";
  EXPECT_EQ(Calls("bulk_query_create"), 1);
  // 30,000 and the churn's creates made before the job's snapshot, 10,000 a page.
  EXPECT_EQ(Calls("bulk_query_results"), (job.records_done + 9'999) / 10'000);
  const int64_t bulk_calls = Calls("bulk_query_create") + Calls("bulk_query_info") +
                             Calls("bulk_query_results") + Calls("bulk_query_delete");
  EXPECT_FALSE(Job("Account")) << "Account is below the threshold: REST, no job";
  EXPECT_GE(Objects()["Contact"].records_done, 30'000);
  std::printf(
      "[ bulk ] records=%lld seconds=%.1f bulk_calls=%lld (create=%lld status=%lld "
      "results=%lld delete=%lld) records_per_bulk_call=%.0f records_per_results_call=%.0f "
      "changes_during=%d messages=%lld read_twice=%lld\n",
      static_cast<long long>(job.records_done), backfill_seconds,
      static_cast<long long>(bulk_calls), static_cast<long long>(Calls("bulk_query_create")),
      static_cast<long long>(Calls("bulk_query_info")),
      static_cast<long long>(Calls("bulk_query_results")),
      static_cast<long long>(Calls("bulk_query_delete")),
      static_cast<double>(job.records_done) / static_cast<double>(bulk_calls),
      static_cast<double>(job.records_done) /
          static_cast<double>(std::max<int64_t>(1, Calls("bulk_query_results"))),
      churned, static_cast<long long>(reader.messages()),
      static_cast<long long>(reader.repeated_versions()));
}

TEST_F(FetcherBulkTest, AFailedJobFallsBackToRestWithItsReason) {
  const std::vector<std::string> objects = {"Contact"};
  StartOrg({{"User", 5}, {"Account", 100}, {"Contact", 12'000}});
  sfsim::BulkFaults faults;
  faults.failing_objects = {"Contact"};
  faults.error_message = "InternalServerError : simulated";
  sim_->bulk().set_faults(faults);
  auto fetcher = std::make_unique<RunningFetcher>(Options(objects));
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)));
  ExpectTopicMatchesOrg(objects);
  ASSERT_TRUE(fetcher->Stop().ok());

  auto job = Job("Contact");
  ASSERT_TRUE(job);
  ASSERT_TRUE(job->fallback_reason);
  EXPECT_NE(job->fallback_reason->find("Failed: InternalServerError : simulated"),
            std::string::npos)
      << *job->fallback_reason;
  EXPECT_TRUE(job->deleted);
  EXPECT_TRUE(sim_->bulk().List().empty());
  auto events = conn_->Exec(
      "SELECT count(*) FROM sfbridge.events WHERE org_id = $1 AND object_name = 'Contact' AND "
      "kind = $2",
      {org_id_, std::string(control::kEventBulkFallback)});
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(*events->rows.at(0).at(0), "1");
  EXPECT_EQ(Objects()["Contact"].records_done, sim_->org().Count("Contact", true));
}

TEST_F(FetcherBulkTest, AFieldBulkCannotReadFallsBackToRestWithItsReason) {
  const std::vector<std::string> objects = {"Contact"};
  StartOrg({{"User", 5}, {"Account", 100}, {"Contact", 12'000}});
  sfsim::BulkFaults faults;
  faults.refused_fields = {"LastName"};
  sim_->bulk().set_faults(faults);
  auto fetcher = std::make_unique<RunningFetcher>(Options(objects));
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)));
  ExpectTopicMatchesOrg(objects);
  ASSERT_TRUE(fetcher->Stop().ok());

  auto job = Job("Contact");
  ASSERT_TRUE(job);
  ASSERT_TRUE(job->fallback_reason);
  EXPECT_NE(job->fallback_reason->find("LastName not supported in Bulk Query"), std::string::npos)
      << *job->fallback_reason;
  EXPECT_TRUE(sim_->bulk().List().empty()) << "the refused job was never created";
  auto events = conn_->Exec(
      "SELECT detail::text FROM sfbridge.events WHERE org_id = $1 AND object_name = 'Contact' AND "
      "kind = $2",
      {org_id_, std::string(control::kEventBulkFallback)});
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->rows.size(), 1u);
  EXPECT_NE(events->rows[0][0]->find("LastName not supported"), std::string::npos)
      << *events->rows[0][0];
  EXPECT_EQ(Objects()["Contact"].records_done, sim_->org().Count("Contact", true));
}

// Results pages that break off halfway through their body (the connection closed) are read again
// from their start by the client's retry; the records handed out before the break are not
// published twice, and none is missed.
TEST_F(FetcherBulkTest, PagesThatBreakOffAreReadAgainWithNothingMissedOrPublishedTwice) {
  const std::vector<std::string> objects = {"Contact"};
  constexpr int kCuts = 3;
  StartOrg({{"User", 5}, {"Account", 100}, {"Contact", 30'000}});
  sfsim::BulkFaults faults;
  faults.cut_results = kCuts;
  sim_->bulk().set_faults(faults);
  FetcherOptions options = Options(objects);
  options.max_attempts = 4;  // each cut page is read again at once
  auto fetcher = std::make_unique<RunningFetcher>(std::move(options));
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)));
  testing::RecordsReader reader = ExpectTopicMatchesOrg(objects);
  ASSERT_NO_FATAL_FAILURE(AwaitJobDeletedThenStop(*fetcher, "Contact"));

  const control::BulkJobRow job = *Job("Contact");
  EXPECT_FALSE(job.fallback_reason);
  EXPECT_EQ(sim_->bulk().faults().cut_results, 0) << "every cut was made";
  EXPECT_EQ(job.records_done, 30'000) << "counted once";
  // Three pages of 10,000; the first three results calls were cut, and each was sent again.
  EXPECT_EQ(Calls("bulk_query_results"), 3 + kCuts);
  EXPECT_EQ(reader.repeated_versions(), 0) << "a record published twice";
  EXPECT_EQ(reader.messages(), 30'000);
  std::printf("[ bulk cut pages ] results calls=%lld for 3 pages, messages=%lld read_twice=%lld\n",
              static_cast<long long>(Calls("bulk_query_results")),
              static_cast<long long>(reader.messages()),
              static_cast<long long>(reader.repeated_versions()));
}

// API calls per backfill, Bulk (default page size) against REST pages over the same org in the
// same run: records per call, and what the calls would take at the default budget of one call
// every 3 s.
TEST_F(FetcherBulkTest, RecordsPerCallAgainstRest) {
  const std::vector<std::string> objects = {"Contact"};
  constexpr int64_t kRecords = 150'000;
  StartOrg({{"User", 5}, {"Account", 100}, {"Contact", kRecords}});
  auto backfill = [&](int64_t threshold, const std::string& org) {
    org_id_ = org;
    conn_ = testing::ConnectWithUnlimitedOrg(db_.url(), org_id_);
    EXPECT_NE(conn_, nullptr);
    FetcherOptions o = Options(objects);
    o.bulk_threshold = threshold;
    o.bulk_page_records = 50'000;   // the default
    o.poll_interval = seconds(60);  // no polls in the count
    sim_->limits().ResetCounts();
    const auto start = Steady::now();
    auto fetcher = std::make_unique<RunningFetcher>(o);
    EXPECT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(300)));
    const double took = std::chrono::duration<double>(Steady::now() - start).count();
    // The job's delete comes right after the object went live.
    if (threshold > 0) {
      EXPECT_TRUE(testing::WaitUntil([&] { return sim_->bulk().List().empty(); }, seconds(30)));
    }
    EXPECT_TRUE(fetcher->Stop().ok());
    int64_t calls = 0;
    for (const auto& [kind, n] : sim_->limits().CallsByKind()) {
      if (kind.starts_with("query") || kind.starts_with("bulk")) calls += n;
    }
    return std::pair<int64_t, double>(calls, took);
  };
  auto [bulk_calls, bulk_seconds] = backfill(10'000, testing::UniqueName("perbulk"));
  auto [rest_calls, rest_seconds] = backfill(0, testing::UniqueName("perrest"));
  const double bulk_per_call = static_cast<double>(kRecords) / static_cast<double>(bulk_calls);
  const double rest_per_call = static_cast<double>(kRecords) / static_cast<double>(rest_calls);
  std::printf(
      "[ bulk vs rest ] records=%lld bulk: calls=%lld records_per_call=%.0f seconds=%.1f "
      "(at 1 call/3 s: %lld s) | rest: calls=%lld records_per_call=%.0f seconds=%.1f "
      "(at 1 call/3 s: %lld s) | calls ratio rest/bulk=%.1f\n",
      static_cast<long long>(kRecords), static_cast<long long>(bulk_calls), bulk_per_call,
      bulk_seconds, static_cast<long long>(bulk_calls * 3), static_cast<long long>(rest_calls),
      rest_per_call, rest_seconds, static_cast<long long>(rest_calls * 3),
      static_cast<double>(rest_calls) / static_cast<double>(bulk_calls));
  // COUNT, create, a few status polls, 3 results pages, delete.
  EXPECT_LE(bulk_calls, 15);
  EXPECT_GE(static_cast<double>(rest_calls) / static_cast<double>(bulk_calls), 5.0);
}

// Every record of `topic`, its latest version, read until `count` records are there (or a
// minute passes).
std::map<std::string, v1::RecordChange> ReadLatest(const std::string& topic, size_t count) {
  std::map<std::string, v1::RecordChange> latest;
  auto consumer = kafka::Consumer::Create(
      {.brokers = testing::KafkaBrokers(), .group_id = testing::UniqueName("bulk_values")});
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  if (!consumer.ok()) return latest;
  EXPECT_TRUE((*consumer)->Subscribe({topic}).ok());
  const auto give_up = Steady::now() + seconds(60);
  while (latest.size() < count && Steady::now() < give_up) {
    auto m = (*consumer)->Poll(200);
    if (!m.ok() || !m->has_value()) continue;
    v1::RecordChange change;
    EXPECT_TRUE(
        change.ParseFromArray((*m)->value().data(), static_cast<int>((*m)->value().size())));
    v1::RecordChange& kept = latest[change.record_id()];
    if (change.system_modstamp_ms() >= kept.system_modstamp_ms()) kept = std::move(change);
  }
  return latest;
}

// Every field of every record, read through Bulk's CSV and through REST's JSON, reaches Kafka
// with the same value (numbers, booleans, dates, datetimes, times, picklists, nulls).
TEST_F(FetcherBulkTest, BulkValuesAreTheRestValues) {
  const std::vector<std::string> objects = {"Invoice__c"};
  StartOrg({{"User", 5}, {"Account", 100}, {"Invoice__c", 11'000}});
  const std::string bulk_org = org_id_;
  auto fetcher = std::make_unique<RunningFetcher>(Options(objects));
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)));
  ASSERT_TRUE(fetcher->Stop().ok());
  ASSERT_TRUE(Job("Invoice__c") && !Job("Invoice__c")->job_id.empty()) << "not read through Bulk";

  org_id_ = testing::UniqueName("fetchrest");
  conn_ = testing::ConnectWithUnlimitedOrg(db_.url(), org_id_);
  ASSERT_NE(conn_, nullptr);
  FetcherOptions rest = Options(objects);
  rest.bulk_threshold = 0;
  fetcher = std::make_unique<RunningFetcher>(rest);
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)));
  ASSERT_TRUE(fetcher->Stop().ok());
  EXPECT_FALSE(Job("Invoice__c"));

  const size_t count = static_cast<size_t>(sim_->org().Count("Invoice__c", true));
  auto via_bulk = ReadLatest(control::RecordsTopic(bulk_org), count);
  auto via_rest = ReadLatest(control::RecordsTopic(org_id_), count);
  ASSERT_EQ(via_bulk.size(), count);
  ASSERT_EQ(via_rest.size(), count);
  int compared = 0, differences = 0;
  for (const auto& [id, b] : via_bulk) {
    const v1::RecordChange& r = via_rest[id];
    ASSERT_EQ(b.system_modstamp_ms(), r.system_modstamp_ms()) << id;
    EXPECT_EQ(b.deleted(), r.deleted()) << id;
    EXPECT_EQ(b.fields_size(), r.fields_size()) << id;
    for (const auto& [name, value] : r.fields()) {
      auto it = b.fields().find(name);
      const std::string bulk_text = it == b.fields().end() ? "<absent>" : it->second.DebugString();
      if (bulk_text != value.DebugString() && ++differences <= 5) {
        ADD_FAILURE() << id << " " << name << ": bulk " << bulk_text << " rest "
                      << value.DebugString();
      }
      ++compared;
    }
  }
  EXPECT_EQ(differences, 0);
  std::printf("[ bulk values ] records=%zu fields_compared=%d differences=%d\n", count, compared,
              differences);
}

// kill -9 of the binary while it reads the job's pages: the restart resumes the same job from
// the page after the last one stored; nothing is missed, the records read twice are counted.
TEST_F(FetcherBulkTest, KillNineAtThirtyAndSeventyPercentResumesTheSameJob) {
  const std::vector<std::string> objects = {"Contact"};
  constexpr int64_t kContacts = 30'000;
  StartOrg({{"User", 5}, {"Account", 100}, {"Contact", kContacts}});
  {
    auto org = control::LoadOrg(*conn_, org_id_);
    ASSERT_TRUE(org.ok());
    org->rate_per_second = 3;  // about 3 pages a second, so that each kill lands mid-job
    org->burst = 1;
    org->priority_reserve = 0;
    ASSERT_TRUE(control::UpsertOrg(*conn_, *org).ok());
  }
  auto start_binary = [&](const std::string& replica) {
    auto env = testing::FetcherEnv(db_.url(), org_id_, sim_->base_url(), "Contact");
    env["SFBRIDGE_FETCHER_REPLICA_ID"] = replica;
    env["SFBRIDGE_FETCHER_POLL_INTERVAL"] = "300ms";
    env["SFBRIDGE_FETCHER_LEASE_TTL"] = "3s";
    env["SFBRIDGE_FETCHER_BULK_PAGE_RECORDS"] = "2000";
    return testing::ChildProcess::Start({SFBRIDGE_FETCHER}, env);
  };
  // kill -9 once 30% of the job is delivered, then again at 70%; each restart resumes.
  std::vector<control::BulkJobRow> at_kills;
  int replica = 0;
  for (const int64_t percent : {30, 70}) {
    auto child = start_binary(StrCat("kill-", replica++));
    ASSERT_NE(child, nullptr);
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          auto job = Job("Contact");
          return job && job->records_done * 100 >= kContacts * percent;
        },
        seconds(120)))
        << child->Output();
    child->Signal(SIGKILL);
    ASSERT_TRUE(child->Wait(seconds(30)).has_value());
    at_kills.push_back(*Job("Contact"));
    EXPECT_NE(at_kills.back().locator, "null") << "killed at " << percent << "%";
    EXPECT_LT(at_kills.back().records_done, kContacts) << "killed at " << percent << "%";
    EXPECT_NE(Objects()["Contact"].state, control::ObjectState::kLive);
    EXPECT_EQ(sim_->bulk().List().size(), 1u);
  }
  auto child = start_binary(StrCat("kill-", replica));
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(testing::WaitUntil([&] { return AllLive(objects); }, seconds(120)))
      << child->Output();
  testing::RecordsReader reader = ExpectTopicMatchesOrg(objects);
  ASSERT_TRUE(testing::WaitUntil([&] { return sim_->bulk().List().empty(); }, seconds(30)))
      << "a job left behind";
  child->Signal(SIGTERM);
  EXPECT_TRUE(child->Wait(seconds(30)).has_value());
  const control::BulkJobRow done = *Job("Contact");
  for (const control::BulkJobRow& at_kill : at_kills) {
    EXPECT_EQ(done.job_id, at_kill.job_id) << "the same job, resumed";
  }
  EXPECT_GT(at_kills[1].records_done, at_kills[0].records_done);
  EXPECT_EQ(Calls("bulk_query_create"), 1);
  std::printf(
      "[ bulk kill -9 ] job=%s delivered at the kills: %lld and %lld of %lld; messages=%lld "
      "read_twice=%lld (same record version published again)\n",
      done.job_id.c_str(), static_cast<long long>(at_kills[0].records_done),
      static_cast<long long>(at_kills[1].records_done), static_cast<long long>(done.records_done),
      static_cast<long long>(reader.messages()),
      static_cast<long long>(reader.repeated_versions()));
}

}  // namespace
}  // namespace sfbridge::fetcher
