// The writer end to end, Kafka -> sfbridge-writer -> PostgreSQL, as a ratio of PostgreSQL's own
// COPY speed into an identical table in the same run (DESIGN.md: writer >= 0.5 x raw COPY), and
// the writer's resident memory against the size of its backlog (DESIGN.md: <= 256 MB).
//
// Set-up, not timed: 1,000,000 RecordChanges of a 20-column object (id + 19 fields of mixed
// types, ~600 bytes each) are produced to the org's records topic (3 partitions), and 250,000
// more to a second org's topic.
// Each run, from empty tables and no stored offsets:
//   writer    — the sfbridge-writer binary, started as a child process with its defaults
//               (batches of 5,000), timed from its start until the offsets it stores in Postgres
//               reach the end of every partition; also from its first committed batch (steady
//               state, without start-up and group join). Its VmRSS is sampled every 100 ms from
//               /proc; VmHWM (the kernel's peak) is read just before it is stopped.
//   raw COPY  — the same rows, rendered to COPY text outside the timer, COPYed in transactions
//               of 5,000 rows into a table created LIKE the writer's (same columns, primary key,
//               defaults) on one connection.
// Three runs with the 1M backlog (alternating which side goes first), medians reported (of the
// rates, and of each run's ratio, which drifts less with the machine's load); then the writer
// twice on the 250k backlog, to compare its peak memory.
//
//   SFBRIDGE_BENCH_RECORDS=N  the large backlog (default 1,000,000); the small one is N / 4.

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/control/migrations.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/strings.h"
#include "common/kafka/admin.h"
#include "common/kafka/producer.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/record.pb.h"
#include "sfbridge/v1/schema.pb.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/writer/bench_object.h"
#include "writer/table_schema.h"
#include "writer/values.h"

namespace {

using namespace sfbridge;
using core::StrCat;
using Clock = std::chrono::steady_clock;
using writer::bench::Id;
using writer::bench::kFields;

constexpr const char* kObject = "Bench__c";
constexpr const char* kSchema = "salesforce";
constexpr int kPartitions = 3;
constexpr int kRawBatch = 5'000;
constexpr int kRuns = 3;

void Check(const absl::Status& s, const std::string& what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what.c_str(), std::string(s.message()).c_str());
  std::exit(1);
}

v1::RecordChange Record(const std::string& org, int64_t row) {
  v1::RecordChange c;
  c.set_org_id(org);
  c.set_object_name(kObject);
  c.set_record_id(Id(row));
  c.set_system_modstamp_ms(1'700'000'000'000 + row);
  c.set_source(v1::CHANGE_SOURCE_BACKFILL);
  c.set_schema_fingerprint("bench-v1");  // as the fetcher sets it
  auto& fields = *c.mutable_fields();
  for (const auto& [name, type] : kFields) fields[name] = writer::bench::Value(type, row, 1);
  fields["Id"].set_text(Id(row));
  return c;
}

