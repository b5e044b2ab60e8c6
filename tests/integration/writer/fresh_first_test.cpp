// Fresh-first (applier.h, step 4): batches of records new to the table are streamed straight into
// it under a savepoint, without probing. Against a real PostgreSQL: the outcome is exactly the
// probed path's whichever path a batch takes, a stored record the guess missed falls back to the
// probe, tombstones and deletions keep the probe, and a failure rolls the whole batch back.
//
// Which path a batch took shows in its rows' xmin: fresh-first writes them in a subtransaction,
// the probed path in the batch's own transaction, like its stored offsets.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "common/core/strings.h"
#include "tests/integration/writer/writer_test_db.h"
#include "writer/applier.h"
#include "writer/offsets.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;
using ::testing::HasSubstr;
using Row = std::vector<std::string>;

constexpr const char* kGroup = "fresh-first";
constexpr const char* kTopic = "sfbridge.test.records";

class FreshFirstTest : public WriterTest {
 protected:
  // Each test its own object and applier: the probe-first hint is per table and applier.
  void SetUp() override {
    WriterTest::SetUp();
    if (HasFatalFailure()) return;
    object_ =
        StrCat("Fresh", ::testing::UnitTest::GetInstance()->current_test_info()->name(), "__c");
    absl::Status s = EnsureTable(
        *conn_, kSchema, MakeSchema(object_, {{"Name", "string"}, {"Amount__c", "currency"}}));
    ASSERT_TRUE(s.ok()) << s;
    table_ = Scalar(
        "SELECT table_name FROM sfbridge.synced_tables WHERE org_id = $1 AND object_name = $2",
        {kOrg, object_});
  }

  v1::RecordChange Version(const std::string& id, int64_t v) const {
    return Change(object_, id, v,
                  {{"Name", Text(StrCat(id, " v", v))}, {"Amount__c", Number(StrCat(v, ".5"))}});
  }
  static Row Expected(const std::string& id, int64_t v) {
    return {id, StrCat(id, " v", v), StrCat(v, ".5"), std::to_string(v)};
  }
  static std::string Id(int n) {
    std::string digits = std::to_string(n);
    return "a0B" + std::string(6 - digits.size(), '0') + digits;
  }

  // Applies `changes` with an offset stored in the same transaction, as a large batch whatever
  // its size (few_changes 0: a call of a few changes is written with plain statements and never
  // takes fresh-first).
  ApplyStats Apply(const std::vector<v1::RecordChange>& changes) {
    auto r = applier_.ApplyBatch(*conn_, kSchema, changes, {{kGroup, kTopic, 0, ++offset_}});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : ApplyStats{};
  }

  std::vector<Row> Stored() {
    return Rows(StrCat("SELECT id, name, amount__c::text, _modstamp_ms::text FROM salesforce.",
                       table_, " ORDER BY id"));
  }

  // "fresh-first" when the row was written in a subtransaction of the batch that stored the
  // latest offset, "probed" when in the batch's own transaction.
  std::string PathOf(const std::string& id) {
    const std::string row_xmin =
        Scalar(StrCat("SELECT xmin::text FROM salesforce.", table_, " WHERE id = $1"), {id});
    const std::string offsets_xmin = Scalar(
        "SELECT xmin::text FROM sfbridge.consumer_offsets WHERE consumer_group = $1", {kGroup});
    return row_xmin == offsets_xmin ? "probed" : "fresh-first";
  }

  Applier applier_{{.few_changes = 0, .cache_layouts = false}};
  std::string object_, table_;
  int64_t offset_ = 0;
};

