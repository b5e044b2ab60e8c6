// One object's sync on fakes of its ports (fetcher_fakes.h): backfill, polling, checkpoints,
// schema changes and failures. Over 500 lines: eighteen cases on one fixture.

#include "fetcher/object_sync.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "common/mapping/datetime.h"
#include "fetcher_fakes.h"
#include "tests/fakes/fake_clock.h"

namespace sfbridge::fetcher {
namespace {

using control::ObjectState;
using salesforce::FieldValue;
using testing::ContactId;
using testing::FakeReader;
using testing::FakeRow;
using testing::FakeSink;
using testing::FakeStateStore;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kStart = testing::kFakeStartMs;
constexpr int64_t kOld = testing::kFakeOldMs;

class ObjectSyncTest : public ::testing::Test {
 protected:
  mapping::FieldPlan ContactPlan() { return testing::ContactPlan(); }

  void AddContacts(int n) { testing::AddContacts(reader_.objects["Contact"], n); }

  std::unique_ptr<ObjectSync> Make(ObjectSyncOptions options, mapping::FieldPlan plan) {
    auto sync = ObjectSync::Create("00D000000000001EAA", std::move(plan), reader_, sink_, store_,
                                   clock_, options);
    EXPECT_TRUE(sync.ok()) << sync.status();
    return sync.ok() ? *std::move(sync) : nullptr;
  }
  // With a COUNT() call for the estimate, so that steps are easy to follow: the first is the
  // COUNT, every other one a LIMIT page. (The estimate folded into the first page is tested on
  // its own below.)
  std::unique_ptr<ObjectSync> Make(int page_size = 3) {
    ObjectSyncOptions options;
    options.page_size = page_size;
    options.estimate_count = true;
    return Make(options, ContactPlan());
  }

  StepResult StepOk(ObjectSync& sync) {
    auto result = sync.Step();
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : StepResult{};
  }

  // Steps until live (or error), at most `limit` times; returns the steps taken.
  int RunUntilLive(ObjectSync& sync, int limit = 100) {
    int steps = 0;
    while (sync.state() != ObjectState::kLive && sync.state() != ObjectState::kError &&
           steps < limit) {
      StepOk(sync);
      ++steps;
    }
    return steps;
  }

  // Fails the test when a cursor is stored before Kafka acknowledged every record up to it.
  void CheckCursorsFollowKafka() {
    store_.on_cursor = [this](std::string_view object, const control::Cursor& cursor) {
      const std::map<std::string, int> acknowledged = sink_.Counts();
      for (const FakeRow& row : reader_.objects[std::string(object)]) {
        if (control::Cursor{row.modstamp_ms, row.id} <= cursor) {
          EXPECT_TRUE(acknowledged.contains(row.id))
              << row.id << " not in Kafka when the cursor moved to " << cursor.id;
        }
      }
    };
  }

  // 11 contacts, pages of 3 held by Kafka: returns the sync once contacts 0-2 and 3-5 are in
  // flight.
  std::unique_ptr<ObjectSync> TwoPagesInFlight() {
    AddContacts(11);
    CheckCursorsFollowKafka();
    auto sync = Make();
    sink_.hold = true;
    StepOk(*sync);  // COUNT
    StepOk(*sync);  // contacts 0-2
    StepOk(*sync);  // contacts 3-5
    EXPECT_EQ(sink_.InFlight().size(), 2u);
    return sync;
  }

  int Duplicates() const {
    int twice = 0;
    for (const auto& [id, n] : sink_.Counts()) twice += n - 1;
    return twice;
  }

  sfbridge::testing::FakeClock clock_;
  FakeReader reader_;
  FakeSink sink_;
  FakeStateStore store_{clock_};
};

TEST_F(ObjectSyncTest, BackfillsEveryRecordExactlyOnceThenPolls) {
  AddContacts(10);
  auto sync = Make();

  StepResult count = StepOk(*sync);
  EXPECT_EQ(count.state, ObjectState::kBackfilling);
  EXPECT_EQ(count.api_calls, 1);
  EXPECT_TRUE(count.more_pending);
  EXPECT_EQ(reader_.calls.back(), "COUNT Contact");
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kBackfilling);
  EXPECT_EQ(store_.rows["Contact"].backfill_started_at_ms, kStart);
  EXPECT_EQ(store_.rows["Contact"].records_estimate, 10);

