// How fast the writer applies record versions, as a ratio of PostgreSQL's own COPY speed into an
// identical table (DESIGN.md's target: writer >= 0.5 x raw COPY).
//
// Both sides write the same 200,000 rows of a 20-column object (id + 19 fields of mixed types)
// in transactions of 5,000 rows, on one connection to the test PostgreSQL server:
//   writer    — ApplyBatch: render the RecordChanges, COPY into staging, guarded upsert, offsets;
//   raw COPY  — COPY of pre-rendered text (the same values) straight into a table created
//               LIKE the writer's (same columns, primary key, defaults).
// Each run starts from empty tables; the timers cover only the database work of each side
// (building the messages and the raw text is outside them). Prints rows/s for each, median of 3
// runs, the ratio, and the writer's rate when every row is an update (a newer version of rows
// already stored).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/control/migrations.h"
#include "common/control/org_settings.h"
#include "common/postgres/connection.h"
#include "tests/harness/test_env.h"
#include "tests/integration/writer/bench_object.h"
#include "writer/applier.h"
#include "writer/table_schema.h"
#include "writer/values.h"

namespace {

using namespace sfbridge;
using Clock = std::chrono::steady_clock;
using writer::bench::Id;
using writer::bench::kFields;

constexpr const char* kOrg = "00D000000000001AAA";
constexpr const char* kSchema = "salesforce";
constexpr int kRows = 200'000;
constexpr int kBatch = 5'000;
constexpr int kRuns = 3;

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, std::string(s.message()).c_str());
  std::exit(1);
}

std::vector<v1::RecordChange> Batch(int begin, int64_t version) {
  std::vector<v1::RecordChange> out;
  out.reserve(kBatch);
  for (int row = begin; row < begin + kBatch; ++row) {
    v1::RecordChange c;
    c.set_org_id(kOrg);
    c.set_object_name("Bench__c");
    c.set_record_id(Id(row));
    c.set_system_modstamp_ms(1'700'000'000'000 + version);
    auto& fields = *c.mutable_fields();
    for (const auto& [name, type] : kFields)
      fields[name] = writer::bench::Value(type, row, version);
    out.push_back(std::move(c));
  }
  return out;
}

// The same batch as COPY text for the raw table: id, the fields in column order, _modstamp_ms.
std::string RawText(const std::vector<v1::RecordChange>& batch,
                    const std::vector<writer::ColumnKind>& kinds) {
  std::string out;
  for (const auto& c : batch) {
    out += c.record_id();
    for (size_t f = 0; f < kFields.size(); ++f) {
      out.push_back('\t');
      Check(writer::AppendCopyValue(out, c.fields().at(kFields[f].first), kinds[f]), "render");
    }
    out += "\t" + std::to_string(c.system_modstamp_ms()) + "\n";
  }
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  testing::TempDatabase db;
  auto conn_or = postgres::Connection::Connect(db.url());
  Check(conn_or.status(), "connect");
  postgres::Connection& conn = **conn_or;
  Check(control::Migrate(conn), "migrate");
  control::OrgSettings org;
  org.org_id = kOrg;
  Check(control::UpsertOrg(conn, org), "org");
  v1::ObjectSchema schema;
  schema.set_org_id(kOrg);
  schema.set_name("Bench__c");
  auto* id = schema.add_fields();
  id->set_name("Id");
  id->set_type("id");
  for (const auto& [name, type] : kFields) {
    auto* f = schema.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  Check(writer::EnsureTable(conn, kSchema, schema), "ensure table");
  Check(conn.Exec("CREATE TABLE salesforce.bench_raw (LIKE salesforce.bench__c INCLUDING ALL)")
            .status(),
        "raw table");
  std::vector<std::string> raw_columns = {"id"};
  std::vector<writer::ColumnKind> kinds;
  for (const auto& [name, type] : kFields) {
    auto r = conn.Exec(
        "SELECT column_name, format_type(a.atttypid, a.atttypmod) FROM sfbridge.field_mappings f "
        "JOIN pg_attribute a ON a.attrelid = 'salesforce.bench__c'::regclass "
        "AND a.attname = f.column_name WHERE f.field_name = $1",
        {name});
    Check(r.status(), "columns");
    raw_columns.push_back(*r->rows[0][0]);
    kinds.push_back(writer::KindOf(*r->rows[0][1]));
  }
  raw_columns.push_back("_modstamp_ms");

  std::vector<double> writer_rates, raw_rates, update_rates;
  // One for the whole run, as a writer process has one; layouts read afresh every call.
  writer::Applier applier({.cache_layouts = false});
  for (int run = 0; run < kRuns; ++run) {
    Check(conn.Exec("TRUNCATE salesforce.bench__c, salesforce.bench_raw, salesforce._tombstones; "
                    "CHECKPOINT")
              .status(),
          "truncate");
    auto time_writer = [&](int64_t version) {
      Clock::duration spent{};
      for (int begin = 0; begin < kRows; begin += kBatch) {
        auto batch = Batch(begin, version);
        std::vector<writer::OffsetUpdate> offsets = {
            {"bench", "sfbridge.bench.records", 0, begin + kBatch}};
        auto start = Clock::now();
        auto stats = applier.ApplyBatch(conn, kSchema, batch, offsets);
        spent += Clock::now() - start;
        Check(stats.status(), "apply");
        if (stats->objects["Bench__c"].applied != kBatch) {
          std::fprintf(stderr, "apply: not every row applied\n");
          return 0.0;
        }
      }
      return kRows / std::chrono::duration<double>(spent).count();
    };
    auto time_raw = [&]() {
      Clock::duration spent{};
      for (int begin = 0; begin < kRows; begin += kBatch) {
        std::string text = RawText(Batch(begin, 1), kinds);
        auto start = Clock::now();
        Check(conn.InTransaction([&](postgres::Transaction& tx) {
          return tx.CopyIn("salesforce.bench_raw", raw_columns, text);
        }),
              "raw copy");
        spent += Clock::now() - start;
      }
      return kRows / std::chrono::duration<double>(spent).count();
    };
    // Alternate which side goes first, so neither always gets the warmer cache.
    if (run % 2 == 0) {
      writer_rates.push_back(time_writer(1));
      raw_rates.push_back(time_raw());
    } else {
      raw_rates.push_back(time_raw());
      writer_rates.push_back(time_writer(1));
    }
    update_rates.push_back(time_writer(2));
    std::printf("run %d: writer %.0f rows/s, raw COPY %.0f rows/s, writer (updates) %.0f rows/s\n",
                run + 1, writer_rates.back(), raw_rates.back(), update_rates.back());
    std::fflush(stdout);
  }
  const double writer = Median(writer_rates), raw = Median(raw_rates);
  std::printf("\n%d rows x %zu columns, batches of %d, median of %d runs:\n", kRows,
              kFields.size() + 1, kBatch, kRuns);
  std::printf("  raw COPY into an identical table   %9.0f rows/s\n", raw);
  std::printf("  writer ApplyBatch (new rows)        %9.0f rows/s\n", writer);
  std::printf("  writer ApplyBatch (all updates)     %9.0f rows/s\n", Median(update_rates));
  std::printf("  writer / raw COPY                   %9.2f   (target >= 0.50)\n", writer / raw);
  std::printf("  writer updates / raw COPY           %9.2f\n", Median(update_rates) / raw);
  return 0;
}
