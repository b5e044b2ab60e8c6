// The guarded apply path against a real PostgreSQL: exact values, versions that only move
// forward (shuffled, duplicated, deleted, partial), offsets in the same transaction, parking,
// dead letters. Every case runs twice: through the plain statements a few changes take
// ("Direct") and through COPY and staging ("Staged", as a large batch would).
// Over 500 lines: fourteen cases, each run through both apply paths, on one database fixture.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "common/core/status.h"
#include "tests/integration/writer/writer_test_db.h"
#include "writer/applier.h"
#include "writer/dead_letters.h"
#include "writer/offsets.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {
namespace {

using ::testing::HasSubstr;
using Row = std::vector<std::string>;

// An Opportunity table and versions of it whose values all derive from the version.
class OpportunityTest : public WriterTest {
 protected:
  void SetUp() override {
    WriterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(EnsureOpportunity().ok());
  }
  // (Re)creates the Opportunity table with its four fields and, when given, a fifth.
  absl::Status EnsureOpportunity(const std::string& fifth = "", const std::string& type = "") {
    std::vector<std::pair<std::string, std::string>> fields = {{"Name", "string"},
                                                               {"Amount", "currency"},
                                                               {"StageName", "picklist"},
                                                               {"IsWon", "boolean"}};
    if (!fifth.empty()) fields.emplace_back(fifth, type);
    return EnsureTable(*conn_, kSchema, MakeSchema("Opportunity", fields));
  }
  virtual ApplierOptions Options() { return {}; }
  // One applier per test, as a writer process has one: it remembers layouts between calls.
  Applier& applier() {
    if (applier_ == nullptr) applier_ = std::make_unique<Applier>(Options());
    return *applier_;
  }
  std::unique_ptr<Applier> applier_;
  ApplyStats Apply(const std::vector<v1::RecordChange>& changes,
                   const std::vector<OffsetUpdate>& offsets = {}) {
    auto r = applier().ApplyBatch(*conn_, kSchema, changes, offsets);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : ApplyStats{};
  }
  // A version of opportunity `id` whose values all derive from `v`.
  static v1::RecordChange Version(const std::string& id, int64_t v) {
    return Change("Opportunity", id, v,
                  {{"Name", Text(id + " v" + std::to_string(v))},
                   {"Amount", Number(std::to_string(v) + ".25")},
                   {"StageName", Text("Stage " + std::to_string(v))},
                   {"IsWon", Bool(v % 2 == 0)}});
  }
  std::vector<Row> Opportunities() {
    return Rows(
        "SELECT id, name, amount::text, stage_name, is_won::text, _modstamp_ms::text "
        "FROM salesforce.opportunity ORDER BY id");
  }
  static Row Expected(const std::string& id, int64_t v) {
    return {id,
            id + " v" + std::to_string(v),
            std::to_string(v) + ".25",
            "Stage " + std::to_string(v),
            v % 2 == 0 ? "true" : "false",
            std::to_string(v)};
  }
};

class ApplyTest : public OpportunityTest, public ::testing::WithParamInterface<size_t> {
 protected:
  ApplierOptions Options() override { return ApplierOptions{.few_changes = GetParam()}; }
};

TEST_P(ApplyTest, EveryTypeIsWrittenExactly) {
  ASSERT_TRUE(EnsureTable(*conn_, kSchema,
                          MakeSchema("Exact__c", {{"Price__c", "currency"},
                                                  {"Ratio__c", "percent"},
                                                  {"Pi__c", "double"},
                                                  {"Small__c", "int"},
                                                  {"Big__c", "long"},
                                                  {"At__c", "datetime"},
                                                  {"On__c", "date"},
                                                  {"Opens__c", "time"},
                                                  {"Flag__c", "boolean"},
                                                  {"Note__c", "textarea"},
                                                  {"Tags__c", "multipicklist"}}))
                  .ok());
  const std::string awkward = "tab\there\nnewline\r\\N back\\slash ünïcødé ✓ \"quoted\" 'single'";
  auto stats = Apply({Change("Exact__c", "a00A", 1700000000000,
                             {{"Price__c", Number("12345678901234567.89")},
                              {"Ratio__c", Number("-0.0001")},
                              {"Pi__c", Number("3.14159265358979323846264338327950288")},
                              {"Small__c", Number("-2147483648")},
                              {"Big__c", Number("9223372036854775807")},
                              {"At__c", Datetime(1705314030123)},
                              {"On__c", Date(19737)},
                              {"Opens__c", Time(45296789)},
                              {"Flag__c", Bool(true)},
                              {"Note__c", Text(awkward)},
                              {"Tags__c", Multi("Red;Green;Blue")}}),
                      Change("Exact__c", "a00B", 1700000000000,
                             {{"Price__c", Null()},
                              {"Ratio__c", Number("0")},
                              {"Small__c", Number("+7")},
                              {"At__c", Datetime(-1)},
                              {"On__c", Date(-719162)},
                              {"Opens__c", Time(0)},
                              {"Flag__c", Bool(false)},
                              {"Note__c", Text("")},
                              {"Tags__c", Null()}})});
  EXPECT_TRUE(stats.parked.empty()) << stats.outcomes[stats.parked[0]].reason;
  EXPECT_EQ(stats.objects["Exact__c"].applied, 2);
  auto rows = Rows(
      "SELECT id, price__c::text, ratio__c::text, pi__c::text, small__c::text, big__c::text, "
      "to_char(at__c AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), on__c::text, "
      "opens__c::text, flag__c::text, note__c, tags__c, _modstamp_ms::text "
      "FROM salesforce.exact__c ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0],
            (Row{"a00A", "12345678901234567.89", "-0.0001", "3.14159265358979323846264338327950288",
                 "-2147483648", "9223372036854775807", "2024-01-15 10:20:30.123", "2024-01-15",
                 "12:34:56.789", "true", awkward, "Red;Green;Blue", "1700000000000"}));
  EXPECT_EQ(rows[1], (Row{"a00B", "<null>", "0", "<null>", "7", "<null>", "1969-12-31 23:59:59.999",
                          "0001-01-01", "00:00:00", "false", "", "<null>", "1700000000000"}));
  // The instant itself, independent of any session time zone.
  EXPECT_EQ(Scalar("SELECT (extract(epoch FROM at__c) * 1000)::bigint::text FROM "
                   "salesforce.exact__c WHERE id = 'a00A'"),
            "1705314030123");
}

TEST_P(ApplyTest, ShuffledAndDuplicatedVersionsEndAsTheNewest) {
  std::vector<v1::RecordChange> all;
  for (const std::string id : {"006A", "006B", "006C"}) {
    for (int64_t v = 1; v <= 12; ++v) {
      all.push_back(Version(id, v * 1000));
      if (v % 3 == 0) all.push_back(Version(id, v * 1000));  // delivered twice
    }
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 3; ++round) {
    std::shuffle(all.begin(), all.end(), rng);
    // In batches of uneven sizes, so versions race both within and across batches.
    for (size_t begin = 0; begin < all.size();) {
      size_t end = std::min(all.size(), begin + 1 + rng() % 9);
      auto stats = Apply(std::vector<v1::RecordChange>(all.begin() + begin, all.begin() + end));
      for (size_t i = 0; i < stats.outcomes.size(); ++i) {
        const auto& o = stats.outcomes[i];
        ASSERT_NE(o.outcome, Outcome::kParked) << o.reason;
        EXPECT_GE(o.stored_modstamp_ms, all[begin + i].system_modstamp_ms());
        if (o.outcome == Outcome::kApplied) {
          EXPECT_EQ(o.stored_modstamp_ms, all[begin + i].system_modstamp_ms());
        }
      }
      begin = end;
    }
    EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006A", 12000), Expected("006B", 12000),
                                                 Expected("006C", 12000)}));
  }
}