  // Pages of 3 over groups of 4 sharing a SystemModstamp: 3, 3, 3, 1.
  const std::vector<int64_t> expected_done = {3, 6, 9, 10};
  for (size_t page = 0; page < expected_done.size(); ++page) {
    StepResult r = StepOk(*sync);
    EXPECT_EQ(r.api_calls, 1);
    EXPECT_EQ(store_.rows["Contact"].records_done, expected_done[page]);
    if (page + 1 < expected_done.size()) {
      EXPECT_EQ(r.state, ObjectState::kBackfilling);
      EXPECT_TRUE(r.more_pending);
      EXPECT_EQ(r.records_published, 3);
    } else {
      EXPECT_EQ(r.state, ObjectState::kLive);
      EXPECT_FALSE(r.more_pending);
      EXPECT_EQ(r.records_published, 1);
    }
  }
  EXPECT_EQ(reader_.calls[1],
            "SELECT Id, IsDeleted, Name, Amount__c, SystemModstamp FROM Contact WHERE "
            "SystemModstamp <= 2023-11-14T22:13:20.000Z ORDER BY SystemModstamp, Id LIMIT 3");
  // The second page starts after the third record, inside the first timestamp group.
  EXPECT_THAT(reader_.calls[2],
              HasSubstr("(SystemModstamp > 2023-11-14T19:26:40.000Z OR (SystemModstamp = "
                        "2023-11-14T19:26:40.000Z AND Id > '003D00000000002AAA'))"));
  EXPECT_EQ(sink_.acknowledged.size(), 10u);
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 0);
  for (const auto& c : sink_.acknowledged) EXPECT_EQ(c.source(), v1::CHANGE_SOURCE_BACKFILL);
  EXPECT_EQ(sink_.acknowledged[4].fields().at("Amount__c").number(), "4.50");

  const auto& row = store_.rows["Contact"];
  EXPECT_EQ(row.state, ObjectState::kLive);
  EXPECT_EQ(row.backfill_completed_at_ms, kStart);
  EXPECT_EQ(row.cursor, (control::Cursor{kStart, ""}));
  ASSERT_EQ(store_.events.size(), 1u);
  EXPECT_EQ(store_.events[0].kind, "backfill_complete");
  EXPECT_THAT(store_.events[0].detail, HasSubstr("\"records\":10"));

  // Caught up: a poll from the backfill's start finds nothing.
  clock_.Advance(std::chrono::seconds(10));
  StepResult idle = StepOk(*sync);
  EXPECT_EQ(idle.state, ObjectState::kLive);
  EXPECT_FALSE(idle.more_pending);
  EXPECT_EQ(idle.records_published, 0);
  EXPECT_EQ(reader_.calls.back(),
            "SELECT Id, IsDeleted, Name, Amount__c, SystemModstamp FROM Contact WHERE "
            "(SystemModstamp > 2023-11-14T22:13:20.000Z OR (SystemModstamp = "
            "2023-11-14T22:13:20.000Z AND Id > '')) ORDER BY SystemModstamp, Id LIMIT 3");
  EXPECT_EQ(store_.rows["Contact"].last_poll_at_ms, kStart + 10'000);

  // An update, an insert and a delete, two of them stamped alike.
  FakeRow* updated = reader_.Find("Contact", ContactId(5));
  updated->modstamp_ms = kStart + 5000;
  updated->values[0].second = FieldValue::String("Renamed");
  reader_.objects["Contact"].push_back(FakeRow{ContactId(10), kStart + 5000, false, {}});
  FakeRow* deleted = reader_.Find("Contact", ContactId(7));
  deleted->modstamp_ms = kStart + 6000;
  deleted->deleted = true;

  StepResult poll = StepOk(*sync);
  EXPECT_EQ(poll.records_published, 3);
  EXPECT_TRUE(poll.more_pending);  // a full page: there may be more
  StepResult after = StepOk(*sync);
  EXPECT_EQ(after.records_published, 0);
  ASSERT_EQ(sink_.acknowledged.size(), 13u);
  EXPECT_EQ(sink_.acknowledged[10].record_id(), ContactId(5));
  EXPECT_EQ(sink_.acknowledged[10].fields().at("Name").text(), "Renamed");
  EXPECT_EQ(sink_.acknowledged[10].source(), v1::CHANGE_SOURCE_POLL);
  EXPECT_EQ(sink_.acknowledged[11].record_id(), ContactId(10));
  EXPECT_EQ(sink_.acknowledged[12].record_id(), ContactId(7));
  EXPECT_TRUE(sink_.acknowledged[12].deleted());
  EXPECT_EQ(store_.rows["Contact"].cursor, (control::Cursor{kStart + 6000, ContactId(7)}));
}

TEST_F(ObjectSyncTest, TheFirstPageCarriesTheEstimateAndTheCountEndsTheBackfill) {
  AddContacts(10);
  ObjectSyncOptions options;
  options.page_size = 5;
  auto sync = Make(options, ContactPlan());

  StepResult first = StepOk(*sync);
  EXPECT_EQ(first.api_calls, 1);
  EXPECT_EQ(first.records_published, 5);
  EXPECT_EQ(first.state, ObjectState::kBackfilling);
  // No LIMIT on the first page: Salesforce's totalSize counts every record under the bound.
  EXPECT_EQ(reader_.calls[0],
            "SELECT Id, IsDeleted, Name, Amount__c, SystemModstamp FROM Contact WHERE "
            "SystemModstamp <= 2023-11-14T22:13:20.000Z ORDER BY SystemModstamp, Id");
  EXPECT_EQ(store_.rows["Contact"].records_estimate, 10);

  // The second page is the rest of the first page's result, and with it all ten counted
  // records are read: no closing page.
  StepResult second = StepOk(*sync);
  EXPECT_EQ(second.records_published, 5);
  EXPECT_EQ(second.state, ObjectState::kLive);
  EXPECT_EQ(reader_.calls[1], "/services/data/v59.0/query/01gFAKE-1");
  EXPECT_EQ(reader_.calls.size(), 2u);
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 0);
  EXPECT_EQ(store_.rows["Contact"].records_done, 10);
}

