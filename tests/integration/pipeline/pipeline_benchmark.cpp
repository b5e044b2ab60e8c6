// The whole pipeline, sfsim -> sfbridge-fetcher -> Kafka -> sfbridge-writer -> PostgreSQL, on one
// object of 1,000,000 records (Contact; 1,000 Accounts and 5 Users beside it), with the real
// binaries as child processes and sfsim in this process (its API calls are counted there, and its
// memory is this process's).
//
// 1. End to end, budget unlimited (1,000 calls/s), no churn, the fetcher's defaults (one Bulk API
//    2.0 job, results pages of 200,000 records a call, which sfsim bounds at 64 MiB). sfsim's
//    job processes the whole object before the fetcher's first status poll (sfsim's simulated
//    processing rate is raised: that time is Salesforce's, not the pipeline's). Timed: from
//    starting the writer and the fetcher until the object is live and the offsets the writer stores
//    in PostgreSQL reach the end of the records topic. Baseline, same run: the records table and
//    the writer's stored offsets reset (as writer_kafka_benchmark's Reset), the fetcher stopped,
//    and the sfbridge-writer binary alone timed from its start until its offsets reach the end of
//    the same topic. Printed: records/s of each, their ratio, where the time went (the job's first
//    page and last page acknowledged by Kafka, the object live, the writer's lag then) and each
//    program's peak RSS (VmHWM from /proc just before it is stopped; sfsim's is this process's).
//    Two runs, medians (of two: the mean); the table is counted after each.
// 2. The show (SFBRIDGE_BENCH_SHOW=1; about 2 + 4 minutes): the org's default budget (one call
//    every 3 s, burst 5) and every default of both programs and of sfsim's Bulk jobs (100,000
//    records/s), with gentle churn (5 changes a second) from the fetcher's start until the object
//    is live. Timed from the programs' start: the job created, its pages in Kafka, the object
//    live, every row in PostgreSQL (the writer at the end of the topic and the table as many rows
//    as sfsim holds), then `sfbridge verify` (the binary, --settle=120) must find no difference.
//    Printed: the API calls sfsim counted by kind (and OAuth token requests), records per Bulk
//    results call and per API call overall, and the programs' peak RSS. Run at N / 4 records
//    first, then N, so the fetcher's memory can be compared across result sizes (it reads the
//    results a page at a time, decoding each as it arrives).
//
//   SFBRIDGE_BENCH_RECORDS=N  records of the object (default 1,000,000)
//   SFBRIDGE_BENCH_RUNS=R     end-to-end runs (default 2; 0 skips them)
//   SFBRIDGE_BENCH_SHOW=1     also the show, at N / 4 and N
//
// Needs PostgreSQL and Kafka (started by the test harness when not given).
// Over 500 lines: two modes sharing one set-up (an org under test, the programs, their memory and
// CPU read from /proc), most of the rest the printing of the figures next to their goals.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/control/bulk_jobs.h"
#include "common/control/migrations.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "sfsim/simulator.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/sync_test_support.h"
#include "tests/integration/writer/writer_stream_support.h"