TEST_P(ApplyTest, OnlyTheNewestVersionInABatchCounts) {
  Apply({Version("006A", 5)});
  auto stats = Apply({Version("006A", 7), Version("006A", 9), Version("006A", 3),
                      Version("006A", 9), Version("006B", 2)});
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006A", 9), Expected("006B", 2)}));
  const auto& o = stats.outcomes;
  EXPECT_EQ(o[0].outcome, Outcome::kStale);
  EXPECT_EQ(o[1].outcome, Outcome::kStale) << "the later of two equal versions wins";
  EXPECT_EQ(o[2].outcome, Outcome::kStale);
  EXPECT_EQ(o[3].outcome, Outcome::kApplied);
  EXPECT_EQ(o[4].outcome, Outcome::kApplied);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(o[i].stored_modstamp_ms, 9) << i;
  EXPECT_EQ(stats.objects["Opportunity"].applied, 2);
  EXPECT_EQ(stats.objects["Opportunity"].stale, 3);
  // An older version later is stale and reports what is stored.
  stats = Apply({Version("006A", 8)});
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kStale);
  EXPECT_EQ(stats.outcomes[0].stored_modstamp_ms, 9);
  // The same version again is applied (it rewrites the same values): replays are harmless.
  stats = Apply({Version("006A", 9)});
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kApplied);
  EXPECT_EQ(Opportunities()[0], Expected("006A", 9));
}