TEST_F(ObjectSyncTest, ARecordChangedDuringTheBackfillIsReadAsTheFirstPageFoundItThenPolled) {
  AddContacts(10);
  ObjectSyncOptions options;
  options.page_size = 5;
  auto sync = Make(options, ContactPlan());
  // Counted in the first page's totalSize, then changed before the backfill reaches it.
  reader_.before_call = [&](size_t call) {
    if (call == 1) reader_.Find("Contact", ContactId(9))->modstamp_ms = kStart + 2000;
  };
  RunUntilLive(*sync);
  EXPECT_EQ(reader_.calls.size(), 2u);  // the rest of the result still holds it as it was
  EXPECT_EQ(sink_.Counts().size(), 10u);
  StepOk(*sync);  // polling finds its new version
  EXPECT_EQ(sink_.Counts()[ContactId(9)], 2);
  EXPECT_EQ(sink_.acknowledged.back().system_modstamp_ms(), kStart + 2000);
}

TEST_F(ObjectSyncTest, AnExpiredLocatorCostsOneCallThenKeysetPagesGoOnFromTheLastPageSent) {
  AddContacts(10);
  ObjectSyncOptions options;
  options.page_size = 5;
  auto sync = Make(options, ContactPlan());
  reader_.failures = {absl::OkStatus(), absl::NotFoundError("INVALID_QUERY_LOCATOR")};
  // Moved past the bound before the second page: the count cannot be reached.
  reader_.before_call = [&](size_t call) {
    if (call == 1) reader_.Find("Contact", ContactId(9))->modstamp_ms = kStart + 2000;
  };
  StepOk(*sync);  // 0-4, estimate 10
  StepResult refused = StepOk(*sync);
  EXPECT_EQ(refused.api_calls, 1);
  EXPECT_EQ(refused.state, ObjectState::kBackfilling);
  EXPECT_TRUE(refused.more_pending);
  EXPECT_EQ(reader_.calls[1], "/services/data/v59.0/query/01gFAKE-1");
  RunUntilLive(*sync);
  ASSERT_EQ(reader_.calls.size(), 3u);  // then a short keyset page of 4 ends the backfill
  EXPECT_THAT(reader_.calls[2], HasSubstr("Id > '003D00000000004AAA'"));
  EXPECT_EQ(sink_.Counts().size(), 9u);
  StepOk(*sync);  // polling finds it
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(ObjectSyncTest, ARestartCountsAgainFromItsCursor) {
  AddContacts(10);
  ObjectSyncOptions options;
  options.page_size = 3;
  auto sync = Make(options, ContactPlan());
  StepOk(*sync);  // 0-2, estimate 10
  sync.reset();   // crash
  auto resumed = Make(options, ContactPlan());
  StepOk(*resumed);
  // The first page after the restart is unlimited again: 7 left after the 3 already done.
  EXPECT_THAT(reader_.calls[1], Not(HasSubstr("LIMIT")));
  EXPECT_EQ(store_.rows["Contact"].records_estimate, 10);
  RunUntilLive(*resumed);
  EXPECT_EQ(reader_.calls.size(), 4u);  // 3, 3, 3, 1
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(ObjectSyncTest, ChangesMadeDuringTheBackfillAreCaughtByPolling) {
  AddContacts(10);
  auto sync = Make();
  // Before the third page: one contact already read changes, one not yet read changes.
  reader_.before_call = [&](size_t call) {
    if (call != 3) return;
    reader_.Find("Contact", ContactId(0))->modstamp_ms = kStart + 1000;
    reader_.Find("Contact", ContactId(9))->modstamp_ms = kStart + 2000;
  };
  RunUntilLive(*sync);
  EXPECT_EQ(sink_.acknowledged.size(), 9u);  // contact 9 moved past the backfill's bound
  StepOk(*sync);
  ASSERT_EQ(sink_.acknowledged.size(), 11u);
  EXPECT_EQ(sink_.acknowledged[9].record_id(), ContactId(0));
  EXPECT_EQ(sink_.acknowledged[9].system_modstamp_ms(), kStart + 1000);
  EXPECT_EQ(sink_.acknowledged[10].record_id(), ContactId(9));
  EXPECT_EQ(sink_.Counts().size(), 10u);  // nothing missed
}

TEST_F(ObjectSyncTest, ResumesAfterACrashFromTheLastAcknowledgedCursor) {
  AddContacts(10);
  auto sync = Make();
  StepOk(*sync);  // COUNT
  StepOk(*sync);  // contacts 0-2
  StepOk(*sync);  // contacts 3-5
  sync.reset();   // crash

  auto resumed = Make();
  EXPECT_EQ(resumed->state(), ObjectState::kBackfilling);
  const size_t calls_before = reader_.calls.size();
  RunUntilLive(*resumed);
  // No new COUNT, and the first query goes on after contact 5, not from the start.
  EXPECT_THAT(reader_.calls[calls_before], HasSubstr("Id > '003D00000000005AAA'"));
  EXPECT_EQ(reader_.calls.size() - calls_before, 2u);  // 6-8, then 9
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 0);
  EXPECT_EQ(store_.rows["Contact"].records_done, 10);
}

TEST_F(ObjectSyncTest, ACrashBetweenKafkaAndTheCursorRepeatsOnlyThatPage) {
  AddContacts(10);
  auto sync = Make();
  StepOk(*sync);         // COUNT
  StepOk(*sync);         // contacts 0-2
  store_.fail_next = 1;  // contacts 3-5 reach Kafka, their cursor does not reach Postgres
  auto failed = sync->Step();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, (control::Cursor{kOld, ContactId(2)}));
  sync.reset();  // crash

  auto resumed = Make();
  RunUntilLive(*resumed);
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 3);  // contacts 3-5, read twice
  EXPECT_EQ(sink_.Counts()[ContactId(4)], 2);
}

