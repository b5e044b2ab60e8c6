// kill -9 of the sfbridge-writer binary, again and again, while a large backfill flows through
// Kafka: at the end the table holds exactly the newest version of every record, and no newer
// version was ever replaced by an older one on the way (triggers on the table record any such
// step into an audit table, which must stay empty).

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/control/names.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/record.pb.h"
#include "sfbridge/v1/schema.pb.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/integration/sync_test_support.h"
#include "tests/integration/writer/writer_stream_support.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;
using testing_support::Differences;
using testing_support::EndOffsets;
using testing_support::ProduceAll;

constexpr int kPartitions = 3;
constexpr int kRecords = 30'000;
constexpr int kMinKills = 6;
constexpr const char* kObject = "Crash__c";

// Records every step back of the synced table or its tombstones: an UPDATE to an older
// modstamp, an INSERT at or below the record's tombstone (a resurrection), a DELETE of a row
// newer than the tombstone it leaves (checked at commit, when the tombstone is written), and a
// tombstone moved back.
constexpr const char* kAuditSql = R"sql(
CREATE TABLE public.regressions (op text, id text, old_ms bigint, new_ms bigint,
                                 at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION public.audit_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO public.regressions (op, id, old_ms, new_ms)
  VALUES ('update', OLD.id, OLD._modstamp_ms, NEW._modstamp_ms);
  RETURN NULL; END $$;
CREATE TRIGGER audit_update AFTER UPDATE ON salesforce.crash__c FOR EACH ROW
  WHEN (NEW._modstamp_ms < OLD._modstamp_ms) EXECUTE FUNCTION public.audit_update();
CREATE FUNCTION public.audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO public.regressions (op, id, old_ms, new_ms)
  SELECT 'resurrect', NEW.id, tb.modstamp_ms, NEW._modstamp_ms FROM salesforce._tombstones tb
  WHERE tb.object = 'Crash__c' AND tb.id = NEW.id AND tb.modstamp_ms >= NEW._modstamp_ms;
  RETURN NULL; END $$;
CREATE TRIGGER audit_insert AFTER INSERT ON salesforce.crash__c FOR EACH ROW
  EXECUTE FUNCTION public.audit_insert();
CREATE FUNCTION public.audit_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM salesforce._tombstones tb WHERE tb.object = 'Crash__c'
                 AND tb.id = OLD.id AND tb.modstamp_ms >= OLD._modstamp_ms) THEN
    INSERT INTO public.regressions (op, id, old_ms) VALUES ('delete', OLD.id, OLD._modstamp_ms);
  END IF;
  RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER audit_delete AFTER DELETE ON salesforce.crash__c
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.audit_delete();
CREATE FUNCTION public.audit_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  INSERT INTO public.regressions (op, id, old_ms, new_ms)
  VALUES ('tombstone', OLD.id, OLD.modstamp_ms, NEW.modstamp_ms);
  RETURN NULL; END $$;
CREATE TRIGGER audit_tombstone AFTER UPDATE ON salesforce._tombstones FOR EACH ROW
  WHEN (NEW.modstamp_ms < OLD.modstamp_ms) EXECUTE FUNCTION public.audit_tombstone();
)sql";

class WriterCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_id_ = testing::UniqueName("writercrash");
    conn_ = testing::ConnectWithUnlimitedOrg(db_.url(), org_id_);
    ASSERT_NE(conn_, nullptr);
    ASSERT_TRUE(testing_support::CreateOrgTopics(org_id_, kPartitions).ok());
  }

  int64_t StoredOffsetSum() {
    auto r = conn_->Exec(
        "SELECT coalesce(sum(next_offset), 0) FROM sfbridge.consumer_offsets "
        "WHERE consumer_group = $1 AND topic = $2",
        {control::WriterConsumerGroup(org_id_), control::RecordsTopic(org_id_)});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::stoll(*r->rows[0][0]) : -1;
  }

  testing::TempDatabase db_;
  std::unique_ptr<postgres::Connection> conn_;
  std::string org_id_;
};

int64_t Sum(const std::map<int32_t, int64_t>& offsets) {
  int64_t total = 0;
  for (const auto& [p, o] : offsets) total += o;
  return total;
}