TEST_P(ApplyTest, ADeleteFollowedByALateOlderUpdateStaysDeleted) {
  Apply({Version("006A", 20), Version("006B", 20)});
  auto stats = Apply({Deletion("Opportunity", "006A", 30)});
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kApplied);
  EXPECT_EQ(stats.objects["Opportunity"].deleted, 1);
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006B", 20)}));
  // Late, older versions; and one with the tombstone's own modstamp (a delete wins ties).
  stats = Apply({Version("006A", 25), Version("006A", 10), Version("006A", 30)});
  for (const auto& o : stats.outcomes) {
    EXPECT_EQ(o.outcome, Outcome::kStale);
    EXPECT_EQ(o.stored_modstamp_ms, 30);
  }
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006B", 20)}));
  EXPECT_EQ(Scalar("SELECT modstamp_ms::text FROM salesforce._tombstones WHERE object = "
                   "'Opportunity' AND id = '006A'"),
            "30");
  // An older deletion does not move the tombstone back; a duplicate one is harmless.
  Apply({Deletion("Opportunity", "006A", 15), Deletion("Opportunity", "006A", 30)});
  EXPECT_EQ(Scalar("SELECT modstamp_ms::text FROM salesforce._tombstones WHERE id = '006A'"), "30");
  // Undeleted in Salesforce: a newer SystemModstamp brings it back.
  stats = Apply({Version("006A", 40)});
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kApplied);
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006A", 40), Expected("006B", 20)}));
}

TEST_P(ApplyTest, DeletionsRaceUpdatesInOneBatch) {
  Apply({Version("006A", 10), Version("006B", 10), Version("006C", 10)});
  auto stats = Apply({
      Version("006A", 20), Deletion("Opportunity", "006A", 20),  // tie: the deletion wins
      Deletion("Opportunity", "006B", 5),                        // older than the row: stale
      Deletion("Opportunity", "006C", 15), Version("006C", 16),  // newer update wins
      Deletion("Opportunity", "006D", 3),                        // never seen: a tombstone
  });
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006B", 10), Expected("006C", 16)}));
  const auto& o = stats.outcomes;
  EXPECT_EQ(o[0].outcome, Outcome::kStale);
  EXPECT_EQ(o[1].outcome, Outcome::kApplied);
  EXPECT_EQ(o[2].outcome, Outcome::kStale);
  EXPECT_EQ(o[2].stored_modstamp_ms, 10);
  EXPECT_EQ(o[3].outcome, Outcome::kStale);
  EXPECT_EQ(o[3].stored_modstamp_ms, 16);
  EXPECT_EQ(o[4].outcome, Outcome::kApplied);
  EXPECT_EQ(o[5].outcome, Outcome::kApplied);
  EXPECT_EQ(stats.objects["Opportunity"].deleted, 2);
  EXPECT_EQ(stats.objects["Opportunity"].applied, 1);
  EXPECT_EQ(stats.objects["Opportunity"].stale, 3);
  Apply({Version("006D", 2)});
  EXPECT_EQ(Opportunities().size(), 2u) << "the tombstone holds back the older version";
}