TEST_F(ObjectSyncTest, AStoreThatCannotRecordProgressStopsTheReadingInsteadOfRepeatingAPage) {
  AddContacts(10);
  auto sync = Make();
  StepOk(*sync);          // COUNT
  StepOk(*sync);          // contacts 0-2
  store_.fail_next = 20;  // the control plane is gone for the next 20 writes
  const size_t calls_before = reader_.calls.size();
  for (int i = 0; i < 20; ++i) {
    auto failed = sync->Step();
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  }
  // One page read and published (contacts 3-5); the 19 steps after it only tried to store it.
  EXPECT_EQ(reader_.calls.size(), calls_before + 1);
  EXPECT_EQ(sink_.acknowledged.size(), 6u);
  EXPECT_EQ(Duplicates(), 0);
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, (control::Cursor{kOld, ContactId(2)}));

  // Back: the pending progress is stored first, without a Salesforce call, then reading goes on.
  StepResult stored = StepOk(*sync);
  EXPECT_EQ(stored.api_calls, 0);
  EXPECT_EQ(stored.records_published, 3);
  EXPECT_TRUE(stored.more_pending);
  EXPECT_EQ(reader_.calls.size(), calls_before + 1);
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, (control::Cursor{kOld + 1000, ContactId(5)}));
  EXPECT_EQ(store_.rows["Contact"].records_done, 6);
  RunUntilLive(*sync);
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 0);
  EXPECT_EQ(store_.rows["Contact"].records_done, 10);
}