TEST_F(FreshFirstTest, ABackfillIsStreamedStraightIn) {
  std::vector<v1::RecordChange> changes;
  std::vector<Row> expected;
  for (int i = 0; i < 1234; ++i) {  // several chunks
    changes.push_back(Version(Id(i), 1000 + i));
    expected.push_back(Expected(Id(i), 1000 + i));
  }
  std::shuffle(changes.begin(), changes.end(), std::mt19937(1));
  ApplyStats stats = Apply(changes);
  EXPECT_EQ(Stored(), expected);
  EXPECT_EQ(stats.objects[object_].applied, 1234);
  ASSERT_EQ(stats.outcomes.size(), changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(stats.outcomes[i].outcome, Outcome::kApplied);
    EXPECT_EQ(stats.outcomes[i].stored_modstamp_ms, changes[i].system_modstamp_ms());
  }
  EXPECT_EQ(PathOf(Id(0)), "fresh-first");
  EXPECT_EQ(PathOf(Id(1233)), "fresh-first");
}

TEST_F(FreshFirstTest, AStoredRecordTheSampleMissesFallsBackToTheProbe) {
  // Stored: a record that sorts second in the next batch (the sample takes the first, then
  // every n/16th), at version 5, and another at version 9.
  const std::string second = Id(0) + "x", later = Id(0) + "y";
  Apply({Version(second, 5), Version(later, 9)});
  std::vector<v1::RecordChange> changes = {Version(second, 6), Version(later, 8)};
  for (int i = 0; i < 1000; ++i) changes.push_back(Version(Id(i), 100));
  ApplyStats stats = Apply(changes);

  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kApplied);
  EXPECT_EQ(stats.outcomes[0].stored_modstamp_ms, 6);
  EXPECT_EQ(stats.outcomes[1].outcome, Outcome::kStale);
  EXPECT_EQ(stats.outcomes[1].stored_modstamp_ms, 9);
  for (size_t i = 2; i < changes.size(); ++i) {
    EXPECT_EQ(stats.outcomes[i].outcome, Outcome::kApplied);
  }
  EXPECT_EQ(stats.objects[object_].applied, 1001);
  EXPECT_EQ(stats.objects[object_].stale, 1);
  std::vector<Row> stored = Stored();
  ASSERT_EQ(stored.size(), 1002u);
  EXPECT_EQ(stored[0], Expected(Id(0), 100));
  EXPECT_EQ(stored[1], Expected(second, 6));
  EXPECT_EQ(stored[2], Expected(later, 9));
  // The savepoint was rolled back: every row of the batch came through the probed path ...
  EXPECT_EQ(PathOf(Id(500)), "probed");
  EXPECT_EQ(PathOf(second), "probed");

  // ... and the table probes first for a while, even for a batch of new records.
  Apply({Version(Id(5000), 1)});
  EXPECT_EQ(PathOf(Id(5000)), "probed");
  EXPECT_EQ(Stored().back(), Expected(Id(5000), 1));
}

TEST_F(FreshFirstTest, ASampledStoredRecordSkipsStraightToTheProbe) {
  Apply({Version(Id(0), 5)});
  std::vector<v1::RecordChange> changes;
  for (int i = 0; i < 100; ++i) changes.push_back(Version(Id(i), i == 0 ? 4 : 7));
  ApplyStats stats = Apply(changes);
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kStale);
  EXPECT_EQ(stats.objects[object_].applied, 99);
  EXPECT_EQ(Stored()[0], Expected(Id(0), 5));
  EXPECT_EQ(PathOf(Id(1)), "probed");
  // No fallback happened, so nothing holds the next fresh batch back.
  Apply({Version(Id(200), 1)});
  EXPECT_EQ(PathOf(Id(200)), "fresh-first");
}

TEST_F(FreshFirstTest, TombstonesKeepTheProbe) {
  Apply({Deletion(object_, Id(1), 10)});
  ApplyStats stats = Apply({Version(Id(1), 9), Version(Id(2), 1), Version(Id(3), 10)});
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kStale);
  EXPECT_EQ(stats.outcomes[0].stored_modstamp_ms, 10);
  EXPECT_EQ(stats.outcomes[1].outcome, Outcome::kApplied);
  EXPECT_EQ(stats.outcomes[2].outcome, Outcome::kApplied);
  EXPECT_EQ(Stored(), (std::vector<Row>{Expected(Id(2), 1), Expected(Id(3), 10)}));
  EXPECT_EQ(PathOf(Id(2)), "probed");
  // Newer than its tombstone: the record is back.
  stats = Apply({Version(Id(1), 11)});
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kApplied);
  EXPECT_EQ(Stored().front(), Expected(Id(1), 11));
}

