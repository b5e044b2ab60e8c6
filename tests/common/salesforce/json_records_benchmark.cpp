// Parse rate of ParseQueryPage on a 2,000-record page of 30 fields, next to a baseline measured
// in the same run: simdjson On Demand iterating the same document and touching every value
// without building records. Prints records/s for both and the ratio.
// Usage: salesforce_json_benchmark [--benchmark_repetitions=3 ...]

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "common/salesforce/json_records.h"

namespace sfbridge::salesforce {
namespace {

constexpr int kRecords = 2000;
constexpr int kFields = 30;

// A page shaped like a real Opportunity/Contact page: ids, names, datetimes, decimals,
// booleans, nulls, a picklist, an address compound.
const std::string& Page() {
  static const std::string* page = [] {
    std::mt19937 rng(7);
    auto* s = new std::string(
        R"({"totalSize":100000,"done":false,"nextRecordsUrl":"/services/data/v59.0/query/01gD0000002HU6KIAW-2000","records":[)");
    for (int r = 0; r < kRecords; ++r) {
      if (r) s->push_back(',');
      char id[32];
      std::snprintf(id, sizeof id, "006D%011dIAZ", r);
      *s +=
          R"({"attributes":{"type":"Opportunity","url":"/services/data/v59.0/sobjects/Opportunity/)";
      *s += id;
      *s += R"("},"Id":")";
      *s += id;
      *s += '"';
      for (int f = 1; f < kFields; ++f) {
        *s += ",\"Field" + std::to_string(f) + "__c\":";
        switch (f % 6) {
          case 0:
            *s += "\"Name " + std::to_string(rng() % 100000) + " \\\"quoted\\\" caf\\u00e9\"";
            break;
          case 1:
            *s += std::to_string(rng() % 100000000) + "." + std::to_string(rng() % 90 + 10);
            break;
          case 2:
            *s += "\"2024-01-15T10:20:" + std::to_string(10 + rng() % 50) + ".000+0000\"";
            break;
          case 3:
            *s += rng() % 2 ? "true" : "false";
            break;
          case 4:
            *s += "null";
            break;
          case 5:
            *s +=
                f == 5
                    ? R"({"city":"Paris","country":"FR","latitude":48.8566,"longitude":2.3522,"street":"1 Rue X"})"
                    : "\"Prospecting\"";
            break;
        }
      }
      s->push_back('}');
    }
    *s += "]}";
    return s;
  }();
  return *page;
}

void BM_ParseQueryPage(benchmark::State& state) {
  const std::string& page = Page();
  for (auto _ : state) {
    absl::StatusOr<QueryPage> parsed = ParseQueryPage(page);
    if (!parsed.ok() || parsed->records.size() != kRecords) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.SetBytesProcessed(state.iterations() * page.size());
}

// The floor: the same padded copy and iteration, every value's raw token or string read, no
// records built.
void BM_SimdjsonIterateOnly(benchmark::State& state) {
  const std::string& page = Page();
  simdjson::ondemand::parser parser;
  std::string buffer;
  for (auto _ : state) {
    buffer.resize(page.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(buffer.data(), page.data(), page.size());
    simdjson::ondemand::document doc =
        parser.iterate(buffer.data(), page.size(), buffer.size()).value();
    size_t touched = 0;
    for (auto record : doc["records"].get_array()) {
      for (auto field : record.get_object()) {
        std::string_view key = field.unescaped_key().value();
        simdjson::ondemand::value value = field.value().value();
        switch (value.type().value()) {
          case simdjson::ondemand::json_type::string:
            touched += value.get_string().value().size();
            break;
          case simdjson::ondemand::json_type::object:
            touched += value.get_object().value().raw_json().value().size();
            break;
          default:
            touched += value.raw_json_token().size();
        }
        touched += key.size();
      }
    }
    benchmark::DoNotOptimize(touched);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.SetBytesProcessed(state.iterations() * page.size());
}

BENCHMARK(BM_ParseQueryPage)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SimdjsonIterateOnly)->Unit(benchmark::kMillisecond);

// Prints the usual table, then records/s of each (median across repetitions when asked for)
// and the ratio.
class RatioReporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string name = run.run_name.function_name;
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") medians_[name] = it->second.value;
      } else {
        singles_[name] = it->second.value;
      }
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto rate = [&](const std::string& name) {
      return medians_.count(name) ? medians_[name] : singles_[name];
    };
    const double parse = rate("BM_ParseQueryPage");
    const double baseline = rate("BM_SimdjsonIterateOnly");
    std::printf(
        "\npage: %d records x %d fields, %zu bytes\n"
        "ParseQueryPage        %12.0f records/s\n"
        "simdjson iterate only %12.0f records/s (baseline)\n"
        "ratio parse/baseline  %12.2f\n",
        kRecords, kFields, Page().size(), parse, baseline, baseline > 0 ? parse / baseline : 0);
  }

 private:
  std::map<std::string, double> medians_, singles_;
};

}  // namespace
}  // namespace sfbridge::salesforce

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  sfbridge::salesforce::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