TEST_F(ObjectSyncTest, APollWhoseCursorCannotBeStoredIsNotReadAgain) {
  AddContacts(4);
  auto sync = Make();
  RunUntilLive(*sync);
  ASSERT_EQ(sync->state(), ObjectState::kLive);
  reader_.Find("Contact", ContactId(1))->modstamp_ms = kStart + 5000;
  store_.fail_next = 3;
  const size_t calls_before = reader_.calls.size();
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(sync->Step().ok());
  EXPECT_EQ(reader_.calls.size(), calls_before + 1);
  StepResult stored = StepOk(*sync);
  EXPECT_EQ(stored.api_calls, 0);
  EXPECT_EQ(reader_.calls.size(), calls_before + 1);
  EXPECT_EQ(store_.rows["Contact"].cursor, (control::Cursor{kStart + 5000, ContactId(1)}));
  StepOk(*sync);  // the next poll starts after the stored cursor: nothing new
  EXPECT_EQ(sink_.Counts()[ContactId(1)], 2);  // the backfill's version, then the change once
  EXPECT_EQ(Duplicates(), 1);
}

TEST_F(ObjectSyncTest, TheStepThatEndsTheBackfillIsCompletedOnceTheStoreIsBack) {
  AddContacts(4);
  auto sync = Make();
  StepOk(*sync);         // COUNT
  StepOk(*sync);         // contacts 0-2
  store_.fail_next = 2;  // the short page's progress, then its first retry
  ASSERT_FALSE(sync->Step().ok());
  ASSERT_FALSE(sync->Step().ok());
  EXPECT_EQ(sync->state(), ObjectState::kBackfilling);
  StepResult done = StepOk(*sync);
  EXPECT_EQ(done.state, ObjectState::kLive);
  EXPECT_EQ(done.api_calls, 0);
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kLive);
  EXPECT_EQ(store_.rows["Contact"].records_done, 4);
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(ObjectSyncTest, ASinkFailureKeepsTheCursorAndTheSamePageIsReadAgain) {
  AddContacts(10);
  auto sync = Make();
  StepOk(*sync);  // COUNT
  StepOk(*sync);  // contacts 0-2
  sink_.fail_next = 1;
  sink_.partial = 1;  // contact 3 was acknowledged before the failure
  auto failed = sync->Step();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("Contact: publishing a page"));
  EXPECT_EQ(sync->state(), ObjectState::kBackfilling);
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, (control::Cursor{kOld, ContactId(2)}));
  EXPECT_EQ(store_.rows["Contact"].records_done, 3);

  StepOk(*sync);
  const size_t n = reader_.calls.size();
  EXPECT_EQ(reader_.calls[n - 1], reader_.calls[n - 2]);  // the same page again
  RunUntilLive(*sync);
  EXPECT_EQ(sink_.Counts().size(), 10u);
  EXPECT_EQ(Duplicates(), 1);
  EXPECT_EQ(store_.rows["Contact"].records_done, 10);
}