namespace sfbridge {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;
using writer::testing_support::ProcStatusKb;

constexpr const char* kObject = "Contact";
constexpr int kPartitions = 3;  // as testing::FetcherEnv sets it
constexpr double kRecordsGoal = 50'000;
constexpr double kRatioGoal = 0.7;
constexpr double kRssGoalMb = 256;
constexpr double kShowGoalSeconds = 300;
constexpr double kPerCallGoal = 50'000;

void Fail(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Fail(StrCat(what, ": ", s.ToString()));
}

double Since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const char* Goal(bool met) { return met ? "pass" : "MISS"; }

double Mb(int64_t kb) { return static_cast<double>(kb) / 1024.0; }

std::unique_ptr<sfsim::Simulator> StartOrg(int64_t records) {
  const int64_t before = ProcStatusKb(getpid(), "VmRSS");
  const auto start = Steady::now();
  auto sim = sfsim::Simulator::Start(
      testing::SimOptions({{"User", 5}, {"Account", 1'000}, {kObject, records}}),
      core::SystemClock::Instance());
  Check(sim.status(), "sfsim");
  std::printf("sfsim: %lld %ss generated in %.1f s, RSS +%.0f MB\n",
              static_cast<long long>(records), kObject, Since(start),
              Mb(ProcStatusKb(getpid(), "VmRSS") - before));
  std::fflush(stdout);
  return *std::move(sim);
}

// CPU time (user + system) a process has used so far, in seconds; -1 when it cannot be read.
double CpuSeconds(pid_t pid) {
  std::ifstream in(StrCat("/proc/", static_cast<int64_t>(pid), "/stat"));
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos) return -1;
  // After the name: state (field 3) ... utime (14), stime (15), in clock ticks.
  std::istringstream fields(stat.substr(name_end + 2));
  std::string field;
  int64_t ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stoll(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The machine's CPU time so far (/proc/stat), busy and in all, in clock ticks.
struct MachineCpu {
  double busy = 0, total = 0;
};
MachineCpu ReadMachineCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  MachineCpu m;
  for (int i = 0; i < 8; ++i) {
    double ticks = 0;
    in >> ticks;
    m.total += ticks;
    if (i != 3 && i != 4) m.busy += ticks;  // idle and iowait are not busy
  }
  return m;
}
// Cores busy on average since `since` (2.0: both cores of this machine all the time).
double CoresBusy(const MachineCpu& since) {
  const MachineCpu now = ReadMachineCpu();
  const double cores = static_cast<double>(std::thread::hardware_concurrency());
  return now.total > since.total ? cores * (now.busy - since.busy) / (now.total - since.total) : 0;
}

// What a program used, read from /proc just before it was stopped.
struct Usage {
  int64_t peak_kb = 0;  // VmHWM
  double cpu_seconds = 0;
};

// A program under measurement: its peak RSS and CPU time are read before it is stopped.
class Program {
 public:
  Program(std::string name, const std::string& binary, std::map<std::string, std::string> env)
      : name_(std::move(name)) {
    env["SFBRIDGE_LOG_LEVEL"] = "warn";
    child_ = testing::ChildProcess::Start({binary}, env);
    if (child_ == nullptr) Fail(StrCat("cannot start ", name_));
  }
  // Exits the benchmark with the program's output when it is gone.
  void CheckAlive() const {
    if (ProcStatusKb(child_->pid(), "VmRSS") < 0) {
      Fail(StrCat(name_, " exited:\n", child_->Output()));
    }
  }
  // Its usage, then SIGTERM and wait.
  Usage Stop() {
    const Usage usage{ProcStatusKb(child_->pid(), "VmHWM"), CpuSeconds(child_->pid())};
    child_->Signal(SIGTERM);
    if (!child_->Wait(seconds(60))) Fail(StrCat(name_, " did not stop"));
    return usage;
  }
  std::string Output() const { return child_->Output(); }

 private:
  std::string name_;
  std::unique_ptr<testing::ChildProcess> child_;
};

// One org of the benchmark in a database of its own: its control plane, topics and what the
// programs left there.
class OrgUnderTest {
 public:
  OrgUnderTest(const std::string& prefix, bool unlimited_budget)
      : org_id_(testing::UniqueName(prefix)) {
    auto conn = postgres::Connection::Connect(db_.url());
    Check(conn.status(), "connect");
    conn_ = *std::move(conn);
    Check(control::Migrate(*conn_), "migrate");
    control::OrgSettings settings;  // the defaults: one call every 3 s, burst 5
    settings.org_id = org_id_;
    settings.display_name = org_id_;
    if (unlimited_budget) {
      settings.rate_per_second = 1000;
      settings.burst = 1000;
      settings.daily_quota_share = 1;
    }
    Check(control::UpsertOrg(*conn_, settings), "org");
    // Made before the writer subscribes, as the fetcher would make them.
    Check(writer::testing_support::CreateOrgTopics(org_id_, kPartitions), "topics");
    Check(conn_->Exec("CHECKPOINT").status(), "checkpoint");
  }

  const std::string& id() const { return org_id_; }
  const std::string& url() const { return db_.url(); }
  postgres::Connection& conn() { return *conn_; }

  std::unique_ptr<Program> StartWriter() {
    return std::make_unique<Program>(
        "sfbridge-writer", SFBRIDGE_WRITER,
        writer::testing_support::WriterEnv(db_.url(), org_id_, /*metrics_port=*/0));
  }
  std::unique_ptr<Program> StartFetcher(const sfsim::Simulator& sim) {
    return std::make_unique<Program>(
        "sfbridge-fetcher", SFBRIDGE_FETCHER,
        testing::FetcherEnv(db_.url(), org_id_, sim.base_url(), kObject));
  }

  // Messages in the records topic.
  int64_t TopicEnd() {
    int64_t end = 0;
    for (const auto& [partition, high] :
         writer::testing_support::EndOffsets(control::RecordsTopic(org_id_), kPartitions)) {
      end += high;
    }
    return end;
  }
  // Messages the writer has applied, as its offsets in PostgreSQL say.
  int64_t StoredOffsets() {
    auto r = conn_->Exec(
        "SELECT coalesce(sum(next_offset), 0) FROM sfbridge.consumer_offsets "
        "WHERE consumer_group = $1 AND topic = $2",
        {control::WriterConsumerGroup(org_id_), control::RecordsTopic(org_id_)});
    Check(r.status(), "offsets");
    return std::stoll(*r->rows[0][0]);
  }
  bool Live() { return testing::AllLive(*conn_, org_id_, {kObject}); }
  std::optional<control::BulkJobRow> Job() {
    auto job = control::LoadBulkJob(*conn_, org_id_, kObject);
    Check(job.status(), "bulk job");
    return *job;
  }
  std::string Table() {
    auto table = testing::SyncedTableName(*conn_, org_id_, kObject);
    Check(table.status(), "table");
    if (table->empty()) Fail("no synced table");
    return *table;
  }
  int64_t Rows() {
    auto r = conn_->Exec(StrCat("SELECT count(*) FROM ", Table()));
    Check(r.status(), "count");
    return std::stoll(*r->rows[0][0]);
  }
  // The table empty and no offsets stored: a writer started now applies the topic from the start.
  void ResetWriter() {
    Check(conn_
              ->Exec(StrCat("TRUNCATE ", Table(),
                            ", salesforce._tombstones; DELETE FROM sfbridge.consumer_offsets WHERE "
                            "consumer_group = '",
                            control::WriterConsumerGroup(org_id_), "'; CHECKPOINT"))
              .status(),
          "reset");
  }

 private:
  testing::TempDatabase db_;
  std::string org_id_;
  std::unique_ptr<postgres::Connection> conn_;
};

// Moments of a run, in seconds from the programs' start; nullopt when not seen.
struct Timeline {
  std::optional<double> job_created, first_page, last_page, live, first_row, all_rows;
  int64_t lag_at_live = 0;  // messages in Kafka not yet applied when the object went live
};

// Watches `org` every 100 ms until the object is live and the writer has applied every message
// of the topic (and, with `rows_expected`, the table holds as many rows as it returns, counted
// at most once a second). `on_live` is called once when the object goes live.
Timeline Follow(OrgUnderTest& org, Steady::time_point start, const Program& fetcher,
                const Program& writer, int64_t records,
                const std::function<int64_t()>& rows_expected, const std::function<void()>& on_live,
                seconds limit) {
  Timeline t;
  int64_t end = 0;
  auto next_end = Steady::now();
  auto next_count = Steady::now();
  while (true) {
    std::this_thread::sleep_for(milliseconds(100));
    fetcher.CheckAlive();
    writer.CheckAlive();
    const double now = Since(start);
    if (now > limit.count()) {
      Fail(StrCat("not synced after ", limit.count(), " s; fetcher:\n", fetcher.Output(),
                  "\nwriter:\n", writer.Output()));
    }
    if (!t.last_page) {
      if (std::optional<control::BulkJobRow> job = org.Job()) {
        if (!job->job_id.empty() && !t.job_created) t.job_created = now;
        if (job->records_done > 0 && !t.first_page) t.first_page = now;
        if (job->records_done >= records) t.last_page = now;
        if (job->fallback_reason) Fail(StrCat("Bulk fell back to REST: ", *job->fallback_reason));
      }
    }
    const int64_t stored = org.StoredOffsets();
    if (stored > 0 && !t.first_row) t.first_row = now;
    if (!t.live) {
      if (!org.Live()) continue;
      t.live = now;
      if (on_live) on_live();
      end = org.TopicEnd();
      t.lag_at_live = end - stored;
      next_end = Steady::now() + seconds(1);
    }
    // Polls after live may add messages (churn): the topic's end is read again every second.
    if (Steady::now() >= next_end) {
      end = org.TopicEnd();
      next_end = Steady::now() + seconds(1);
    }
    if (stored < end) continue;
    if (rows_expected) {
      if (Steady::now() < next_count) continue;
      next_count = Steady::now() + seconds(1);
      if (org.Rows() != rows_expected()) continue;
    }
    t.all_rows = now;
    return t;
  }
}

std::string At(const std::optional<double>& s) {
  return s ? StrCat(static_cast<int64_t>(*s * 10) / 10.0) : "-";
}

// ---- 1. End to end, budget unlimited ------------------------------------------------------

struct EndToEndRun {
  double rate = 0;               // records/s, programs' start to the last offset stored
  double writer_alone_rate = 0;  // records/s of the writer alone on the same topic
  Timeline timeline;
  int64_t messages = 0;
  Usage fetcher, writer, writer_alone;
  double sfsim_cpu_seconds = 0;  // this process's: sfsim and the benchmark's own watching
  double cores_busy = 0, alone_cores_busy = 0;  // the machine's, on average
  double seconds = 0, alone_seconds = 0;        // wall clock of each
  // CPU seconds of everything else on the machine meanwhile (the Kafka broker, PostgreSQL, ...).
  double OthersCpu() const {
    return cores_busy * seconds - fetcher.cpu_seconds - writer.cpu_seconds - sfsim_cpu_seconds;
  }
  double AloneOthersCpu() const {
    return alone_cores_busy * alone_seconds - writer_alone.cpu_seconds;
  }
};

EndToEndRun RunEndToEnd(sfsim::Simulator& sim, int64_t records) {
  OrgUnderTest org("pipee2e", /*unlimited_budget=*/true);
  EndToEndRun run;
  const MachineCpu machine = ReadMachineCpu();
  const double own_cpu = CpuSeconds(getpid());
  const auto start = Steady::now();
  auto writer = org.StartWriter();
  auto fetcher = org.StartFetcher(sim);
  run.timeline = Follow(org, start, *fetcher, *writer, records, nullptr, nullptr, seconds(900));
  const double seconds_e2e = *run.timeline.all_rows;
  run.cores_busy = CoresBusy(machine);
  run.sfsim_cpu_seconds = CpuSeconds(getpid()) - own_cpu;
  run.fetcher = fetcher->Stop();
  run.writer = writer->Stop();
  run.messages = org.TopicEnd();
  if (org.Rows() != records) Fail(StrCat("the table holds ", org.Rows(), " rows, not ", records));
  run.rate = static_cast<double>(records) / seconds_e2e;
  run.seconds = seconds_e2e;

  org.ResetWriter();
  const MachineCpu alone_machine = ReadMachineCpu();
  const auto alone_start = Steady::now();
  auto alone = org.StartWriter();
  while (org.StoredOffsets() < run.messages) {
    alone->CheckAlive();
    if (Since(alone_start) > 900) Fail("the writer alone did not finish");
    std::this_thread::sleep_for(milliseconds(100));
  }
  const double seconds_alone = Since(alone_start);
  run.alone_cores_busy = CoresBusy(alone_machine);
  run.writer_alone = alone->Stop();
  if (org.Rows() != records) Fail("the writer alone did not store every row");
  run.writer_alone_rate = static_cast<double>(records) / seconds_alone;
  run.alone_seconds = seconds_alone;
  return run;
}

void EndToEnd(sfsim::Simulator& sim, int64_t records, int runs) {
  sim.bulk().set_records_per_second(1e9);
  std::vector<double> rates, alone_rates, ratios, fetcher_mb, writer_mb, alone_mb;
  for (int i = 0; i < runs; ++i) {
    EndToEndRun r = RunEndToEnd(sim, records);
    const Timeline& t = r.timeline;
    const double writer_seconds = *t.all_rows - *t.first_row;
    std::printf(
        "e2e run %d: %.0f records/s end to end (%.1f s), writer alone %.0f records/s, ratio %.2f; "
        "job created %s s, first page in Kafka %s s, last %s s, live %s s (fetcher %.0f "
        "records/s from the job's creation), writer lag then %lld, first row %s s, all rows %s s "
        "(writer %.0f records/s from its first row); peak RSS fetcher %.1f MB, writer %.1f MB, "
        "writer alone %.1f MB; CPU s fetcher %.1f, writer %.1f, sfsim %.1f, the rest (Kafka, "
        "PostgreSQL) %.1f, machine %.2f cores busy; writer alone CPU s %.1f, the rest %.1f, "
        "machine %.2f cores busy; %lld messages\n",
        i + 1, r.rate, *t.all_rows, r.writer_alone_rate, r.rate / r.writer_alone_rate,
        At(t.job_created).c_str(), At(t.first_page).c_str(), At(t.last_page).c_str(),
        At(t.live).c_str(), static_cast<double>(records) / (*t.live - t.job_created.value_or(0)),
        static_cast<long long>(t.lag_at_live), At(t.first_row).c_str(), At(t.all_rows).c_str(),
        static_cast<double>(records) / writer_seconds, Mb(r.fetcher.peak_kb), Mb(r.writer.peak_kb),
        Mb(r.writer_alone.peak_kb), r.fetcher.cpu_seconds, r.writer.cpu_seconds,
        r.sfsim_cpu_seconds, r.OthersCpu(), r.cores_busy, r.writer_alone.cpu_seconds,
        r.AloneOthersCpu(), r.alone_cores_busy, static_cast<long long>(r.messages));
    std::fflush(stdout);
    rates.push_back(r.rate);
    alone_rates.push_back(r.writer_alone_rate);
    ratios.push_back(r.rate / r.writer_alone_rate);
    fetcher_mb.push_back(Mb(r.fetcher.peak_kb));
    writer_mb.push_back(Mb(r.writer.peak_kb));
    alone_mb.push_back(Mb(r.writer_alone.peak_kb));
  }
  sim.bulk().set_records_per_second(sfsim::BulkSettings{}.records_per_second);
  const double rate = Median(rates), ratio = Median(ratios);
  const double fetcher = Median(fetcher_mb), writer = Median(writer_mb);
  std::printf(
      "\nend to end, budget unlimited, %lld %ss through Bulk API 2.0, median of %d runs:\n"
      "  writer alone on the same topic (baseline)  %9.0f records/s\n"
      "  sfsim -> fetcher -> Kafka -> writer -> PG  %9.0f records/s   %s (goal >= %.0f)\n"
      "  end to end / writer alone                  %9.2f           %s (goal >= %.2f)\n"
      "  end to end / writer alone within each run  %9.2f           (median of the runs' ratios)\n"
      "  peak RSS fetcher                           %9.1f MB        %s (goal <= %.0f)\n"
      "  peak RSS writer                            %9.1f MB        %s (goal <= %.0f)\n"
      "  peak RSS writer alone                      %9.1f MB\n"
      "  peak RSS sfsim (this process)              %9.1f MB        (for information)\n",
      static_cast<long long>(records), kObject, runs, Median(alone_rates), rate,
      Goal(rate >= kRecordsGoal), kRecordsGoal,
      Median(alone_rates) > 0 ? rate / Median(alone_rates) : 0, Goal(ratio >= kRatioGoal),
      kRatioGoal, ratio, fetcher, Goal(fetcher <= kRssGoalMb), kRssGoalMb, writer,
      Goal(writer <= kRssGoalMb), kRssGoalMb, Median(alone_mb),
      Mb(ProcStatusKb(getpid(), "VmHWM")));
  std::fflush(stdout);
}

// ---- 2. The show: default budget, Bulk, verify ----------------------------------------------

struct ShowRun {
  int64_t records = 0;
  Timeline timeline;
  double verified_at = 0;
  std::string verify_total;  // verify's "total" line
  int64_t churned = 0;
  std::map<std::string, int64_t> calls;  // by kind, when every row was in PostgreSQL
  int64_t token_requests = 0;
  int64_t job_records = 0;
  Usage fetcher, writer;
};

ShowRun RunShow(sfsim::Simulator& sim, int64_t records) {
  OrgUnderTest org("pipeshow", /*unlimited_budget=*/false);
  ShowRun run;
  run.records = records;
  sim.limits().ResetCounts();
  const int64_t tokens_before = sim.auth().TokenRequests();
  const auto start = Steady::now();
  auto writer = org.StartWriter();
  auto fetcher = org.StartFetcher(sim);
  // Gentle churn while the job runs: its changes reach PostgreSQL through the polls after it.
  std::atomic<bool> churning{true};
  std::atomic<int64_t> churned{0};
  std::jthread churn([&] {
    uint64_t seed = 1;
    while (churning.load()) {
      churned += sim.org().ChurnStep(seed++, 5, 1);
      std::this_thread::sleep_for(seconds(1));
    }
  });
  run.timeline = Follow(
      org, start, *fetcher, *writer, records, [&] { return sim.org().Count(kObject, false); },
      [&] { churning = false; }, seconds(1200));
  run.calls = sim.limits().CallsByKind();
  run.token_requests = sim.auth().TokenRequests() - tokens_before;
  churning = false;
  churn.join();
  run.churned = churned.load();

  testing::CommandResult verify =
      testing::RunCommand({SFBRIDGE_CLI, "verify", "--postgres.url=" + org.url(),
                           "--org.id=" + org.id(), "--sfsim.url=" + sim.base_url(), "--settle=120"},
                          {}, seconds(600));
  run.verified_at = Since(start);
  if (verify.exit_code != 0) Fail(StrCat("sfbridge verify found differences:\n", verify.output));
  const size_t total = verify.output.find("total");
  run.verify_total = verify.output.substr(total, verify.output.find('\n', total) - total);
  run.fetcher = fetcher->Stop();
  run.writer = writer->Stop();
  if (std::optional<control::BulkJobRow> job = org.Job()) run.job_records = job->records_done;
  return run;
}

void PrintShow(const ShowRun& r) {
  const Timeline& t = r.timeline;
  int64_t calls = 0;
  std::string by_kind;
  for (const auto& [kind, n] : r.calls) {
    calls += n;
    by_kind += StrCat(by_kind.empty() ? "" : ", ", kind, " ", n);
  }
  auto count = [&](const std::string& kind) {
    auto it = r.calls.find(kind);
    return it == r.calls.end() ? int64_t{0} : it->second;
  };
  const int64_t results_calls = count("bulk_query_results");
  const double per_results =
      results_calls > 0 ? static_cast<double>(r.job_records) / results_calls : 0;
  const double per_call = static_cast<double>(r.records) / static_cast<double>(calls);
  const double synced = *t.all_rows;
  std::printf(
      "\nthe show: %lld %ss, default budget (1 call / 3 s, burst 5), Bulk API 2.0 defaults:\n"
      "  job created %s s, first page in Kafka %s s, last page %s s, object live %s s\n"
      "  every row in PostgreSQL and the object live  %7.1f s   %s (goal <= %.0f s)\n"
      "  sfbridge verify, no difference, at           %7.1f s   (%s)\n"
      "  changes churned while the job ran            %7lld\n"
      "  API calls by sfsim: %lld (%s); OAuth token requests %lld\n"
      "  records per Bulk results call                %7.0f   %s (goal >= %.0f; %lld records of "
      "the job)\n"
      "  records per API call, every call counted     %7.0f   %s (goal >= %.0f)\n"
      "  peak RSS fetcher                             %7.1f MB %s (goal <= %.0f)\n"
      "  peak RSS writer                              %7.1f MB %s (goal <= %.0f)\n",
      static_cast<long long>(r.records), kObject, At(t.job_created).c_str(),
      At(t.first_page).c_str(), At(t.last_page).c_str(), At(t.live).c_str(), synced,
      Goal(synced <= kShowGoalSeconds), kShowGoalSeconds, r.verified_at, r.verify_total.c_str(),
      static_cast<long long>(r.churned), static_cast<long long>(calls), by_kind.c_str(),
      static_cast<long long>(r.token_requests), per_results, Goal(per_results >= kPerCallGoal),
      kPerCallGoal, static_cast<long long>(r.job_records), per_call, Goal(per_call >= kPerCallGoal),
      kPerCallGoal, Mb(r.fetcher.peak_kb), Goal(Mb(r.fetcher.peak_kb) <= kRssGoalMb), kRssGoalMb,
      Mb(r.writer.peak_kb), Goal(Mb(r.writer.peak_kb) <= kRssGoalMb), kRssGoalMb);
  std::fflush(stdout);
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoll(value) : fallback;
}

int Run() {
  const int64_t records = EnvInt("SFBRIDGE_BENCH_RECORDS", 1'000'000);
  const int runs = static_cast<int>(EnvInt("SFBRIDGE_BENCH_RUNS", 2));
  const bool show = EnvInt("SFBRIDGE_BENCH_SHOW", 0) != 0;
  std::vector<ShowRun> shows;
  if (show) {
    auto small = StartOrg(records / 4);
    shows.push_back(RunShow(*small, records / 4));
    PrintShow(shows.back());
  }
  auto sim = StartOrg(records);
  if (runs > 0) EndToEnd(*sim, records, runs);
  if (show) {
    shows.push_back(RunShow(*sim, records));
    PrintShow(shows.back());
    std::printf(
        "\nthe show's peak RSS by result size (the fetcher's default page size each time):\n");
    for (const ShowRun& r : shows) {
      std::printf("  %8lld records: fetcher %6.1f MB, writer %6.1f MB\n",
                  static_cast<long long>(r.records), Mb(r.fetcher.peak_kb), Mb(r.writer.peak_kb));
    }
    std::printf("  sfsim (this process, VmHWM)  %.1f MB (for information)\n",
                Mb(ProcStatusKb(getpid(), "VmHWM")));
  }
  return 0;
}

}  // namespace
}  // namespace sfbridge

int main() { return sfbridge::Run(); }