TEST_P(ApplyTest, APartialChangeLeavesOtherColumnsUntouched) {
  Apply({Version("006A", 10), Version("006B", 10)});
  auto stats = Apply({
      Change("Opportunity", "006A", 11, {{"Amount", Number("99.99")}}),
      Change("Opportunity", "006B", 11, {{"StageName", Null()}, {"IsWon", Bool(true)}}),
      Change("Opportunity", "006C", 11, {{"Name", Text("only a name")}}),
      Change("Opportunity", "006D", 11),  // no fields at all
  });
  EXPECT_TRUE(stats.parked.empty());
  EXPECT_EQ(stats.objects["Opportunity"].applied, 4);
  EXPECT_EQ(Opportunities(),
            (std::vector<Row>{{"006A", "006A v10", "99.99", "Stage 10", "true", "11"},
                              {"006B", "006B v10", "10.25", "<null>", "true", "11"},
                              {"006C", "only a name", "<null>", "<null>", "<null>", "11"},
                              {"006D", "<null>", "<null>", "<null>", "<null>", "11"}}));
  // A stale partial change touches nothing either.
  Apply({Change("Opportunity", "006A", 5, {{"Name", Text("old")}})});
  EXPECT_EQ(Opportunities()[0][1], "006A v10");
}

TEST_P(ApplyTest, OffsetsAreStoredWithTheRowsOrNotAtAll) {
  std::vector<OffsetUpdate> offsets = {{"writers", "sfbridge.org.records", 0, 100},
                                       {"writers", "sfbridge.org.records", 3, 7},
                                       {"writers", "sfbridge.org.records", 0, 120}};
  Apply({Version("006A", 1)}, offsets);
  auto loaded = LoadOffsets(*conn_, "writers", "sfbridge.org.records");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, (std::map<int32_t, int64_t>{{0, 120}, {3, 7}}));
  EXPECT_TRUE(LoadOffsets(*conn_, "others", "sfbridge.org.records")->empty());

  // A batch that fails in the database: neither its rows nor its offsets are stored.
  ASSERT_TRUE(conn_->Exec("ALTER TABLE salesforce.opportunity ADD CHECK (amount < 1000)").ok());
  auto failed = applier().ApplyBatch(
      *conn_, kSchema, {Version("006B", 1), Version("006C", 5000), Version("006A", 2)},
      {{"writers", "sfbridge.org.records", 0, 200}});
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("23514"));
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006A", 1)}));
  EXPECT_EQ(LoadOffsets(*conn_, "writers", "sfbridge.org.records")->at(0), 120);
  // The connection is fine afterwards and a good batch goes through.
  Apply({Version("006B", 1)}, {{"writers", "sfbridge.org.records", 0, 201}});
  EXPECT_EQ(LoadOffsets(*conn_, "writers", "sfbridge.org.records")->at(0), 201);
  // A deliberate rewind is stored as given.
  Apply({}, {{"writers", "sfbridge.org.records", 0, 50}});
  EXPECT_EQ(LoadOffsets(*conn_, "writers", "sfbridge.org.records")->at(0), 50);
}