TEST_F(ObjectSyncTest, PagesInFlightAreStoredInOrderOnlyOnceKafkaAcknowledgedThem) {
  AddContacts(11);
  CheckCursorsFollowKafka();
  auto sync = Make();  // pages of 3, two may stay in flight
  sink_.hold = true;
  StepOk(*sync);  // COUNT
  StepResult first = StepOk(*sync);
  EXPECT_EQ(first.records_published, 0);
  EXPECT_TRUE(first.more_pending);
  StepOk(*sync);
  EXPECT_EQ(sink_.InFlight().size(), 2u);  // contacts 0-2 and 3-5
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, std::nullopt);
  EXPECT_EQ(store_.rows["Contact"].records_done, 0);

  // Kafka acknowledges the second page first: its cursor still waits for the first page's.
  sink_.Resolve(sink_.InFlight()[1], absl::OkStatus());
  StepOk(*sync);
  // The page read meanwhile went on after the last page sent, not after the stored cursor.
  EXPECT_THAT(reader_.calls.back(), HasSubstr("Id > '003D00000000005AAA'"));
  // A third page in flight: the step waited for the first, then stored both acknowledged ones.
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, (control::Cursor{kOld + 1000, ContactId(5)}));
  EXPECT_EQ(store_.rows["Contact"].records_done, 6);
  EXPECT_EQ(sink_.InFlight().size(), 1u);  // contacts 6-8

  // The short page ends the backfill only after every page before it was acknowledged.
  StepResult last = StepOk(*sync);
  EXPECT_EQ(last.state, ObjectState::kLive);
  EXPECT_EQ(last.records_published, 5);
  EXPECT_TRUE(sink_.InFlight().empty());
  EXPECT_EQ(store_.rows["Contact"].records_done, 11);
  EXPECT_EQ(sink_.Counts().size(), 11u);
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(ObjectSyncTest, AKafkaFailureMidPipelineReadsEveryUnstoredPageAgainAndLosesNothing) {
  auto sync = TwoPagesInFlight();
  // The first page fails after one of its records got through; the second gets through whole.
  const std::vector<RecordSink::Ticket> in_flight = sink_.InFlight();
  sink_.Resolve(in_flight[0], absl::UnavailableError("Local: Message timed out"), 1);
  sink_.Resolve(in_flight[1], absl::OkStatus());
  auto failed = sync->Step();  // reads contacts 6-8, then finds the failure
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("Contact: publishing a page"));
  EXPECT_TRUE(sink_.InFlight().empty());  // the pages after the failed one are dropped too
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, std::nullopt);
  EXPECT_EQ(store_.rows["Contact"].records_done, 0);
  EXPECT_EQ(sync->state(), ObjectState::kBackfilling);

  const size_t calls_before = reader_.calls.size();
  sink_.hold = false;
  RunUntilLive(*sync);
  EXPECT_THAT(reader_.calls[calls_before], Not(HasSubstr("Id >")));  // from the stored cursor
  EXPECT_EQ(sink_.Counts().size(), 11u);
  EXPECT_EQ(store_.rows["Contact"].records_done, 11);
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kLive);
}

TEST_F(ObjectSyncTest, ACrashWithPagesInFlightResumesAfterTheLastAcknowledgedPage) {
  auto sync = TwoPagesInFlight();
  sink_.Resolve(sink_.InFlight()[0], absl::OkStatus());
  StepOk(*sync);  // contacts 6-8; the first page is stored, two stay in flight
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, (control::Cursor{kOld, ContactId(2)}));
  sync.reset();  // crash: the pages in flight never reach Kafka
  EXPECT_TRUE(sink_.InFlight().empty());

  sink_.hold = false;
  auto resumed = Make();
  const size_t calls_before = reader_.calls.size();
  RunUntilLive(*resumed);
  EXPECT_THAT(reader_.calls[calls_before], HasSubstr("Id > '003D00000000002AAA'"));
  EXPECT_EQ(sink_.Counts().size(), 11u);
  EXPECT_EQ(Duplicates(), 0);
  EXPECT_EQ(store_.rows["Contact"].records_done, 11);
}

TEST_F(ObjectSyncTest, WithNoPageInFlightEveryStepWaitsForItsOwnPage) {
  AddContacts(7);
  CheckCursorsFollowKafka();
  ObjectSyncOptions options;
  options.page_size = 3;
  options.estimate_count = true;
  options.pages_in_flight = 0;
  auto sync = Make(options, ContactPlan());
  sink_.hold = true;  // acknowledged only when waited for
  StepOk(*sync);      // COUNT
  StepResult page = StepOk(*sync);
  EXPECT_EQ(page.records_published, 3);
  EXPECT_TRUE(sink_.InFlight().empty());
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, (control::Cursor{kOld, ContactId(2)}));
  RunUntilLive(*sync);
  EXPECT_EQ(sink_.Counts().size(), 7u);
}

