// Which version of a record wins (version_rule.h), without PostgreSQL: the newest of a call, then
// against what the table stores, with the outcomes and writes a user of the writer would see.

#include "writer/version_rule.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sfbridge::writer {
namespace {

Version Update(std::string_view id, int64_t ms) { return {id, ms, false}; }
Version Deletion(std::string_view id, int64_t ms) { return {id, ms, true}; }

TEST(ChooseWinnersTest, TheHighestModstampWinsThenADeletionThenTheLaterOne) {
  const std::vector<Version> versions = {
      Update("A", 2),   Update("A", 5),   Update("A", 3),  // A: 5 wins
      Update("B", 7),   Deletion("B", 7),                  // B: the deletion wins the tie
      Deletion("C", 4), Update("C", 4),                    // C: still the deletion
      Update("D", 1),   Update("D", 1),                    // D: the later one
  };
  const Winners w = ChooseWinners(versions, std::vector<bool>(versions.size(), true));
  EXPECT_EQ(w.list, (std::vector<size_t>{1, 4, 5, 8}));
  EXPECT_EQ(w.of.at("A"), 1u);
  EXPECT_EQ(w.of.at("B"), 4u);
  EXPECT_EQ(w.of.at("C"), 5u);
  EXPECT_EQ(w.of.at("D"), 8u);
}

TEST(ChooseWinnersTest, InvalidVersionsTakeNoPart) {
  const std::vector<Version> versions = {Update("A", 9), Update("A", 1), Update("B", 1)};
  const Winners w = ChooseWinners(versions, {false, true, false});
  EXPECT_EQ(w.list, (std::vector<size_t>{1}));
  EXPECT_FALSE(w.of.contains("B"));
}

TEST(DecideTest, AnUpdateIsInsertedWhenNothingIsStored) {
  const Decision d = Decide(Update("A", 5), {});
  EXPECT_EQ(d.outcome, Outcome::kApplied);
  EXPECT_EQ(d.stored_modstamp_ms, 5);
  EXPECT_EQ(d.write, Write::kInsert);
}

TEST(DecideTest, AnUpdateReplacesAnOlderOrEqualRow) {
  for (int64_t row : {4, 5}) {
    const Decision d = Decide(Update("A", 5), {.row_ms = row});
    EXPECT_EQ(d.outcome, Outcome::kApplied) << row;
    EXPECT_EQ(d.write, Write::kUpdate) << row;
    EXPECT_EQ(d.stored_modstamp_ms, 5) << row;
  }
}

TEST(DecideTest, AnUpdateOlderThanTheRowIsStaleAtTheRow) {
  const Decision d = Decide(Update("A", 5), {.row_ms = 6});
  EXPECT_EQ(d.outcome, Outcome::kStale);
  EXPECT_EQ(d.stored_modstamp_ms, 6);
  EXPECT_EQ(d.write, Write::kNone);
}

TEST(DecideTest, ATombstoneHoldsBackEveryVersionUpToAndIncludingItsOwn) {
  for (int64_t ms : {3, 4}) {
    const Decision d = Decide(Update("A", ms), {.tomb_ms = 4});
    EXPECT_EQ(d.outcome, Outcome::kStale) << ms;
    EXPECT_EQ(d.stored_modstamp_ms, 4) << ms;
    EXPECT_EQ(d.write, Write::kNone) << ms;
  }
  // Undeleted in Salesforce: a newer version brings the record back as a new row.
  const Decision back = Decide(Update("A", 5), {.tomb_ms = 4});
  EXPECT_EQ(back.outcome, Outcome::kApplied);
  EXPECT_EQ(back.write, Write::kInsert);
}

TEST(DecideTest, ADeletionIsAppliedUnlessSomethingNewerIsStoredAndAlwaysWritten) {
  Decision d = Decide(Deletion("A", 5), {.row_ms = 5});
  EXPECT_EQ(d.outcome, Outcome::kApplied);
  EXPECT_EQ(d.stored_modstamp_ms, 5);
  EXPECT_EQ(d.write, Write::kDelete);

  d = Decide(Deletion("A", 5), {.row_ms = 8});
  EXPECT_EQ(d.outcome, Outcome::kStale);
  EXPECT_EQ(d.stored_modstamp_ms, 8);
  EXPECT_EQ(d.write, Write::kDelete);  // its tombstone still goes forward where it can

  d = Decide(Deletion("A", 5), {.tomb_ms = 7});
  EXPECT_EQ(d.outcome, Outcome::kStale);
  EXPECT_EQ(d.stored_modstamp_ms, 7);

  d = Decide(Deletion("A", 5), {.tomb_ms = 5});  // re-delivered
  EXPECT_EQ(d.outcome, Outcome::kApplied);
}

TEST(PlanVersionsTest, WinnersAreDecidedAndLosersAreStaleAtWhatTheirWinnerLeaves) {
  const std::vector<Version> versions = {
      Update("new", 1),      // 0: nothing stored -> insert
      Update("old", 3),      // 1: loses to 2
      Update("old", 9),      // 2: row at 5 -> update
      Update("behind", 2),   // 3: row at 6 -> stale at 6
      Update("behind", 1),   // 4: loses to 3 -> stale at 6
      Deletion("gone", 4),   // 5: row at 4 -> delete
      Update("parked", 99),  // 6: invalid
  };
  const std::vector<bool> valid = {true, true, true, true, true, true, false};
  const StoredVersions stored = {
      {"old", {.row_ms = 5}}, {"behind", {.row_ms = 6}}, {"gone", {.row_ms = 4}}};
  const VersionPlan plan = PlanVersions(versions, valid, ChooseWinners(versions, valid), stored);

  EXPECT_EQ(plan.inserts, (std::vector<size_t>{0}));
  EXPECT_EQ(plan.updates, (std::vector<size_t>{2}));
  EXPECT_EQ(plan.deletes, (std::vector<size_t>{5}));
  const std::vector<std::pair<Outcome, int64_t>> expected = {
      {Outcome::kApplied, 1}, {Outcome::kStale, 9}, {Outcome::kApplied, 9},
      {Outcome::kStale, 6},   {Outcome::kStale, 6}, {Outcome::kApplied, 4},
  };
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(plan.outcomes[k].outcome, expected[k].first) << k;
    EXPECT_EQ(plan.outcomes[k].stored_modstamp_ms, expected[k].second) << k;
  }
  EXPECT_EQ(plan.outcomes[6].outcome, Outcome::kParked);  // untouched
  EXPECT_EQ(plan.counts.applied, 2);
  EXPECT_EQ(plan.counts.deleted, 1);
  EXPECT_EQ(plan.counts.stale, 3);
  EXPECT_EQ(plan.counts.parked, 0);
}

TEST(PlanVersionsTest, ALateOlderUpdateAfterADeletionInOneCallStaysDeleted) {
  const std::vector<Version> versions = {Deletion("A", 5), Update("A", 4)};
  const std::vector<bool> valid = {true, true};
  const VersionPlan plan = PlanVersions(versions, valid, ChooseWinners(versions, valid), {});
  EXPECT_TRUE(plan.inserts.empty());
  EXPECT_EQ(plan.deletes, (std::vector<size_t>{0}));
  EXPECT_EQ(plan.outcomes[1].outcome, Outcome::kStale);
  EXPECT_EQ(plan.outcomes[1].stored_modstamp_ms, 5);
}

}  // namespace
}  // namespace sfbridge::writer
