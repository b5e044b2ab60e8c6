// Throughput of the SOQL evaluator over 1M in-memory records, next to a hand-written loop doing
// the same work on plain structs (the baseline, measured in the same run). Prints the median of
// three runs of each. Usage: sfsim_soql_benchmark [records]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "sfsim/soql/datetime.h"
#include "sfsim/soql/evaluator.h"
#include "sfsim/soql/parser.h"
#include "tests/sfsim/soql/fake_object.h"

namespace sfbridge::sfsim::soql {
namespace {

constexpr std::int64_t kT0 = 1705314030000;  // 2024-01-15T10:20:30Z

struct PlainRecord {
  std::string id;
  std::string name;
  double amount;
  std::int64_t modstamp;
};

double MedianSeconds(const std::function<std::size_t()>& run, std::size_t& rows) {
  std::vector<double> seconds;
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    rows = run();
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[1];
}

void Report(const char* name, std::size_t records, const std::function<std::size_t()>& engine,
            const std::function<std::size_t()>& baseline) {
  std::size_t engine_rows = 0, baseline_rows = 0;
  const double engine_seconds = MedianSeconds(engine, engine_rows);
  const double baseline_seconds = MedianSeconds(baseline, baseline_rows);
  std::printf(
      "%-34s rows=%8zu  engine %6.3f s = %10.0f records/s   baseline %6.3f s   "
      "engine/baseline time %.2fx%s\n",
      name, engine_rows, engine_seconds, records / engine_seconds, baseline_seconds,
      engine_seconds / baseline_seconds,
      engine_rows == baseline_rows ? "" : "   ROW COUNT MISMATCH");
}

int Main(std::size_t count) {
  const testing::FakeObject contact = testing::MakeContactObject();
  testing::FakeRecordSet records;
  std::vector<PlainRecord> plain;
  plain.reserve(count);
  std::mt19937 random(1);
  for (std::size_t n = 0; n < count; ++n) {
    PlainRecord p;
    p.id = testing::ContactId(static_cast<long long>(random() % 1'000'000'000'000ULL));
    p.name = "Contact " + std::to_string(random() % 100'000);
    p.amount = static_cast<double>(random() % 100'000) / 100;
    p.modstamp = kT0 + static_cast<std::int64_t>(random() % 86'400) * 1000;
    std::vector<Value> values(testing::kContactFieldCount);
    values[testing::kIdField] = Value::String(p.id);
    values[testing::kNameField] = Value::String(p.name);
    values[testing::kAmountField] = Value::Number(p.amount);
    values[testing::kSystemModstampField] = Value::DateTime(p.modstamp);
    records.Add(std::move(values));
    plain.push_back(std::move(p));
  }
  const std::int64_t cursor_ts = kT0 + 43'200'000;
  const std::string cursor_id = testing::ContactId(500'000'000'000LL);

  auto bind = [&](const std::string& soql) {
    absl::StatusOr<Query> query = Parse(soql);
    absl::StatusOr<BoundQuery> bound =
        query.ok() ? Bind(*query, contact) : absl::StatusOr<BoundQuery>(query.status());
    if (!bound.ok()) {
      std::fprintf(stderr, "%s\n", std::string(bound.status().message()).c_str());
      std::exit(1);
    }
    return *std::move(bound);
  };

  std::printf("%zu records\n", count);
  const BoundQuery filter =
      bind("SELECT Id FROM Contact WHERE Amount__c > 500 AND Name LIKE '%7%' AND Name != 'x'");
  Report(
      "filter (no ORDER BY)", count, [&] { return Execute(filter, records).size(); },
      [&] {
        std::vector<std::size_t> rows;
        for (std::size_t i = 0; i < plain.size(); ++i) {
          const PlainRecord& p = plain[i];
          if (p.amount > 500 && p.name.find('7') != std::string::npos && p.name != "x") {
            rows.push_back(i);
          }
        }
        return rows.size();
      });

  const BoundQuery keyset =
      bind("SELECT Id FROM Contact WHERE SystemModstamp > " + FormatDateTime(cursor_ts) +
           " OR (SystemModstamp = " + FormatDateTime(cursor_ts) + " AND Id > '" + cursor_id +
           "') ORDER BY SystemModstamp, Id");
  auto plain_keyset = [&](std::size_t limit) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < plain.size(); ++i) {
      const PlainRecord& p = plain[i];
      if (p.modstamp > cursor_ts || (p.modstamp == cursor_ts && p.id > cursor_id)) {
        rows.push_back(i);
      }
    }
    auto before = [&](std::size_t a, std::size_t b) {
      if (plain[a].modstamp != plain[b].modstamp) return plain[a].modstamp < plain[b].modstamp;
      return plain[a].id < plain[b].id;
    };
    if (limit < rows.size()) {
      std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(limit), rows.end(),
                        before);
      rows.resize(limit);
    } else {
      std::sort(rows.begin(), rows.end(), before);
    }
    return rows.size();
  };
  Report(
      "keyset filter + full sort", count, [&] { return Execute(keyset, records).size(); },
      [&] { return plain_keyset(plain.size()); });

  const BoundQuery page =
      bind("SELECT Id FROM Contact WHERE SystemModstamp > " + FormatDateTime(cursor_ts) +
           " OR (SystemModstamp = " + FormatDateTime(cursor_ts) + " AND Id > '" + cursor_id +
           "') ORDER BY SystemModstamp, Id LIMIT 2000");
  Report(
      "keyset filter + sort, LIMIT 2000", count, [&] { return Execute(page, records).size(); },
      [&] { return plain_keyset(2000); });

  const BoundQuery by_name = bind("SELECT Id FROM Contact ORDER BY Name DESC NULLS LAST, Id");
  Report(
      "sort all by Name (case-insensitive)", count,
      [&] { return Execute(by_name, records).size(); },
      [&] {
        std::vector<std::size_t> rows(plain.size());
        for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
        std::sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
          if (plain[a].name != plain[b].name) return plain[a].name > plain[b].name;
          return plain[a].id < plain[b].id;
        });
        return rows.size();
      });
  return 0;
}

}  // namespace
}  // namespace sfbridge::sfsim::soql

int main(int argc, char** argv) {
  const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  return sfbridge::sfsim::soql::Main(count);
}