TEST_P(ApplyTest, UnknownObjectsFieldsAndMisfitValuesAreParkedOthersApplied) {
  v1::RecordChange no_kind = Version("006E", 1);
  (*no_kind.mutable_fields())["Name"] = v1::FieldValue();
  std::vector<v1::RecordChange> batch = {
      Version("006A", 1),
      Change("Nope__c", "a09A", 1, {{"X", Text("x")}}),
      Change("Opportunity", "006B", 1, {{"Name", Text("b")}, {"Color__c", Text("red")}}),
      Change("Opportunity", "006C", 1, {{"Amount", Text("twelve")}}),
      Change("Opportunity", "006D", 1, {{"Amount", Number("1,5")}}),
      no_kind,
      Change("Opportunity", "", 1, {{"Name", Text("no id")}}),
      Change("Opportunity", "006F", 0, {{"Name", Text("no modstamp")}}),
      Change("Opportunity", "006G", 1, {{"Name", Text(std::string("nul\0here", 8))}}),
      Version("006H", 1),
  };
  auto stats = Apply(batch);
  EXPECT_EQ(stats.parked, (std::vector<size_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kApplied);
  EXPECT_EQ(stats.outcomes[9].outcome, Outcome::kApplied);
  EXPECT_THAT(stats.outcomes[1].reason, HasSubstr("unknown object Nope__c"));
  EXPECT_THAT(stats.outcomes[2].reason, HasSubstr("unknown field Color__c"));
  EXPECT_THAT(stats.outcomes[3].reason, HasSubstr("Amount"));
  EXPECT_THAT(stats.outcomes[3].reason, HasSubstr("text value does not fit a numeric column"));
  EXPECT_THAT(stats.outcomes[4].reason, HasSubstr("number is not valid"));
  EXPECT_THAT(stats.outcomes[5].reason, HasSubstr("no kind"));
  EXPECT_THAT(stats.outcomes[6].reason, HasSubstr("record_id"));
  EXPECT_THAT(stats.outcomes[7].reason, HasSubstr("SystemModstamp"));
  EXPECT_THAT(stats.outcomes[8].reason, HasSubstr("NUL"));
  EXPECT_EQ(stats.objects["Opportunity"].applied, 2);
  EXPECT_EQ(stats.objects["Opportunity"].parked, 7);
  EXPECT_EQ(stats.objects["Nope__c"].parked, 1);
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006A", 1), Expected("006H", 1)}));

  // The caller keeps them as dead letters, in the transaction of its offsets; replays do not
  // duplicate them.
  std::vector<DeadLetter> letters;
  for (size_t i : stats.parked) {
    letters.push_back(DeadLetter{"sfbridge.org.records", 2, static_cast<int64_t>(40 + i),
                                 stats.outcomes[i].reason, batch[i].SerializeAsString()});
  }
  for (int replay = 0; replay < 2; ++replay) {
    absl::Status s = conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
      if (absl::Status p = ParkMessages(tx, letters); !p.ok()) return p;
      return StoreOffsets(tx, {{"writers", "sfbridge.org.records", 2, 50}});
    });
    ASSERT_TRUE(s.ok()) << s;
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM sfbridge.dead_letters"), "8");
  std::string payload =
      Scalar("SELECT encode(payload, 'hex') FROM sfbridge.dead_letters WHERE \"offset\" = 48");
  v1::RecordChange back;
  std::string bytes;
  for (size_t i = 0; i + 1 < payload.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(payload.substr(i, 2), nullptr, 16)));
  }
  ASSERT_TRUE(back.ParseFromString(bytes));
  EXPECT_EQ(back.fields().at("Name").text(), std::string("nul\0here", 8));
  EXPECT_THAT(Scalar("SELECT reason FROM sfbridge.dead_letters WHERE \"offset\" = 41"),
              HasSubstr("Nope__c"));
}

TEST_P(ApplyTest, SeveralObjectsInOneBatchAndTwiceInOneTransaction) {
  ASSERT_TRUE(EnsureTable(*conn_, kSchema, MakeSchema("Account", {{"Name", "string"}})).ok());
  absl::Status s = conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
    auto first = applier().ApplyChanges(
        tx, kSchema,
        {Version("006A", 1), Change("Account", "001A", 1, {{"Name", Text("Acme")}}),
         Version("006B", 1)});
    if (!first.ok()) return first.status();
    EXPECT_EQ(first->objects["Opportunity"].applied, 2);
    EXPECT_EQ(first->objects["Account"].applied, 1);
    // The same staging tables again in the same transaction start empty.
    auto second = applier().ApplyChanges(tx, kSchema, {Version("006C", 1)});
    if (!second.ok()) return second.status();
    EXPECT_EQ(second->objects["Opportunity"].applied, 1);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Opportunities().size(), 3u);
  EXPECT_EQ(Scalar("SELECT name FROM salesforce.account"), "Acme");
}