TEST_F(FreshFirstTest, DeletionsAndRepeatedRecordsKeepTheProbe) {
  ApplyStats stats = Apply({Version(Id(1), 1), Deletion(object_, Id(2), 5), Version(Id(3), 1)});
  EXPECT_EQ(stats.objects[object_].applied, 2);
  EXPECT_EQ(stats.objects[object_].deleted, 1);
  EXPECT_EQ(PathOf(Id(1)), "probed");
  EXPECT_EQ(Scalar("SELECT modstamp_ms::text FROM salesforce._tombstones WHERE id = $1", {Id(2)}),
            "5");

  stats = Apply({Version(Id(7), 2), Version(Id(8), 1), Version(Id(7), 3)});
  EXPECT_EQ(stats.outcomes[0].outcome, Outcome::kStale);
  EXPECT_EQ(stats.outcomes[0].stored_modstamp_ms, 3);
  EXPECT_EQ(stats.outcomes[2].outcome, Outcome::kApplied);
  EXPECT_EQ(PathOf(Id(7)), "probed");
  EXPECT_EQ(Stored().back(), Expected(Id(8), 1));
}

TEST_F(FreshFirstTest, ParkedChangesAcrossChunksAreParkedTheRestWritten) {
  std::vector<v1::RecordChange> changes;
  for (int i = 0; i < 1200; ++i) changes.push_back(Version(Id(i), 10));
  changes[3] = Change(object_, Id(3), 10, {{"Nope__c", Text("x")}});
  changes[700] = Change(object_, Id(700), 10, {{"Amount__c", Text("not a number")}});
  changes[1150].set_record_id("");
  changes[1199].set_system_modstamp_ms(0);
  std::reverse(changes.begin(), changes.end());  // positions 1196, 499, 49 and 0
  ApplyStats stats = Apply(changes);
  EXPECT_EQ(stats.parked, (std::vector<size_t>{0, 49, 499, 1196}));
  EXPECT_THAT(stats.outcomes[1196].reason, HasSubstr("unknown field Nope__c"));
  EXPECT_THAT(stats.outcomes[499].reason, HasSubstr("Amount__c"));
  EXPECT_EQ(stats.outcomes[49].reason, "empty record_id");
  EXPECT_EQ(stats.outcomes[0].reason, "no SystemModstamp");
  EXPECT_EQ(stats.outcomes[1].outcome, Outcome::kApplied);
  EXPECT_EQ(stats.objects[object_].applied, 1196);
  EXPECT_EQ(stats.objects[object_].parked, 4);
  std::vector<Row> stored = Stored();
  EXPECT_EQ(stored.size(), 1196u);
  EXPECT_EQ(Scalar(StrCat("SELECT count(*) FROM salesforce.", table_, " WHERE id IN ($1, $2)"),
                   {Id(3), Id(700)}),
            "0");
  EXPECT_EQ(PathOf(Id(1)), "fresh-first");
}

TEST_F(FreshFirstTest, AFailureRollsBackTheWholeBatch) {
  ASSERT_TRUE(
      conn_->Exec(StrCat("ALTER TABLE salesforce.", table_, " ADD CHECK (amount__c < 1000)")).ok());
  std::vector<v1::RecordChange> changes;
  for (int i = 0; i < 800; ++i) changes.push_back(Version(Id(i), i == 700 ? 5000 : 1));
  auto failed = applier_.ApplyBatch(*conn_, kSchema, changes, {{kGroup, kTopic, 0, 99}});
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("23514"));
  EXPECT_TRUE(Stored().empty());
  EXPECT_TRUE(LoadOffsets(*conn_, kGroup, kTopic)->empty());
  // Nothing is left behind on the connection.
  changes[700] = Version(Id(700), 1);
  Apply(changes);
  EXPECT_EQ(Stored().size(), 800u);
  EXPECT_EQ(PathOf(Id(0)), "fresh-first");
}

}  // namespace
}  // namespace sfbridge::writer
