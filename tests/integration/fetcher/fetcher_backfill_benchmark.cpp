// Backfill rate of sfbridge-fetcher with the budget unlimited, through REST pages and through a
// Bulk API 2.0 query job, each against baselines measured in the same run, interleaved with it:
//   - REST: the Salesforce client alone reading the same records (one query per object, then
//     nextRecordsUrl pages of 2,000, no Kafka, no control plane) from the same in-process sfsim,
//     against the fetcher with Bulk off (threshold 0);
//   - Kafka alone: the messages the fetcher would publish for those records (encoded as it
//     encodes them, outside the timing), produced and acknowledged with every page in flight.
//     A fetcher that overlapped reading and publishing perfectly would reach the lower of the
//     two;
//   - Bulk: the client alone reading each object through one Bulk query job (create, job info
//     until JobComplete, then results pages of the fetcher's default size decoded from CSV into
//     records as the fetcher decodes them, batches of 2,000; no Kafka, no control plane), against
//     the fetcher backfilling every object through Bulk (threshold 1, job info polled every
//     millisecond). Both are timed from the job's creation to the last record, the fetcher by the
//     control plane's backfill stamps as for REST. So that the simulated job does not dominate both
//     sides and hide the fetcher's own cost, sfsim runs here with Bulk jobs picked up at once
//     and processed at 10^9 records/s (its defaults are 200 ms, then 100,000 records/s): what is
//     timed is the calls and the results pages.
// Prints records/s of each, the fetcher's ratios, and its records per API call as sfsim counted
// them (REST); medians of three runs. Needs PostgreSQL and Kafka (started by the test harness
// when not given).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/kafka/admin.h"
#include "common/mapping/record_mapping.h"
#include "common/mapping/schema_mapping.h"
#include "common/salesforce/bulk_query.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"
#include "fetcher/acked_producer.h"
#include "fetcher/fetcher_service.h"
#include "fetcher/soql_builder.h"
#include "sfsim/simulator.h"
#include "tests/harness/test_env.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/sync_test_support.h"