TEST_F(WriterCrashTest, KillNineLoopDuringABackfillConvergesAndNeverStepsBack) {
  // The table exists (and carries the audit triggers) before the writer first starts; the
  // schema is on the topic as the fetcher would publish it.
  v1::ObjectSchema schema;
  schema.set_org_id(org_id_);
  schema.set_name(kObject);
  schema.set_fingerprint("crash-v1");
  schema.set_version(1);
  for (auto [name, type] :
       std::vector<std::pair<std::string, std::string>>{{"Id", "id"},
                                                        {"Name", "string"},
                                                        {"Amount__c", "currency"},
                                                        {"Stage__c", "picklist"},
                                                        {"Due__c", "date"},
                                                        {"IsActive__c", "boolean"}}) {
    auto* f = schema.add_fields();
    f->set_name(name);
    f->set_type(type);
  }
  ASSERT_TRUE(EnsureTable(*conn_, "salesforce", schema).ok());
  ASSERT_TRUE(conn_->Exec(kAuditSql).ok());
  ProduceAll(control::SchemasTopic(org_id_), {{kObject, schema.SerializeAsString()}});

  // Rounds of versions: every record gets 1-3 versions a round at random modstamps (older or
  // newer than what it has), a fifth of them deletions, the whole round shuffled. A round is
  // produced whenever the writer has caught up before it could be killed enough times.
  std::mt19937_64 random(20240607);
  std::map<std::string, std::pair<int64_t, bool>> newest;  // id -> (modstamp, deleted)
  std::map<std::string, std::string> newest_name;
  int64_t produced = 0;
  auto produce_round = [&](int round) {
    std::vector<std::pair<std::string, std::string>> stream;
    for (int r = 0; r < kRecords; ++r) {
      const std::string id = StrCat("a0C", 100000000000000LL + r);
      const int count = 1 + static_cast<int>(random() % 3);
      for (int v = 0; v < count; ++v) {
        // Distinct per record: the round and version in the low digits.
        const int64_t ms =
            1'700'000'000'000 + static_cast<int64_t>(random() % 1'000'000) * 100 + round * 4 + v;
        const bool deleted = random() % 5 == 0;
        v1::RecordChange c;
        c.set_org_id(org_id_);
        c.set_object_name(kObject);
        c.set_record_id(id);
        c.set_system_modstamp_ms(ms);
        c.set_deleted(deleted);
        const std::string name = StrCat("name ", id, " at ", ms);
        if (!deleted) {
          auto& f = *c.mutable_fields();
          f["Name"].set_text(name);
          f["Amount__c"].set_number(StrCat(ms % 1000000, ".", ms % 100));
          f["Stage__c"].set_text(ms % 2 ? "Open" : "Closed Won");
          f["Due__c"].set_date_days(static_cast<int32_t>(19000 + ms % 1000));
          f["IsActive__c"].set_boolean(ms % 3 == 0);
        }
        auto [it, inserted] = newest.try_emplace(id, ms, deleted);
        if (!inserted && (ms > it->second.first || (ms == it->second.first && deleted))) {
          it->second = {ms, deleted};
        }
        if (it->second.first == ms && !deleted) newest_name[id] = name;
        stream.push_back({id, c.SerializeAsString()});
      }
    }
    std::shuffle(stream.begin(), stream.end(), random);
    ProduceAll(control::RecordsTopic(org_id_), stream);
    produced += static_cast<int64_t>(stream.size());
  };
  int rounds = 0;
  produce_round(rounds++);
  produce_round(rounds++);

  std::map<std::string, std::string> env =
      testing_support::WriterEnv(db_.url(), org_id_, /*metrics_port=*/0);
  env["SFBRIDGE_WRITER_BATCH_SIZE"] = "1000";
  // The broker's shortest allowed session: a killed member's partitions move on after 6 s.
  env["SFBRIDGE_KAFKA_SESSION_TIMEOUT"] = "6s";
  std::uniform_int_distribution<int> kill_after_ms(1000, 3000);
  int kills = 0;
  std::vector<std::string> log;
  const auto started = SteadyClock::now();
  while (true) {
    const int64_t at_start = StoredOffsetSum();
    const int64_t ends = Sum(EndOffsets(control::RecordsTopic(org_id_), kPartitions));
    auto child = testing::ChildProcess::Start({SFBRIDGE_WRITER}, env);
    ASSERT_NE(child, nullptr);
    if (kills >= kMinKills) {
      // The last run: let it finish, then stop it cleanly.
      ASSERT_TRUE(testing::WaitUntil([&] { return StoredOffsetSum() == ends; }, seconds(300)))
          << child->Output();
      child->Signal(SIGTERM);
      auto code = child->Wait(seconds(60));
      ASSERT_TRUE(code.has_value());
      EXPECT_EQ(*code, 0) << child->Output();
      log.push_back(StrCat("final run applied up to ", ends));
      break;
    }
    // Killed 1-3 s after it has committed its first batch, while a backlog is left.
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return StoredOffsetSum() > at_start || !child->GroupAlive(); }, seconds(120)));
    ASSERT_TRUE(child->GroupAlive()) << child->Output();
    ASSERT_GT(StoredOffsetSum(), at_start) << "no progress after a restart\n" << child->Output();
    std::this_thread::sleep_for(milliseconds(kill_after_ms(random)));
    const int64_t before_kill = StoredOffsetSum();
    if (before_kill >= ends) {
      // Caught up before the kill: more backfill arrives, and this run goes on.
      child->Signal(SIGTERM);
      ASSERT_TRUE(child->Wait(seconds(60)).has_value());
      produce_round(rounds++);
      continue;
    }
    child->Signal(SIGKILL);
    auto code = child->Wait(seconds(30));
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 128 + SIGKILL);
    ++kills;
    log.push_back(
        StrCat("kill ", kills, ": offsets ", at_start, " -> ", before_kill, " of ", ends));
  }
  const double total_seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  for (const std::string& line : log) std::printf("[ kill -9 ] %s\n", line.c_str());
  std::printf("[ kill -9 ] %d kills, %lld messages in %d rounds, %.1f s\n", kills,
              static_cast<long long>(produced), rounds, total_seconds);
  EXPECT_GE(kills, kMinKills);
  EXPECT_GE(produced, 100'000);

  // Exactly the newest versions: rows for the records whose newest version is an update (with
  // that version's values), tombstones at the newest deletion for the others.
  std::map<std::string, int64_t> expected_rows, expected_deleted;
  for (const auto& [id, v] : newest) (v.second ? expected_deleted : expected_rows)[id] = v.first;
  auto rows = conn_->Exec("SELECT id, _modstamp_ms, name FROM salesforce.crash__c");
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::map<std::string, int64_t> stored;
  int wrong_values = 0;
  for (const auto& row : rows->rows) {
    stored[*row[0]] = std::stoll(*row[1]);
    if (row[2].value_or("") != newest_name[*row[0]]) ++wrong_values;
  }
  EXPECT_EQ(Differences(expected_rows, stored), "");
  EXPECT_EQ(wrong_values, 0);
  auto tombs = conn_->Exec(
      "SELECT id, modstamp_ms FROM salesforce._tombstones WHERE object = $1 AND id NOT IN "
      "(SELECT id FROM salesforce.crash__c)",
      {kObject});
  ASSERT_TRUE(tombs.ok()) << tombs.status();
  std::map<std::string, int64_t> deleted;
  for (const auto& row : tombs->rows) deleted[*row[0]] = std::stoll(*row[1]);
  EXPECT_EQ(Differences(expected_deleted, deleted), "");

  auto regressions = conn_->Exec(
      "SELECT count(*), min(op || ' ' || id || ' ' || old_ms || ' -> ' || "
      "coalesce(new_ms::text, '')) FROM public.regressions");
  ASSERT_TRUE(regressions.ok()) << regressions.status();
  EXPECT_EQ(*regressions->rows[0][0], "0") << regressions->rows[0][1].value_or("");
  auto letters = conn_->Exec("SELECT count(*) FROM sfbridge.dead_letters");
  ASSERT_TRUE(letters.ok());
  EXPECT_EQ(*letters->rows[0][0], "0");
}