v1::ObjectSchema Schema(const std::string& org) {
  v1::ObjectSchema schema;
  schema.set_org_id(org);
  schema.set_name(kObject);
  schema.set_fingerprint("bench-v1");
  schema.set_version(1);
  auto* id = schema.add_fields();
  id->set_name("Id");
  id->set_type("id");
  for (const auto& [name, type] : kFields) {
    auto* f = schema.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  return schema;
}

void Produce(const std::string& topic, const std::string& org, int64_t count,
             const std::string& schemas_topic) {
  int64_t failed = 0;
  auto producer = kafka::Producer::Create(
      {.brokers = testing::KafkaBrokers(), .extra = {{"linger.ms", "50"}}},
      [&](const kafka::DeliveryReport& r) { failed += r.status.ok() ? 0 : 1; });
  Check(producer.status(), "producer");
  Check((*producer)->Produce(schemas_topic, kObject, Schema(org).SerializeAsString(), 0),
        "produce schema");
  std::string value;
  for (int64_t row = 0; row < count; ++row) {
    v1::RecordChange c = Record(org, row);
    c.SerializeToString(&value);
    while (true) {
      absl::Status s = (*producer)->Produce(topic, c.record_id(), value, row + 1);
      if (s.code() != absl::StatusCode::kResourceExhausted) {
        Check(s, "produce");
        break;
      }
      (*producer)->Poll(20);
    }
  }
  Check((*producer)->Flush(600'000), "flush");
  if (failed > 0) {
    std::fprintf(stderr, "%lld messages not delivered\n", static_cast<long long>(failed));
    std::exit(1);
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Org {
  std::string id;
  int64_t records = 0;
};

struct WriterRun {
  double rate = 0;         // rows/s from process start to the last offset stored
  double steady_rate = 0;  // rows/s from the first committed batch to the last
  double start_seconds = 0;
  int64_t peak_rss_kb = 0;                          // VmHWM
  std::vector<std::pair<double, int64_t>> samples;  // (fraction applied, VmRSS kB)
};

int64_t ProcKb(pid_t pid, const std::string& field) {
  FILE* f = std::fopen(StrCat("/proc/", static_cast<int64_t>(pid), "/status").c_str(), "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kb = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::string(line).rfind(field + ":", 0) == 0) {
      kb = std::atoll(line + field.size() + 1);
      break;
    }
  }
  std::fclose(f);
  return kb;
}

class Bench {
 public:
  Bench(postgres::Connection& conn, std::string url) : conn_(conn), url_(std::move(url)) {}

  int64_t StoredOffsets(const std::string& org) {
    auto r = conn_.Exec(
        "SELECT coalesce(sum(next_offset), 0) FROM sfbridge.consumer_offsets "
        "WHERE consumer_group = $1 AND topic = $2",
        {control::WriterConsumerGroup(org), control::RecordsTopic(org)});
    Check(r.status(), "offsets");
    return std::stoll(*r->rows[0][0]);
  }

  // The org's synced table, empty, and no offsets stored: the writer starts from the beginning.
  std::string Reset(const std::string& org) {
    auto table = conn_.Exec(
        "SELECT table_name FROM sfbridge.synced_tables WHERE org_id = $1 AND object_name = $2",
        {org, kObject});
    Check(table.status(), "table");
    const std::string qtable = StrCat("salesforce.\"", *table->rows.at(0)[0], "\"");
    Check(conn_
              .Exec(StrCat("TRUNCATE ", qtable,
                           ", salesforce._tombstones; DELETE FROM sfbridge.consumer_offsets WHERE "
                           "consumer_group = '",
                           control::WriterConsumerGroup(org), "'; CHECKPOINT"))
              .status(),
          "reset");
    return qtable;
  }

  WriterRun RunWriter(const Org& org) {
    const std::string qtable = Reset(org.id);
    WriterRun run;
    const auto start = Clock::now();
    auto child = testing::ChildProcess::Start({SFBRIDGE_WRITER},
                                              {{"SFBRIDGE_POSTGRES_URL", url_},
                                               {"SFBRIDGE_KAFKA_BROKERS", testing::KafkaBrokers()},
                                               {"SFBRIDGE_ORG_ID", org.id},
                                               {"SFBRIDGE_GRPC_PORT", "0"},
                                               {"SFBRIDGE_GRPC_HOST", "127.0.0.1"},
                                               {"SFBRIDGE_METRICS_PORT", "0"},
                                               {"SFBRIDGE_METRICS_HOST", "127.0.0.1"},
                                               {"SFBRIDGE_LOG_LEVEL", "warn"}});
    if (child == nullptr) std::exit(1);
    std::optional<Clock::time_point> first;
    double next_sample = 0;
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const int64_t done = StoredOffsets(org.id);
      const double fraction = static_cast<double>(done) / org.records;
      const int64_t rss = ProcKb(child->pid(), "VmRSS");
      if (rss < 0) {
        std::fprintf(stderr, "the writer exited:\n%s\n", child->Output().c_str());
        std::exit(1);
      }
      if (done > 0 && !first) first = Clock::now();
      if (fraction >= next_sample) {
        run.samples.push_back({fraction, rss});
        next_sample = std::min(1.0, std::max(next_sample + 0.1, fraction + 0.05));
      }
      if (done >= org.records) break;
      if (Clock::now() - start > std::chrono::minutes(20)) {
        std::fprintf(stderr, "the writer did not finish:\n%s\n", child->Output().c_str());
        std::exit(1);
      }
    }
    const auto end = Clock::now();
    run.peak_rss_kb = ProcKb(child->pid(), "VmHWM");
    child->Signal(SIGTERM);
    child->Wait(std::chrono::seconds(60));
    run.rate = org.records / std::chrono::duration<double>(end - start).count();
    // The first batch's rows are not in the steady-state window; 100 ms polling blurs both ends.
    run.steady_rate = org.records / std::chrono::duration<double>(end - *first).count();
    run.start_seconds = std::chrono::duration<double>(*first - start).count();
    auto count = conn_.Exec("SELECT count(*) FROM " + qtable);
    Check(count.status(), "count");
    if (std::stoll(*count->rows[0][0]) != org.records) {
      std::fprintf(stderr, "the writer stored %s rows, not %lld\n", count->rows[0][0]->c_str(),
                   static_cast<long long>(org.records));
      std::exit(1);
    }
    return run;
  }

  double RunRawCopy(const Org& org, const std::vector<std::string>& columns,
                    const std::vector<writer::ColumnKind>& kinds) {
    Check(conn_.Exec("TRUNCATE salesforce.bench_raw; CHECKPOINT").status(), "truncate raw");
    Clock::duration spent{};
    std::string text;
    for (int64_t begin = 0; begin < org.records; begin += kRawBatch) {
      text.clear();
      const int64_t end = std::min<int64_t>(org.records, begin + kRawBatch);
      for (int64_t row = begin; row < end; ++row) {
        const v1::RecordChange c = Record(org.id, row);
        text += c.record_id();
        for (size_t f = 0; f < kFields.size(); ++f) {
          text.push_back('\t');
          Check(writer::AppendCopyValue(text, c.fields().at(kFields[f].first), kinds[f]), "render");
        }
        text += StrCat("\t", c.system_modstamp_ms(), "\n");
      }
      const auto start = Clock::now();
      Check(conn_.InTransaction([&](postgres::Transaction& tx) {
        return tx.CopyIn("salesforce.bench_raw", columns, text);
      }),
            "raw copy");
      spent += Clock::now() - start;
    }
    return org.records / std::chrono::duration<double>(spent).count();
  }

 private:
  postgres::Connection& conn_;
  std::string url_;
};

}  // namespace

int main() {
  const char* env_records = std::getenv("SFBRIDGE_BENCH_RECORDS");
  const int64_t records = env_records ? std::atoll(env_records) : 1'000'000;
  testing::TempDatabase db;
  auto conn_or = postgres::Connection::Connect(db.url());
  Check(conn_or.status(), "connect");
  postgres::Connection& conn = **conn_or;
  Check(control::Migrate(conn), "migrate");

  const Org large{testing::UniqueName("benchl"), records};
  const Org small{testing::UniqueName("benchs"), records / 4};
  for (const Org* org : {&large, &small}) {
    control::OrgSettings settings;
    settings.org_id = org->id;
    settings.display_name = org->id;
    Check(control::UpsertOrg(conn, settings), "org");
    Check(kafka::EnsureTopic(testing::KafkaBrokers(),
                             {.name = control::RecordsTopic(org->id), .partitions = kPartitions}),
          "records topic");
    Check(kafka::EnsureTopic(testing::KafkaBrokers(), {.name = control::SchemasTopic(org->id),
                                                       .partitions = 1,
                                                       .configs = {{"cleanup.policy", "compact"}}}),
          "schemas topic");
  }
  // Both orgs sync into the same schema; the small org's table gets a suffixed name.
  Check(writer::EnsureTable(conn, kSchema, Schema(large.id)), "ensure table");
  Check(writer::EnsureTable(conn, kSchema, Schema(small.id)), "ensure small table");
  Check(conn.Exec("CREATE TABLE salesforce.bench_raw (LIKE salesforce.bench__c INCLUDING ALL)")
            .status(),
        "raw table");
  std::vector<std::string> raw_columns = {"id"};
  std::vector<writer::ColumnKind> kinds;
  for (const auto& [name, type] : kFields) {
    auto r = conn.Exec(
        "SELECT column_name, format_type(a.atttypid, a.atttypmod) FROM sfbridge.field_mappings f "
        "JOIN pg_attribute a ON a.attrelid = 'salesforce.bench__c'::regclass "
        "AND a.attname = f.column_name WHERE f.org_id = $1 AND f.field_name = $2",
        {large.id, name});
    Check(r.status(), "columns");
    raw_columns.push_back(*r->rows[0][0]);
    kinds.push_back(writer::KindOf(*r->rows[0][1]));
  }
  raw_columns.push_back("_modstamp_ms");

  std::printf("producing %lld + %lld records to Kafka (not timed) ...\n",
              static_cast<long long>(large.records), static_cast<long long>(small.records));
  std::fflush(stdout);
  const auto produce_start = Clock::now();
  Produce(control::RecordsTopic(large.id), large.id, large.records,
          control::SchemasTopic(large.id));
  Produce(control::RecordsTopic(small.id), small.id, small.records,
          control::SchemasTopic(small.id));
  std::printf("produced in %.1f s\n",
              std::chrono::duration<double>(Clock::now() - produce_start).count());

  Bench bench(conn, db.url());
  std::vector<double> writer_rates, steady_rates, raw_rates, ratios, peaks_large;
  WriterRun last;
  for (int run = 0; run < kRuns; ++run) {
    WriterRun w;
    double raw = 0;
    if (run % 2 == 0) {
      w = bench.RunWriter(large);
      raw = bench.RunRawCopy(large, raw_columns, kinds);
    } else {
      raw = bench.RunRawCopy(large, raw_columns, kinds);
      w = bench.RunWriter(large);
    }
    writer_rates.push_back(w.rate);
    steady_rates.push_back(w.steady_rate);
    raw_rates.push_back(raw);
    ratios.push_back(w.rate / raw);
    peaks_large.push_back(w.peak_rss_kb / 1024.0);
    std::printf(
        "run %d: writer %.0f rows/s (%.0f rows/s after its first batch at %.1f s), raw COPY %.0f "
        "rows/s, writer peak RSS %.1f MB\n",
        run + 1, w.rate, w.steady_rate, w.start_seconds, raw, w.peak_rss_kb / 1024.0);
    std::fflush(stdout);
    last = w;
  }
  std::printf("  writer VmRSS while applying the %lld backlog (last run):",
              static_cast<long long>(large.records));
  for (const auto& [fraction, kb] : last.samples) {
    std::printf(" %.0f%%:%.0fMB", fraction * 100, kb / 1024.0);
  }
  std::printf("\n");

  std::vector<double> peaks_small;
  for (int run = 0; run < 2; ++run) {
    WriterRun w = bench.RunWriter(small);
    peaks_small.push_back(w.peak_rss_kb / 1024.0);
    std::printf("small backlog run %d: writer %.0f rows/s, peak RSS %.1f MB; VmRSS:", run + 1,
                w.rate, w.peak_rss_kb / 1024.0);
    for (const auto& [fraction, kb] : w.samples) {
      std::printf(" %.0f%%:%.0fMB", fraction * 100, kb / 1024.0);
    }
    std::printf("\n");
  }

  const double writer = Median(writer_rates), raw = Median(raw_rates);
  std::printf("\n%lld records x %zu columns through Kafka (%d partitions), median of %d runs:\n",
              static_cast<long long>(large.records), kFields.size() + 1, kPartitions, kRuns);
  std::printf("  raw COPY into an identical table          %9.0f rows/s\n", raw);
  std::printf("  writer, process start to last offset      %9.0f rows/s\n", writer);
  std::printf("  writer, first batch to last offset        %9.0f rows/s\n", Median(steady_rates));
  std::printf("  writer / raw COPY                         %9.2f   (target >= 0.50)\n",
              writer / raw);
  std::printf("  writer (first batch on) / raw COPY        %9.2f\n", Median(steady_rates) / raw);
  std::printf("  writer / raw COPY within each run         %9.2f   (median of the runs' ratios)\n",
              Median(ratios));
  std::printf("  writer peak RSS, %7lld backlog         %9.1f MB (median VmHWM; target <= 256)\n",
              static_cast<long long>(large.records), Median(peaks_large));
  std::printf("  writer peak RSS, %7lld backlog         %9.1f MB (median VmHWM; target <= 256)\n",
              static_cast<long long>(small.records), Median(peaks_small));
  return 0;
}
