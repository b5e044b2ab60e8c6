// Rate of EncodePage (records to the bytes of Kafka messages) over a 2,000-record page of 30
// fields (the shape of a real Opportunity page: ids, text, currency, percent, datetimes, dates,
// booleans, nulls, picklists), next to a baseline measured in the same run: copying the same
// records' names and values into fresh strings without converting anything; and, for comparison,
// building each v1::RecordChange and serializing it. Prints records/s, ms per page and the
// ratios (time / baseline time). Run by hand: fetcher_record_mapping_benchmark [rounds]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/mapping/record_mapping.h"
#include "common/mapping/schema_mapping.h"
#include "common/salesforce/json_records.h"

namespace sfbridge::mapping {
namespace {

using salesforce::FieldValue;

constexpr int kRecords = 2000;
constexpr int kFields = 30;

const char* TypeOf(int f) {
  if (f == 0) return "id";
  if (f == kFields - 1) return "datetime";  // SystemModstamp
  static const char* kCycle[] = {"string",  "currency", "datetime", "boolean",       "reference",
                                 "percent", "date",     "picklist", "multipicklist", "int"};
  return kCycle[f % 10];
}

std::string NameOf(int f) {
  if (f == 0) return "Id";
  if (f == kFields - 1) return "SystemModstamp";
  return "Field" + std::to_string(f) + "__c";
}

FieldPlan Plan() {
  FieldPlan plan;
  plan.object_name = "Opportunity";
  plan.schema_fingerprint = std::string(64, 'a');
  for (int f = 0; f < kFields; ++f)
    plan.fields.push_back({NameOf(f), TypeOf(f), ValueKindOf(TypeOf(f))});
  plan.Reindex();
  return plan;
}

std::vector<salesforce::Record> Page() {
  std::mt19937 rng(7);
  std::vector<salesforce::Record> page;
  for (int r = 0; r < kRecords; ++r) {
    char id[32];
    std::snprintf(id, sizeof id, "006D%011dIAZ", r);
    salesforce::Record record;
    record.type = "Opportunity";
    record.id = id;
    for (int f = 0; f < kFields; ++f) {
      const std::string type = TypeOf(f);
      FieldValue v;
      if (f != 0 && f != kFields - 1 && rng() % 7 == 0) {
        v = FieldValue::Null();
      } else if (type == "id" || type == "reference") {
        v = FieldValue::String(id);
      } else if (type == "string" || type == "picklist") {
        v = FieldValue::String("Name " + std::to_string(rng() % 100000) + " café");
      } else if (type == "multipicklist") {
        v = FieldValue::String("Red;Green;Blue");
      } else if (type == "currency" || type == "percent") {
        v = FieldValue::Number(std::to_string(rng() % 100000000) + "." +
                               std::to_string(rng() % 90 + 10));
      } else if (type == "int") {
        v = FieldValue::Number(std::to_string(rng() % 100000));
      } else if (type == "datetime") {
        v = FieldValue::String("2024-01-15T10:20:" + std::to_string(10 + rng() % 50) + ".000+0000");
      } else if (type == "date") {
        v = FieldValue::String("2024-03-" + std::to_string(10 + rng() % 19));
      } else if (type == "boolean") {
        v = FieldValue::Bool(rng() % 2);
      }
      record.fields.emplace_back(NameOf(f), std::move(v));
    }
    page.push_back(std::move(record));
  }
  return page;
}

template <typename F>
double BestSeconds(int rounds, F&& body) {
  double best = 1e9;
  for (int i = 0; i < rounds; ++i) {
    const auto start = std::chrono::steady_clock::now();
    body();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

int Main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 30;
  const FieldPlan plan = Plan();
  const std::vector<salesforce::Record> page = Page();
  size_t sink = 0;

  const double baseline = BestSeconds(rounds, [&] {
    std::vector<std::vector<std::pair<std::string, std::string>>> copies;
    copies.reserve(page.size());
    for (const auto& record : page) {
      auto& copy = copies.emplace_back();
      copy.reserve(record.fields.size());
      for (const auto& [name, value] : record.fields) copy.emplace_back(name, value.text);
    }
    sink += copies.size();
  });

  const double encode = BestSeconds(rounds, [&] {
    EncodedChanges out;
    if (!EncodePage("00D000000000001EAA", plan, page, v1::CHANGE_SOURCE_BACKFILL, 1'705'314'099'000,
                    out)
             .ok()) {
      std::fprintf(stderr, "conversion failed\n");
      std::exit(1);
    }
    sink += out.bytes();
  });

  // Messages built one by one, then serialized.
  const double messages = BestSeconds(rounds, [&] {
    std::vector<std::string> values;
    values.reserve(page.size());
    for (const auto& record : page) {
      auto change = ToRecordChange("00D000000000001EAA", plan, record, v1::CHANGE_SOURCE_BACKFILL,
                                   1'705'314'099'000);
      if (!change.ok()) std::exit(1);
      sink += change->SerializeAsString().size();
    }
  });

  std::printf("page: %d records x %d fields, best of %d rounds\n", kRecords, kFields, rounds);
  std::printf("baseline (copy values into strings):   %8.3f ms/page  %12.0f records/s\n",
              baseline * 1e3, kRecords / baseline);
  std::printf("EncodePage (to message bytes):         %8.3f ms/page  %12.0f records/s  %.2fx\n",
              encode * 1e3, kRecords / encode, encode / baseline);
  std::printf("ToRecordChange + SerializeToString:    %8.3f ms/page  %12.0f records/s  %.2fx\n",
              messages * 1e3, kRecords / messages, messages / baseline);
  std::printf("ratio EncodePage/baseline time: %.2fx  (checksum %zu)\n", encode / baseline, sink);
  return 0;
}

}  // namespace
}  // namespace sfbridge::mapping

int main(int argc, char** argv) { return sfbridge::mapping::Main(argc, argv); }
