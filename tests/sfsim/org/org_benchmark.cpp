// Generation time and memory of the simulated org, and the time of the fetcher's keyset query,
// next to a hand-written loop doing the same filter and sort over the same records (the
// baseline, measured in the same run). Usage:
//   sfsim_org_benchmark contacts 200000   200k Contacts (and 2% as many Accounts)
//   sfsim_org_benchmark mixed 1000000     1M records over all objects

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/core/clock.h"
#include "sfsim/org/org.h"
#include "sfsim/soql/datetime.h"

namespace sfbridge::sfsim::org {
namespace {

long RssKb(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::string(key).size());
  }
  return -1;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::map<std::string, int64_t> Counts(const std::string& mode, int64_t n) {
  if (mode == "contacts") return {{"Account", n / 50}, {"Contact", n}};
  return {{"User", n / 10000},
          {"Account", n / 10},
          {"Product2", n / 1000},
          {"Contact", n * 4 / 10},
          {"Lead", n * 15 / 100},
          {"Opportunity", n * 15 / 100},
          {"Invoice__c", n / 10},
          {"Shipment__c", n - n / 10000 - n / 10 - n / 1000 - n * 4 / 10 - n * 3 / 10 - n / 10}};
}

int Run(const std::string& mode, int64_t n) {
  const long rss_before = RssKb("VmRSS:");
  OrgOptions options;
  options.seed = 1;
  options.counts = Counts(mode, n);
  int64_t total = 0;
  for (const auto& [object, count] : options.counts) total += count;
  auto start = std::chrono::steady_clock::now();
  auto org = Org::Create(options, core::SystemClock::Instance());
  if (!org.ok()) {
    std::fprintf(stderr, "%s\n", std::string(org.status().message()).c_str());
    return 1;
  }
  const double generate_s = Seconds(start);
  std::printf(
      "generated %lld records (%lld Contacts) in %.2f s = %.0f records/s; RSS +%ld MB "
      "(peak %ld MB)\n",
      static_cast<long long>(total), static_cast<long long>(options.counts["Contact"]), generate_s,
      total / generate_s, (RssKb("VmRSS:") - rss_before) / 1024, RssKb("VmHWM:") / 1024);

  // The middle of the Contact timeline, so the query filters half the records.
  const auto all = std::get<QueryResult>((*org)->Query("SELECT Id FROM Contact", false));
  std::vector<int64_t> stamps;
  for (const RecordPtr& record : all.records) stamps.push_back(record->system_modstamp_ms);
  std::nth_element(stamps.begin(), stamps.begin() + stamps.size() / 2, stamps.end());
  const int64_t x = stamps[stamps.size() / 2];
  const std::string soql =
      "SELECT Id, SystemModstamp, LastName FROM Contact WHERE SystemModstamp > " +
      soql::FormatDateTimeLiteral(x) + " ORDER BY SystemModstamp, Id LIMIT 2000";
  constexpr int kRuns = 20;
  start = std::chrono::steady_clock::now();
  std::size_t rows = 0;
  for (int i = 0; i < kRuns; ++i) {
    rows = std::get<QueryResult>((*org)->Query(soql, false)).records.size();
  }
  const double query_s = Seconds(start) / kRuns;

  start = std::chrono::steady_clock::now();
  std::size_t baseline_rows = 0;
  for (int i = 0; i < kRuns; ++i) {
    std::vector<const RecordVersion*> matched;
    for (const RecordPtr& record : all.records) {
      if (record->system_modstamp_ms > x) matched.push_back(record.get());
    }
    const std::size_t keep = std::min<std::size_t>(2000, matched.size());
    std::partial_sort(matched.begin(), matched.begin() + static_cast<std::ptrdiff_t>(keep),
                      matched.end(), [](const RecordVersion* a, const RecordVersion* b) {
                        return a->system_modstamp_ms != b->system_modstamp_ms
                                   ? a->system_modstamp_ms < b->system_modstamp_ms
                                   : a->id < b->id;
                      });
    baseline_rows = keep;
  }
  const double baseline_s = Seconds(start) / kRuns;
  std::printf(
      "keyset query over %zu Contacts: %.2f ms (%.0f records/s), %zu rows; baseline loop "
      "%.2f ms (%zu rows); query/baseline time %.2fx\n",
      all.records.size(), query_s * 1000, all.records.size() / query_s, rows, baseline_s * 1000,
      baseline_rows, query_s / baseline_s);

  start = std::chrono::steady_clock::now();
  const int changes = (*org)->ChurnStep(7, 100'000, 250);
  const double churn_s = Seconds(start);
  std::printf("churn: %d changes in %.2f s = %.0f changes/s\n", changes, churn_s,
              changes / churn_s);
  return 0;
}

}  // namespace
}  // namespace sfbridge::sfsim::org

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "contacts";
  const int64_t n = argc > 2 ? std::atoll(argv[2]) : 200'000;
  return sfbridge::sfsim::org::Run(mode, n);
}