TEST_F(ObjectSyncTest, AReaderFailureMarksTheObjectInErrorWithTheReason) {
  AddContacts(4);
  auto sync = Make();
  StepOk(*sync);  // COUNT
  reader_.failures.push_back(
      absl::PermissionDeniedError("INSUFFICIENT_ACCESS: no read access to Contact"));
  StepResult r = StepOk(*sync);
  EXPECT_EQ(r.state, ObjectState::kError);
  EXPECT_EQ(r.api_calls, 1);
  EXPECT_EQ(r.error.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kError);
  EXPECT_EQ(store_.rows["Contact"].error,
            "Contact: query: INSUFFICIENT_ACCESS: no read access to Contact");
  ASSERT_EQ(store_.events.size(), 1u);
  EXPECT_EQ(store_.events[0].kind, "object_error");
  EXPECT_EQ(store_.events[0].detail,
            "{\"error\":\"Contact: query: INSUFFICIENT_ACCESS: no read access to Contact\","
            "\"retryable\":false}");

  // In error, a step calls nothing.
  const size_t calls = reader_.calls.size();
  StepResult parked = StepOk(*sync);
  EXPECT_EQ(parked.api_calls, 0);
  EXPECT_EQ(reader_.calls.size(), calls);

  // A retry goes on from where it stood.
  EXPECT_TRUE(sync->Retry());
  EXPECT_FALSE(sync->Retry());
  RunUntilLive(*sync);
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kLive);
  EXPECT_EQ(sink_.Counts().size(), 4u);
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(ObjectSyncTest, ARestartRetriesAnObjectInError) {
  AddContacts(4);
  reader_.failures.push_back(absl::UnavailableError("connection reset"));
  auto sync = Make();
  StepResult r = StepOk(*sync);  // COUNT fails
  EXPECT_EQ(r.state, ObjectState::kError);
  sync.reset();

  auto restarted = Make();
  EXPECT_EQ(restarted->state(), ObjectState::kBackfilling);
  RunUntilLive(*restarted);
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kLive);
  EXPECT_EQ(sink_.Counts().size(), 4u);
}

TEST_F(ObjectSyncTest, ARecordThatDoesNotMatchThePlanStopsTheObjectBeforePublishing) {
  AddContacts(3);
  reader_.objects["Contact"][1].values[1].second = FieldValue::String("1.50");
  auto sync = Make();
  StepOk(*sync);  // COUNT
  StepResult r = StepOk(*sync);
  EXPECT_EQ(r.state, ObjectState::kError);
  EXPECT_EQ(r.error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_.rows["Contact"].error,
            "Contact: Contact 003D00000000001AAA: field Amount__c (currency) holds a JSON "
            "string, expected a JSON number");
  EXPECT_TRUE(sink_.acknowledged.empty());
  EXPECT_EQ(store_.rows["Contact"].backfill_cursor, std::nullopt);
}

TEST_F(ObjectSyncTest, PagesCutShortBySalesforceGoOnThroughTheirNextRecordsUrl) {
  AddContacts(7);
  reader_.max_batch = 2;  // below the LIMIT: done=false with a nextRecordsUrl
  ObjectSyncOptions options;
  options.page_size = 3;
  options.estimate_count = false;
  auto sync = Make(options, ContactPlan());
  const int steps = RunUntilLive(*sync);
  EXPECT_EQ(steps, 4);  // 2, 2, 2, 1
  ASSERT_EQ(reader_.calls.size(), 4u);
  EXPECT_THAT(reader_.calls[0], HasSubstr("SELECT"));
  for (size_t i = 1; i < reader_.calls.size(); ++i) {
    EXPECT_EQ(reader_.calls[i], "/services/data/v59.0/query/01gFAKE-" + std::to_string(i));
  }
  EXPECT_EQ(sink_.Counts().size(), 7u);
  EXPECT_EQ(Duplicates(), 0);

  // A poll cut short goes on with a keyset page from its cursor, not through the nextRecordsUrl:
  // a poll has no upper bound, so a later page of its result could show a record changed since
  // the query and move the cursor past records not read yet.
  for (int i = 0; i < 3; ++i) reader_.Find("Contact", ContactId(i))->modstamp_ms = kStart + 1000;
  StepResult cut = StepOk(*sync);
  EXPECT_EQ(cut.records_published, 2);
  EXPECT_TRUE(cut.more_pending);
  StepOk(*sync);
  EXPECT_THAT(reader_.calls.back(), HasSubstr("SELECT"));
  EXPECT_THAT(reader_.calls.back(), Not(HasSubstr("01gFAKE")));
  EXPECT_EQ(sink_.Counts()[ContactId(2)], 2);
  EXPECT_EQ(store_.rows["Contact"].cursor, (control::Cursor{kStart + 1000, ContactId(2)}));
}

class SplitObjectSyncTest : public ObjectSyncTest {
 protected:
  static std::string FieldName(int i) {
    return "A_Rather_Long_Custom_Field_Name_" + std::to_string(i) + "__c";
  }

