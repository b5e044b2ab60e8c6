// What the proxy adds to a write besides Salesforce's own time: a one-row UPDATE with parameters
// through the write path (resolve, derived query, budget tokens, conversion, read-back
// conversion, the writer's Apply, RETURNING's query) against an in-process sfsim and the writer's
// gRPC service, measured per statement as Execute's time minus the time spent in Salesforce calls
// (sfbridge_proxy_added_seconds). Baseline in the same run: the same UPDATE run directly on
// PostgreSQL against an identical unsynced table. Also shown: the writer's Apply of one record
// version called directly over gRPC (part of what the proxy adds). Goal: proxy-added p50 <= 2 ms
// with coalescing off (writes.coalesce-window 0); then the same with the default window, where
// a lone write waits out the window (counted as proxy-added time).
//
//   proxy_writes_benchmark [statements per round, default 300] [rounds, default 5]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "proxy/writes/writer_client.h"
#include "tests/integration/proxy/writes/write_path_fixture.h"

namespace sfbridge::proxy::testing {
namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

class Bench : public WritePathFixture {
 public:
  int Main(int n, int rounds) {
    catalog_refresh_ = WritePathOptions().catalog_refresh;
    coalesce_window_ = std::chrono::microseconds(0);
    Start({"Invoice__c"});
    if (write_path_ == nullptr) return 1;
    Result seed = Exec(
        "INSERT INTO invoice__c (amount__c, status__c) VALUES (1, 'Sent') "
        "RETURNING id");
    if (seed.returning.size() != 1) {
      std::fprintf(stderr, "seed insert failed\n");
      return 1;
    }
    const std::string id = *seed.returning[0][0];
    if (querier_->Scalar("CREATE TABLE public.invoice_copy AS SELECT * FROM "
                         "salesforce.invoice__c") != "<none>") {
      return 1;
    }
    core::Histogram& added = metrics_.HistogramFamily("sfbridge_proxy_added_seconds", "").Get();
    core::Histogram& salesforce =
        metrics_.HistogramFamily("sfbridge_proxy_salesforce_seconds", "").Get();

    writes::WriterClient writer(core::StrCat("127.0.0.1:", writer_port_),
                                std::chrono::milliseconds(5'000));
    int64_t modstamp = 4'000'000'000'000;
    for (const bool coalescing : {false, true}) {
      if (coalescing) {
        coalesce_window_ = WritePathOptions().coalesce_window;
        auto wp = MakeSalesforceWritePath(Options(), metrics_);
        if (!wp.ok()) return 1;
        write_path_ = *std::move(wp);
      }
      std::printf("coalescing %s (writes.coalesce-window %lld us)\n", coalescing ? "on" : "off",
                  static_cast<long long>(coalesce_window_.count()));
      std::printf("%-7s %12s %12s %12s %12s %12s %10s\n", "round", "added p50", "added p90",
                  "Apply p50", "direct p50", "sfsim p50", "ratio");
      std::vector<double> medians;
      for (int round = 1; round <= rounds; ++round) {
        std::vector<double> added_ms, direct_ms, sf_ms, apply_ms;
        for (int i = 0; i < n; ++i) {
          const std::string amount = std::to_string(100 + i) + ".25";
          const double added_before = added.Sum(), sf_before = salesforce.Sum();
          Result r = Exec(
              "UPDATE invoice__c SET amount__c = $1, notes__c = $2 WHERE id = $3 "
              "RETURNING amount__c",
              TextParams({amount, "bench", id}));
          if (r.outcome.error || r.returning.size() != 1) {
            std::fprintf(stderr, "update failed: %s\n",
                         r.outcome.error ? r.outcome.error->message.c_str() : "no row");
            return 1;
          }
          added_ms.push_back((added.Sum() - added_before) * 1000);
          sf_ms.push_back((salesforce.Sum() - sf_before) * 1000);

          const auto start = Clock::now();
          auto d = querier_->Query(
              "UPDATE public.invoice_copy SET amount__c = $1, notes__c = $2 WHERE id = $3 "
              "RETURNING amount__c",
              TextParams({amount, "bench", id}));
          direct_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
          if (!d.ok()) return 1;

          v1::RecordChange change;
          change.set_org_id(org_id_);
          change.set_object_name("Invoice__c");
          change.set_record_id("a00BENCH00000000AA");  // a row of its own
          change.set_system_modstamp_ms(++modstamp);
          (*change.mutable_fields())["Notes__c"].set_text("direct");
          const auto apply_start = Clock::now();
          if (!writer.Apply(org_id_, {change}).ok()) return 1;
          apply_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - apply_start).count());
        }
        const double p50 = Percentile(added_ms, 0.5), direct = Percentile(direct_ms, 0.5);
        medians.push_back(p50);
        std::printf("%-7d %9.3f ms %9.3f ms %9.3f ms %9.3f ms %9.3f ms %9.1fx\n", round, p50,
                    Percentile(added_ms, 0.9), Percentile(apply_ms, 0.5), direct,
                    Percentile(sf_ms, 0.5), p50 / direct);
      }
      const double median = Percentile(medians, 0.5);
      if (coalescing) {
        std::printf(
            "proxy-added p50 with coalescing on (median of %d rounds of %d one-row UPDATEs): "
            "%.3f ms\n",
            rounds, n, median);
      } else {
        std::printf(
            "proxy-added p50 with coalescing off (median of %d rounds of %d one-row UPDATEs): "
            "%.3f ms (goal <= 2 ms): %s\n",
            rounds, n, median, median <= 2.0 ? "met" : "NOT met");
      }
    }
    Stop();
    return 0;
  }
};

}  // namespace
}  // namespace sfbridge::proxy::testing

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 300;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  sfbridge::proxy::testing::Bench bench;
  return bench.Main(n, rounds);
}