TEST_P(ApplyTest, ACachedLayoutFollowsEveryChangeEnsureTableMakes) {
  Apply({Version("006A", 1)});
  // A new field: the next call sees its column without being told.
  ASSERT_TRUE(EnsureOpportunity("Probability", "percent").ok());
  auto stats = Apply({Change("Opportunity", "006A", 2, {{"Probability", Number("37.5")}})});
  ASSERT_TRUE(stats.parked.empty()) << stats.outcomes[0].reason;
  EXPECT_EQ(Scalar("SELECT probability::text FROM salesforce.opportunity"), "37.5");
  // A changed type (int -> text, say, when Salesforce widens a field): values now go as text.
  ASSERT_TRUE(EnsureOpportunity("Probability", "string").ok());
  stats = Apply({Change("Opportunity", "006A", 3, {{"Probability", Text("high")}})});
  ASSERT_TRUE(stats.parked.empty()) << stats.outcomes[0].reason;
  EXPECT_EQ(Scalar("SELECT probability FROM salesforce.opportunity"), "high");
}

TEST_P(ApplyTest, AColumnDroppedByHandFailsOneCallThenTheLayoutIsReadAfresh) {
  Apply({Version("006A", 1)});
  ASSERT_TRUE(conn_->Exec("ALTER TABLE salesforce.opportunity DROP COLUMN is_won").ok());
  // The cached layout still names the column: the call fails and nothing is written ...
  auto failed = applier().ApplyBatch(*conn_, kSchema, {Version("006A", 2)}, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("is_won"));
  EXPECT_EQ(Scalar("SELECT _modstamp_ms::text FROM salesforce.opportunity"), "1");
  // ... and the retry reads the layout again: the field has no column now, so it is parked.
  auto retried = applier().ApplyBatch(*conn_, kSchema, {Version("006A", 2)}, {});
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_THAT(retried->outcomes[0].reason, HasSubstr("unknown field IsWon"));
}

// ApplyInOneRoundTrip: the same outcomes as ApplyChanges, and a clean refusal (nullopt, nothing
// written) whenever it does not qualify.
class OneRoundTripTest : public OpportunityTest {
 protected:
  std::optional<ApplyStats> Quick(const std::vector<v1::RecordChange>& changes) {
    return applier().ApplyInOneRoundTrip(*conn_, kSchema, changes);
  }
  void Reset() {
    ASSERT_TRUE(conn_->Exec("TRUNCATE salesforce.opportunity, salesforce._tombstones").ok());
  }
};

