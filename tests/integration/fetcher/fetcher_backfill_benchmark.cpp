// Backfill rate of sfbridge-fetcher with the budget unlimited, against the same records read by
// the Salesforce client alone (one query per object, then nextRecordsUrl pages of 2,000, no
// Kafka, no control plane) from the same in-process sfsim, in the same run. Prints records/s of
// both, their ratio and the fetcher's records per API call as sfsim counted them; the median of
// three runs each. Needs PostgreSQL and Kafka (started by the test harness when not given).

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
#include "common/mapping/schema_mapping.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"
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

// Records/s of the client alone reading every object whole.
double RawClientRate(sfsim::Simulator& sim, int64_t* records) {
  auto transport = salesforce::PocoTransport::Create({});
  salesforce::ClientOptions options;
  options.credentials.flow = salesforce::AuthFlow::kPassword;
  options.credentials.login_url = sim.base_url();
  options.credentials.client_id = std::string(testing::kClientId);
  options.credentials.client_secret = std::string(testing::kClientSecret);
  options.credentials.username = std::string(testing::kUsername);
  options.credentials.password = std::string(testing::kPassword);
  salesforce::Client client(options, **transport, core::SystemClock::Instance());
  std::map<std::string, std::string> queries;
  for (const std::string& object : kObjects) {
    auto describe = client.Describe(object);
    auto plan = mapping::MakeFieldPlan(*describe);
    queries[object] = BuildKeysetQuery({.object_name = object, .fields = plan->FieldNames()});
  }
  *records = 0;
  const auto start = Steady::now();
  for (const auto& [object, soql] : queries) {
    auto page = client.QueryAll(soql, 2000);
    while (page.ok()) {
      *records += static_cast<int64_t>(page->records.size());
      if (page->done) break;
      page = client.QueryMore(page->next_records_url);
    }
    if (!page.ok()) std::fprintf(stderr, "raw read failed: %s\n", page.status().ToString().c_str());
  }
  return static_cast<double>(*records) /
         std::chrono::duration<double>(Steady::now() - start).count();
}

struct FetcherRun {
  double records_per_second = 0;
  double records_per_call = 0;
};

FetcherRun FetcherRate(sfsim::Simulator& sim, int64_t records) {
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
  auto sim = sfsim::Simulator::Start(
      testing::SimOptions({{"User", 5}, {"Account", 20'000}, {"Contact", 60'000}}),
      core::SystemClock::Instance());
  if (!sim.ok()) {
    std::fprintf(stderr, "sfsim: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  std::vector<double> raw, fetched, per_call, ratio;
  int64_t records = 0;
  for (int run = 0; run < 3; ++run) {
    raw.push_back(RawClientRate(**sim, &records));
    FetcherRun f = FetcherRate(**sim, records);
    fetched.push_back(f.records_per_second);
    per_call.push_back(f.records_per_call);
    ratio.push_back(f.records_per_second / raw.back());
    std::printf(
        "run %d: client alone %.0f records/s, fetcher %.0f records/s (ratio %.2f), "
        "%.1f records per query call\n",
        run + 1, raw.back(), f.records_per_second, ratio.back(), f.records_per_call);
  }
  std::printf(
      "fetcher backfill (budget unlimited), %lld records over %zu objects, median of 3:\n"
      "  client alone (baseline): %.0f records/s\n"
      "  fetcher -> Kafka:        %.0f records/s  ratio %.2f x the client alone\n"
      "  records per query call:  %.1f\n",
      static_cast<long long>(records), kObjects.size(), Median(raw), Median(fetched), Median(ratio),
      Median(per_call));
  return 0;
}

}  // namespace
}  // namespace sfbridge::fetcher

int main() { return sfbridge::fetcher::Run(); }