// The audit triggers catch what they are there to catch: an older version written over a newer
// one, and a row brought back below its tombstone.
TEST_F(WriterCrashTest, TheAuditCatchesAStepBack) {
  v1::ObjectSchema schema;
  schema.set_org_id(org_id_);
  schema.set_name(kObject);
  auto* id = schema.add_fields();
  id->set_name("Id");
  id->set_type("id");
  ASSERT_TRUE(EnsureTable(*conn_, "salesforce", schema).ok());
  ASSERT_TRUE(conn_->Exec(kAuditSql).ok());
  ASSERT_TRUE(conn_
                  ->Exec("INSERT INTO salesforce.crash__c (id, _modstamp_ms) VALUES ('a', 20); "
                         "UPDATE salesforce.crash__c SET _modstamp_ms = 30; "
                         "UPDATE salesforce.crash__c SET _modstamp_ms = 10; "
                         "INSERT INTO salesforce._tombstones (object, id, modstamp_ms) "
                         "VALUES ('Crash__c', 'b', 50); "
                         "INSERT INTO salesforce.crash__c (id, _modstamp_ms) VALUES ('b', 40); "
                         "INSERT INTO salesforce.crash__c (id, _modstamp_ms) VALUES ('c', 70); "
                         "DELETE FROM salesforce.crash__c WHERE id = 'c'")
                  .ok());
  auto r = conn_->Exec("SELECT op, id FROM public.regressions ORDER BY op");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(*r->rows[0][0] + " " + *r->rows[0][1], "delete c");
  EXPECT_EQ(*r->rows[1][0] + " " + *r->rows[1][1], "resurrect b");
  EXPECT_EQ(*r->rows[2][0] + " " + *r->rows[2][1], "update a");
}

}  // namespace
}  // namespace sfbridge::writer