  mapping::FieldPlan WidePlan() {
    mapping::FieldPlan plan;
    plan.object_name = "Wide__c";
    plan.schema_fingerprint = "fpw";
    plan.fields = {{"Id", "id", mapping::ValueKind::kText},
                   {"SystemModstamp", "datetime", mapping::ValueKind::kDateTime}};
    for (int i = 0; i < 30; ++i)
      plan.fields.push_back({FieldName(i), "double", mapping::ValueKind::kNumber});
    plan.Reindex();
    return plan;
  }

  void AddWide(int n) {
    for (int r = 0; r < n; ++r) {
      FakeRow row{"a01" + ContactId(r).substr(3), kOld + (r / 2) * 1000, false, {}};
      for (int i = 0; i < 30; ++i) {
        row.values.emplace_back(FieldName(i), FieldValue::Number(std::to_string(r * 100 + i)));
      }
      reader_.objects["Wide__c"].push_back(row);
    }
  }

  std::unique_ptr<ObjectSync> MakeWide() {
    ObjectSyncOptions options;
    options.page_size = 3;
    options.estimate_count = false;
    options.max_encoded_soql_chars = 900;
    return Make(options, WidePlan());
  }
};

TEST_F(SplitObjectSyncTest, AWideObjectIsReadInSeveralQueriesAndMergedById) {
  AddWide(7);
  auto sync = MakeWide();
  const size_t lists = sync->field_lists().size();
  ASSERT_GE(lists, 3u);
  RunUntilLive(*sync);
  // Pages 3, 3, 1, each read with every list.
  EXPECT_EQ(reader_.calls.size(), 3 * lists);
  ASSERT_EQ(sink_.acknowledged.size(), 7u);
  EXPECT_EQ(Duplicates(), 0);
  for (const auto& change : sink_.acknowledged) {
    EXPECT_EQ(change.fields().size(), 32u);
  }
  EXPECT_EQ(sink_.acknowledged[6].fields().at(FieldName(29)).number(), "629");
  // Later lists read the first list's window, bounded by its last key.
  EXPECT_THAT(reader_.calls[1],
              HasSubstr("AND (SystemModstamp < 2023-11-14T19:26:41.000Z OR (SystemModstamp = "
                        "2023-11-14T19:26:41.000Z AND Id <= 'a01D00000000002AAA'))"));
}

TEST_F(SplitObjectSyncTest, ARowChangedBetweenTheQueriesIsLeftForItsNewVersion) {
  AddWide(3);
  auto sync = MakeWide();
  reader_.before_call = [&](size_t call) {
    if (call == 1) reader_.Find("Wide__c", "a01D00000000001AAA")->modstamp_ms = kStart + 1000;
  };
  RunUntilLive(*sync);
  ASSERT_EQ(sink_.acknowledged.size(), 2u);  // the changed row is not published half-merged
  EXPECT_EQ(sink_.Counts().count("a01D00000000001AAA"), 0u);
  // One poll page: the first list, then the others.
  for (size_t i = 0; i < sync->field_lists().size(); ++i) StepOk(*sync);
  ASSERT_EQ(sink_.acknowledged.size(), 3u);
  EXPECT_EQ(sink_.acknowledged[2].record_id(), "a01D00000000001AAA");
  EXPECT_EQ(sink_.acknowledged[2].system_modstamp_ms(), kStart + 1000);
  EXPECT_EQ(sink_.acknowledged[2].fields().size(), 32u);
}

TEST_F(SplitObjectSyncTest, ARowAppearingInsideTheWindowMakesThePageBeReadAgain) {
  AddWide(3);
  auto sync = MakeWide();
  const size_t lists = sync->field_lists().size();
  reader_.before_call = [&](size_t call) {
    // A version that became visible late, stamped inside the first page's window.
    if (call == 1)
      reader_.objects["Wide__c"].push_back(FakeRow{"a01D00000000000ZZZ", kOld, false, {}});
  };
  RunUntilLive(*sync);
  // The first page was read with every list, found inconsistent, and read again whole.
  ASSERT_GE(lists, 2u);
  // (The first time without LIMIT: it carries the estimate.)
  EXPECT_EQ(std::count_if(reader_.calls.begin(), reader_.calls.end(),
                          [&](const std::string& c) { return c.starts_with(reader_.calls[0]); }),
            2);
  // The late row made the count (3) reached one record early; polling goes on from the last
  // record read, so the first poll reads the one left.
  for (size_t i = 0; i < lists; ++i) StepOk(*sync);
  EXPECT_EQ(sink_.Counts().size(), 4u);
  EXPECT_EQ(Duplicates(), 0);
}

}  // namespace
}  // namespace sfbridge::fetcher