TEST_F(OneRoundTripTest, GivesTheOutcomesAndRowsOfTheTransactionalPath) {
  // Random calls of 1-4 changes (versions of one field set, or deletions) over a few records,
  // run once in one round trip and once through ApplyChanges: same outcomes, same table.
  std::mt19937 rng(7);
  std::vector<std::vector<v1::RecordChange>> calls;
  for (int i = 0; i < 120; ++i) {
    std::vector<v1::RecordChange> call;
    const bool deletions = rng() % 4 == 0;
    for (size_t n = 1 + rng() % 4; n > 0; --n) {
      const std::string id = "006" + std::string(1, static_cast<char>('A' + rng() % 5));
      const int64_t v = 1 + static_cast<int64_t>(rng() % 40);
      call.push_back(deletions ? Deletion("Opportunity", id, v) : Version(id, v));
    }
    calls.push_back(std::move(call));
  }
  auto run = [&](bool quick) {
    std::vector<std::vector<std::pair<int, int64_t>>> outcomes;
    int quick_calls = 0;
    for (const auto& call : calls) {
      std::optional<ApplyStats> stats;
      if (quick) stats = Quick(call);
      if (stats) {
        ++quick_calls;
      } else {
        stats = Apply(call);  // also fills the cache
      }
      std::vector<std::pair<int, int64_t>> o;
      for (const RecordOutcome& r : stats->outcomes) {
        o.emplace_back(static_cast<int>(r.outcome), r.stored_modstamp_ms);
      }
      outcomes.push_back(std::move(o));
    }
    return std::make_tuple(outcomes, Opportunities(),
                           Rows("SELECT id, modstamp_ms::text FROM salesforce._tombstones "
                                "ORDER BY id"),
                           quick_calls);
  };
  auto [quick_outcomes, quick_rows, quick_tombs, quick_calls] = run(true);
  EXPECT_GE(quick_calls, 110) << "all but the first call (which fills the cache) qualify";
  Reset();
  auto [outcomes, rows, tombs, none] = run(false);
  EXPECT_EQ(quick_outcomes, outcomes);
  EXPECT_EQ(quick_rows, rows);
  EXPECT_EQ(quick_tombs, tombs);
  EXPECT_FALSE(rows.empty());
  EXPECT_FALSE(tombs.empty());
}

TEST_F(OneRoundTripTest, DeclinesWhatItCannotDoAndWritesNothing) {
  EXPECT_FALSE(Quick({Version("006A", 1)})) << "no cached layout yet";
  Apply({Version("006A", 1)});
  const auto before = Opportunities();
  EXPECT_FALSE(Quick({Version("006B", 2), Deletion("Opportunity", "006A", 2)}))
      << "deletions mixed with versions";
  EXPECT_FALSE(Quick({Version("006B", 2), Change("Opportunity", "006C", 2, {{"Name", Text("c")}})}))
      << "two field sets";
  EXPECT_FALSE(Quick({Change("Opportunity", "006B", 2, {{"Color__c", Text("red")}})}))
      << "a change to park";
  ASSERT_TRUE(EnsureTable(*conn_, kSchema, MakeSchema("Account", {{"Name", "string"}})).ok());
  EXPECT_FALSE(Quick({Version("006B", 2), Change("Account", "001A", 2, {{"Name", Text("a")}})}))
      << "two objects";
  std::vector<v1::RecordChange> many;
  for (int i = 0; i < 40; ++i) many.push_back(Version("006M" + std::to_string(i), 2));
  EXPECT_FALSE(Quick(many)) << "more than few_changes";
  EXPECT_EQ(Opportunities(), before);
  // It does qualify otherwise.
  auto stats = Quick({Version("006B", 2)});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->outcomes[0].outcome, Outcome::kApplied);
}

TEST_F(OneRoundTripTest, AStaleCachedLayoutIsNoticedUnderTheLockAndNothingIsWritten) {
  Apply({Version("006A", 1)});
  ASSERT_TRUE(Quick({Version("006A", 2)}));
  // EnsureTable changes the layout (a new column): the cached version no longer matches.
  ASSERT_TRUE(EnsureOpportunity("Probability", "percent").ok());
  EXPECT_FALSE(Quick({Version("006A", 3)}));
  EXPECT_EQ(Opportunities(), (std::vector<Row>{Expected("006A", 2)}));
  // The entry was forgotten: the next call goes the long way, which refills it.
  EXPECT_FALSE(Quick({Version("006A", 3)}));
  Apply({Change("Opportunity", "006A", 3, {{"Probability", Number("12.5")}})});
  auto stats = Quick({Change("Opportunity", "006A", 4, {{"Probability", Number("50")}})});
  ASSERT_TRUE(stats);
  EXPECT_EQ(Scalar("SELECT probability::text FROM salesforce.opportunity"), "50");
}

INSTANTIATE_TEST_SUITE_P(Paths, ApplyTest, ::testing::Values(ApplierOptions().few_changes, 0),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(info.param == 0 ? "Staged" : "Direct");
                         });

}  // namespace
}  // namespace sfbridge::writer