namespace sfbridge::fetcher {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

const std::vector<std::string> kObjects = {"Account", "Contact"};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

salesforce::ClientOptions ClientOptionsFor(sfsim::Simulator& sim) {
  salesforce::ClientOptions options;
  options.credentials.flow = salesforce::AuthFlow::kPassword;
  options.credentials.login_url = sim.base_url();
  options.credentials.client_id = std::string(testing::kClientId);
  options.credentials.client_secret = std::string(testing::kClientSecret);
  options.credentials.username = std::string(testing::kUsername);
  options.credentials.password = std::string(testing::kPassword);
  return options;
}

// Records/s of the client alone reading every object whole; `pages` gets every page encoded as
// the fetcher would publish it (not timed).
double RawClientRate(sfsim::Simulator& sim, int64_t* records,
                     std::vector<mapping::EncodedChanges>* pages) {
  auto transport = salesforce::PocoTransport::Create({});
  salesforce::Client client(ClientOptionsFor(sim), **transport, core::SystemClock::Instance());
  std::map<std::string, std::string> queries;
  std::map<std::string, mapping::FieldPlan> plans;
  for (const std::string& object : kObjects) {
    auto describe = client.Describe(object);
    auto plan = mapping::MakeFieldPlan(*describe);
    queries[object] = BuildKeysetQuery({.object_name = object, .fields = plan->FieldNames()});
    plans[object] = *std::move(plan);
  }
  *records = 0;
  pages->clear();
  Steady::duration reading{};
  for (const auto& [object, soql] : queries) {
    auto start = Steady::now();
    auto page = client.QueryAll(soql, 2000);
    while (page.ok()) {
      reading += Steady::now() - start;
      *records += static_cast<int64_t>(page->records.size());
      if (!mapping::EncodePage("00D000000000001EAA", plans[object], page->records,
                               v1::CHANGE_SOURCE_BACKFILL, 0, pages->emplace_back())
               .ok()) {
        std::fprintf(stderr, "encoding failed\n");
      }
      if (page->done) break;
      start = Steady::now();
      page = client.QueryMore(page->next_records_url);
    }
    if (!page.ok()) std::fprintf(stderr, "raw read failed: %s\n", page.status().ToString().c_str());
  }
  return static_cast<double>(*records) / std::chrono::duration<double>(reading).count();
}

// Records/s of the client alone reading every object through one Bulk query job each (the
// fetcher's query: every planned field, no ORDER BY), from the job's creation to the last page
// decoded; the job is deleted afterwards (not timed).
double RawBulkRate(sfsim::Simulator& sim, int64_t* records) {
  auto transport = salesforce::PocoTransport::Create({});
  salesforce::Client client(ClientOptionsFor(sim), **transport, core::SystemClock::Instance());
  salesforce::BulkQuery bulk(client);
  std::map<std::string, std::string> queries;
  for (const std::string& object : kObjects) {
    auto plan = mapping::MakeFieldPlan(*client.Describe(object));
    queries[object] =
        core::StrCat("SELECT ", core::StrJoin(plan->FieldNames(), ", "), " FROM ", object);
  }
  *records = 0;
  Steady::duration reading{};
  for (const auto& [object, soql] : queries) {
    const auto start = Steady::now();
    auto job = bulk.Create(soql, salesforce::BulkOperation::kQueryAll);
    while (job.ok() && job->state != salesforce::BulkJobState::kJobComplete &&
           !salesforce::BulkJobEnded(job->state)) {
      std::this_thread::sleep_for(milliseconds(1));
      job = bulk.Get(job->id);
    }
    if (!job.ok() || job->state != salesforce::BulkJobState::kJobComplete) {
      std::fprintf(stderr, "bulk job of %s did not complete\n", object.c_str());
      continue;
    }
    std::string locator;
    std::vector<std::string> columns;
    auto count = [&](std::vector<salesforce::Record>& batch) {
      *records += static_cast<int64_t>(batch.size());
      return absl::OkStatus();
    };
    while (true) {
      auto page = bulk.Results(job->id, object, locator, FetcherOptions{}.bulk_page_records, 2'000,
                               count, columns);
      if (!page.ok()) {
        std::fprintf(stderr, "bulk results: %s\n", page.status().ToString().c_str());
        break;
      }
      if (page->next_locator.empty()) break;
      locator = page->next_locator;
      columns = page->columns;
    }
    reading += Steady::now() - start;
    (void)bulk.Delete(job->id);
  }
  return static_cast<double>(*records) / std::chrono::duration<double>(reading).count();
}

// Records/s of Kafka alone acknowledging `pages`, all in flight at once, on a topic shaped like
// the fetcher's (6 partitions) through the fetcher's producer.
double KafkaAloneRate(const std::vector<mapping::EncodedChanges>& pages) {
  const std::string topic = testing::UniqueName("bench_kafka_alone");
  if (absl::Status s =
          kafka::EnsureTopic(testing::KafkaBrokers(), {.name = topic, .partitions = 6});
      !s.ok()) {
    std::fprintf(stderr, "topic: %s\n", s.ToString().c_str());
    return 0;
  }
  auto producer = AckedProducer::Create({.brokers = testing::KafkaBrokers()});
  if (!producer.ok()) return 0;
  // A first message, so that connecting and fetching metadata are not timed.
  (void)(*producer)->SendAll(topic, {{"warm-up", "warm-up"}});
  int64_t records = 0;
  std::vector<AckedProducer::Ticket> tickets;
  const auto start = Steady::now();
  for (const mapping::EncodedChanges& page : pages) {
    std::vector<OutgoingMessage> messages;
    for (size_t i = 0; i < page.size(); ++i) messages.push_back({page.key(i), page.value(i)});
    tickets.push_back((*producer)->Start(topic, messages));
    records += static_cast<int64_t>(page.size());
  }
  for (AckedProducer::Ticket ticket : tickets) {
    absl::Status outcome = *(*producer)->Outcome(ticket, /*wait=*/true);
    if (!outcome.ok()) std::fprintf(stderr, "kafka alone: %s\n", outcome.ToString().c_str());
  }
  return static_cast<double>(records) /
         std::chrono::duration<double>(Steady::now() - start).count();
}

struct FetcherRun {
  double records_per_second = 0;
  double records_per_call = 0;
};

// `bulk`: every object through a Bulk job; else REST pages, as the client baseline reads them.
FetcherRun FetcherRate(sfsim::Simulator& sim, int64_t records, bool bulk) {
  testing::TempDatabase db;
  const std::string org = testing::UniqueName("bench");
  auto conn = testing::ConnectWithUnlimitedOrg(db.url(), org);
  FetcherOptions o;
  o.postgres_url = db.url();
  o.kafka_brokers = testing::KafkaBrokers();
  o.org_id = org;
  o.credentials.flow = salesforce::AuthFlow::kPassword;
  o.credentials.login_url = sim.base_url();
  o.credentials.client_id = std::string(testing::kClientId);
  o.credentials.client_secret = std::string(testing::kClientSecret);
  o.credentials.username = std::string(testing::kUsername);
  o.credentials.password = std::string(testing::kPassword);
  o.objects = kObjects;
  o.poll_interval = milliseconds(600'000);
  o.metrics_port = -1;
  o.partitions = 6;
  o.bulk_threshold = bulk ? 1 : 0;
  o.bulk_poll_initial = milliseconds(1);
  o.bulk_poll_max = milliseconds(1);
  sim.limits().ResetCounts();
  testing::RunningService<FetcherService> fetcher(o);
  while (true) {
    auto objects = control::LoadObjects(*conn, org);
    int live = 0;
    if (objects.ok()) {
      for (const auto& x : *objects) live += x.state == control::ObjectState::kLive ? 1 : 0;
    }
    if (live == static_cast<int>(kObjects.size())) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  int64_t queries = 0;
  for (const auto& [kind, n] : sim.limits().CallsByKind()) {
    if (kind.starts_with("query")) queries += n;
  }
  // The backfill proper, as the control plane stamped it (start-up and discovery excluded).
  auto window = conn->Exec(
      "SELECT EXTRACT(EPOCH FROM max(backfill_completed_at) - min(backfill_started_at)) "
      "FROM sfbridge.objects WHERE org_id = $1",
      {org});
  (void)fetcher.Stop();
  const double seconds = std::stod(*window->rows[0][0]);
  return {static_cast<double>(records) / seconds,
          static_cast<double>(records) / static_cast<double>(queries)};
}

int Run() {
  sfsim::SimulatorOptions sim_options =
      testing::SimOptions({{"User", 5}, {"Account", 20'000}, {"Contact", 60'000}});
  sim_options.bulk.pickup_ms = 0;
  sim_options.bulk.records_per_second = 1e9;
  auto sim = sfsim::Simulator::Start(sim_options, core::SystemClock::Instance());
  if (!sim.ok()) {
    std::fprintf(stderr, "sfsim: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  std::vector<double> raw, kafka_alone, fetched, per_call, ratio, kafka_ratio;
  std::vector<double> raw_bulk, fetched_bulk, ratio_bulk;
  int64_t records = 0, bulk_records = 0;
  for (int run = 0; run < 3; ++run) {
    std::vector<mapping::EncodedChanges> pages;
    raw.push_back(RawClientRate(**sim, &records, &pages));
    kafka_alone.push_back(KafkaAloneRate(pages));
    pages.clear();
    FetcherRun f = FetcherRate(**sim, records, /*bulk=*/false);
    fetched.push_back(f.records_per_second);
    per_call.push_back(f.records_per_call);
    ratio.push_back(f.records_per_second / raw.back());
    kafka_ratio.push_back(f.records_per_second / kafka_alone.back());
    std::printf(
        "run %d REST: client alone %.0f records/s, Kafka alone %.0f records/s, fetcher %.0f "
        "records/s (ratio %.2f to the client, %.2f to Kafka), %.1f records per query call\n",
        run + 1, raw.back(), kafka_alone.back(), f.records_per_second, ratio.back(),
        kafka_ratio.back(), f.records_per_call);
    raw_bulk.push_back(RawBulkRate(**sim, &bulk_records));
    FetcherRun b = FetcherRate(**sim, bulk_records, /*bulk=*/true);
    fetched_bulk.push_back(b.records_per_second);
    ratio_bulk.push_back(b.records_per_second / raw_bulk.back());
    std::printf(
        "run %d Bulk: client alone %.0f records/s, fetcher %.0f records/s (ratio %.2f to the "
        "client)\n",
        run + 1, raw_bulk.back(), b.records_per_second, ratio_bulk.back());
    std::fflush(stdout);
  }
  std::printf(
      "fetcher backfill (budget unlimited), %lld records over %zu objects, median of 3:\n"
      "  REST pages of 2,000:\n"
      "    client alone (baseline):   %.0f records/s\n"
      "    Kafka alone (baseline):    %.0f records/s\n"
      "    fetcher -> Kafka:          %.0f records/s\n"
      "    ratio to the client alone: %.2f\n"
      "    ratio to Kafka alone:      %.2f\n"
      "    records per query call:    %.1f\n"
      "  Bulk API 2.0, results pages of %lld (the fetcher's default):\n"
      "    client alone (baseline):   %.0f records/s\n"
      "    fetcher -> Kafka:          %.0f records/s\n"
      "    ratio to the client alone: %.2f\n",
      static_cast<long long>(records), kObjects.size(), Median(raw), Median(kafka_alone),
      Median(fetched), Median(ratio), Median(kafka_ratio), Median(per_call),
      static_cast<long long>(FetcherOptions{}.bulk_page_records), Median(raw_bulk),
      Median(fetched_bulk), Median(ratio_bulk));
  return 0;
}

}  // namespace
}  // namespace sfbridge::fetcher

int main() { return sfbridge::fetcher::Run(); }
