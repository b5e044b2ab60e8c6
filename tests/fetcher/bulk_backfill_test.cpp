#include "fetcher/bulk_backfill.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "bulk_fakes.h"
#include "common/control/events.h"
#include "common/mapping/datetime.h"
#include "fetcher/scheduler.h"
#include "fetcher_fakes.h"
#include "tests/fakes/fake_clock.h"

namespace sfbridge::fetcher {
namespace {

using control::ObjectState;
using salesforce::FieldValue;
using std::chrono::milliseconds;
using testing::ContactId;
using ::testing::ElementsAre;
using testing::FakeBulkJobStore;
using testing::FakeBulkReader;
using testing::FakeReader;
using testing::FakeRow;
using testing::FakeSink;
using testing::FakeStateStore;
using ::testing::HasSubstr;

constexpr int64_t kStart = testing::kFakeStartMs;
constexpr int64_t kOld = testing::kFakeOldMs;

class BulkBackfillTest : public ::testing::Test {
 protected:
  mapping::FieldPlan ContactPlan() { return testing::ContactPlan(); }

  void AddContacts(int n) { testing::AddContacts(org_.objects["Contact"], n); }

  std::unique_ptr<SyncTask> Make() {
    auto task = BulkBackfill::Create(
        "00D000000000001EAA", ContactPlan(), bulk_, sink_, store_, jobs_, clock_, options_,
        [this]() -> absl::StatusOr<std::unique_ptr<SyncTask>> {
          auto sync = ObjectSync::Create("00D000000000001EAA", ContactPlan(), org_, sink_, store_,
                                         clock_, {.page_size = 4});
          if (!sync.ok()) return sync.status();
          ++rest_tasks_;
          return std::unique_ptr<SyncTask>(*std::move(sync));
        });
    EXPECT_TRUE(task.ok()) << task.status();
    return task.ok() ? *std::move(task) : nullptr;
  }

  StepResult StepOk(SyncTask& task) {
    auto r = task.Step();
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      api_calls_ += r->api_calls;
      if (r->not_before > milliseconds(0)) {
        waits_.push_back(r->not_before.count());
        clock_.Advance(r->not_before);
      }
    }
    return r.ok() ? *r : StepResult{};
  }

  int RunUntilLive(SyncTask& task, int limit = 100) {
    int steps = 0;
    while (task.state() != ObjectState::kLive && task.state() != ObjectState::kError &&
           steps < limit) {
      StepOk(task);
      ++steps;
    }
    return steps;
  }

  int Duplicates() const {
    int twice = 0;
    for (const auto& [id, n] : sink_.Counts()) twice += n - 1;
    return twice;
  }
  // The Bulk calls made, without the REST reader's.
  size_t BulkCalls() const { return bulk_.calls.size(); }

  sfbridge::testing::FakeClock clock_;
  FakeReader org_;
  FakeBulkReader bulk_{org_, clock_};
  FakeSink sink_;
  FakeStateStore store_{clock_};
  FakeBulkJobStore jobs_;
  BulkBackfillOptions options_{.threshold = 10,
                               .page_records = 10,
                               .publish_batch = 4,
                               .poll_initial = milliseconds(1'000),
                               .poll_max = milliseconds(4'000)};
  int rest_tasks_ = 0;
  int api_calls_ = 0;
  std::vector<int64_t> waits_;
};

TEST_F(BulkBackfillTest, SmallObjectGoesThroughRest) {
  AddContacts(9);
  auto task = Make();
  RunUntilLive(*task);
  EXPECT_EQ(task->state(), ObjectState::kLive);
  EXPECT_THAT(bulk_.calls, ElementsAre("COUNT"));
  EXPECT_EQ(rest_tasks_, 1);
  EXPECT_EQ(sink_.Counts().size(), 9u);
  EXPECT_TRUE(jobs_.rows.empty());
}

TEST_F(BulkBackfillTest, LargeObjectThroughOneJobThenPolling) {
  AddContacts(25);
  auto task = Make();
  RunUntilLive(*task);
  ASSERT_EQ(task->state(), ObjectState::kLive);
  // Polls back off 1 s, 1 s, 2 s ... on the clock; pages of 10: 10, 10, 5.
  EXPECT_THAT(bulk_.calls, ElementsAre("COUNT", "CREATE", "GET", "GET", "GET", "RESULTS ",
                                       "RESULTS 10", "RESULTS 20"));
  EXPECT_THAT(waits_, ElementsAre(1'000, 1'000, 2'000));
  EXPECT_EQ(api_calls_, static_cast<int>(BulkCalls()));  // one call per step, no more
  EXPECT_EQ(sink_.Counts().size(), 25u);
  EXPECT_EQ(Duplicates(), 0);
  for (const auto& change : sink_.acknowledged) {
    EXPECT_EQ(change.source(), v1::CHANGE_SOURCE_BACKFILL);
  }
  const control::ObjectStatus& row = store_.rows["Contact"];
  EXPECT_EQ(row.records_done, 25);
  EXPECT_EQ(row.records_estimate, 25);
  EXPECT_EQ(row.backfill_started_at_ms, kStart);
  ASSERT_TRUE(row.cursor);
  // The highest key returned (before the job's creation here).
  EXPECT_EQ(*row.cursor, (control::Cursor{kOld + 6 * 1000, ContactId(24)}));
  ASSERT_EQ(store_.events.size(), 1u);
  EXPECT_EQ(store_.events[0].kind, control::kEventBackfillComplete);
  EXPECT_THAT(store_.events[0].detail, HasSubstr(R"("via":"bulk")"));

  // The job is deleted next, then the object polls through REST.
  StepResult del = StepOk(*task);
  EXPECT_EQ(bulk_.calls.back(), "DELETE");
  EXPECT_TRUE(bulk_.jobs.empty());
  EXPECT_TRUE(jobs_.rows["Contact"].deleted);
  EXPECT_EQ(del.state, ObjectState::kLive);
  org_.objects["Contact"][3].modstamp_ms = kStart + 60'000;
  org_.objects["Contact"][3].values[0].second = FieldValue::String("changed");
  StepOk(*task);
  EXPECT_EQ(rest_tasks_, 1);
  EXPECT_EQ(sink_.acknowledged.back().record_id(), ContactId(3));
  EXPECT_EQ(sink_.acknowledged.back().source(), v1::CHANGE_SOURCE_POLL);
}

TEST_F(BulkBackfillTest, ValuesAreTypedLikeRest) {
  AddContacts(12);
  org_.objects["Contact"][0].deleted = true;
  auto task = Make();
  RunUntilLive(*task);
  bool seen = false;
  for (const auto& change : sink_.acknowledged) {
    if (change.record_id() != ContactId(0)) continue;
    seen = true;
    EXPECT_TRUE(change.deleted());
  }
  EXPECT_TRUE(seen);
}

TEST_F(BulkBackfillTest, PollBackoffIsCappedAndTheSchedulerWaitsItOut) {
  AddContacts(12);
  bulk_.polls_to_complete = 6;
  testing::FakeBudget budget;
  Scheduler scheduler(budget, clock_, {.poll_interval = milliseconds(5'000)});
  scheduler.Add(Make());
  std::vector<int64_t> gaps;
  auto last = clock_.Monotonic();
  for (int i = 0; i < 200 && bulk_.calls.size() < 8; ++i) {
    auto tick = scheduler.Tick();
    ASSERT_TRUE(tick.ok());
    if (!tick->object.empty() && bulk_.calls.back() == "GET") {
      gaps.push_back(std::chrono::duration_cast<milliseconds>(clock_.Monotonic() - last).count());
      last = clock_.Monotonic();
    } else if (!tick->object.empty()) {
      last = clock_.Monotonic();
    }
    clock_.Advance(tick->wait);
  }
  // Each status poll waited what the previous one asked for: 1, 1, 2, 4, 4 (capped) seconds.
  EXPECT_THAT(gaps, ElementsAre(1'000, 1'000, 2'000, 4'000, 4'000, 4'000));
  // No token was taken without a call.
  EXPECT_EQ(budget.granted, static_cast<int>(bulk_.calls.size()));
}

TEST_F(BulkBackfillTest, CheckpointNeverAheadOfKafka) {
  AddContacts(25);
  auto task = Make();
  for (int i = 0; i < 6; ++i) StepOk(*task);  // count, create, 3 gets, first page
  EXPECT_EQ(jobs_.rows["Contact"].locator, "10");
  EXPECT_EQ(jobs_.rows["Contact"].records_done, 10);
  sink_.fail_next = 1;
  sink_.partial = 3;
  auto failed = task->Step();
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(jobs_.rows["Contact"].locator, "10");  // not moved
  EXPECT_EQ(store_.rows["Contact"].records_done, 10);
  RunUntilLive(*task);
  EXPECT_EQ(sink_.Counts().size(), 25u);
  // What Kafka took of the page: 3 of the failed first batch, the 6 of the batches sent after it.
  EXPECT_EQ(Duplicates(), 9);
}

TEST_F(BulkBackfillTest, ControlPlaneFailureAfterAPageStoresItBeforeReadingOn) {
  AddContacts(25);
  auto task = Make();
  for (int i = 0; i < 5; ++i) StepOk(*task);
  jobs_.fail_next = 1;
  EXPECT_FALSE(task->Step().ok());
  const size_t calls = bulk_.calls.size();
  StepResult r = StepOk(*task);  // stores, reads nothing
  EXPECT_EQ(r.api_calls, 0);
  EXPECT_EQ(bulk_.calls.size(), calls);
  EXPECT_EQ(jobs_.rows["Contact"].locator, "10");
  RunUntilLive(*task);
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(BulkBackfillTest, RestartResumesTheStoredJobFromItsLocator) {
  AddContacts(25);
  auto task = Make();
  for (int i = 0; i < 6; ++i) StepOk(*task);
  task.reset();  // killed
  auto resumed = Make();
  EXPECT_EQ(resumed->state(), ObjectState::kBackfilling);
  RunUntilLive(*resumed);
  EXPECT_EQ(bulk_.created, 1);
  EXPECT_EQ(bulk_.calls[6], "GET");
  EXPECT_EQ(bulk_.calls[7], "RESULTS 10");
  EXPECT_EQ(sink_.Counts().size(), 25u);
  EXPECT_EQ(Duplicates(), 0);
  EXPECT_EQ(store_.rows["Contact"].records_done, 25);
  StepOk(*resumed);
  EXPECT_TRUE(bulk_.jobs.empty());
}

TEST_F(BulkBackfillTest, RestartWithTheJobGoneStartsANewOne) {
  AddContacts(25);
  auto task = Make();
  for (int i = 0; i < 6; ++i) StepOk(*task);
  task.reset();
  bulk_.jobs.clear();  // expired
  auto resumed = Make();
  RunUntilLive(*resumed);
  EXPECT_EQ(bulk_.created, 2);
  EXPECT_EQ(sink_.Counts().size(), 25u);
  EXPECT_EQ(Duplicates(), 10);  // the first job's page, fetched twice
  EXPECT_EQ(store_.rows["Contact"].records_done, 25);
}

TEST_F(BulkBackfillTest, RestartAfterCompletionDeletesTheJobLeftBehind) {
  AddContacts(25);
  auto task = Make();
  RunUntilLive(*task);
  task.reset();  // killed before deleting
  ASSERT_EQ(bulk_.jobs.size(), 1u);
  auto resumed = Make();
  StepOk(*resumed);
  EXPECT_TRUE(bulk_.jobs.empty());
  EXPECT_EQ(resumed->state(), ObjectState::kLive);
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(BulkBackfillTest, StoppedBetweenTheCursorAndTheLiveStateGoesOnLiveWithoutReadingAgain) {
  AddContacts(25);
  auto task = Make();
  RunUntilLive(*task);
  task.reset();
  // Killed after the polling cursor was stored and before the live state was.
  store_.rows["Contact"].state = ObjectState::kBackfilling;
  const int64_t done = store_.rows["Contact"].records_done;
  ASSERT_EQ(done, 25);
  auto resumed = Make();
  StepOk(*resumed);  // deletes the job left behind
  EXPECT_TRUE(bulk_.jobs.empty());
  EXPECT_EQ(resumed->state(), ObjectState::kLive);
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kLive);
  EXPECT_EQ(store_.rows["Contact"].records_done, done);
  for (int i = 0; i < 3; ++i) StepOk(*resumed);  // polls: nothing new
  EXPECT_EQ(Duplicates(), 0);
}

TEST_F(BulkBackfillTest, AJobLeftRunningByAFallbackIsAbortedThenDeleted) {
  AddContacts(25);
  bulk_.polls_to_complete = 10;
  auto task = Make();
  while (std::count(bulk_.calls.begin(), bulk_.calls.end(), "GET") < 1) StepOk(*task);
  ASSERT_EQ(bulk_.jobs.begin()->second.state, salesforce::BulkJobState::kInProgress);
  // A job info reply that cannot be read: no retry helps, REST takes over.
  bulk_.failures.push_back(absl::InternalError("malformed job info reply"));
  RunUntilLive(*task);
  EXPECT_EQ(task->state(), ObjectState::kLive);
  EXPECT_EQ(rest_tasks_, 1);
  EXPECT_TRUE(bulk_.jobs.empty()) << "the job was left in Salesforce";
  auto abort = std::find(bulk_.calls.begin(), bulk_.calls.end(), "ABORT");
  ASSERT_NE(abort, bulk_.calls.end());
  EXPECT_EQ(std::find(abort, bulk_.calls.end(), "DELETE") - abort, 1);
  EXPECT_EQ(sink_.Counts().size(), 25u);
}

TEST_F(BulkBackfillTest, FailedJobFallsBackToRestWithTheReason) {
  AddContacts(25);
  bulk_.fail_jobs = true;
  auto task = Make();
  RunUntilLive(*task);
  ASSERT_EQ(task->state(), ObjectState::kLive);
  EXPECT_EQ(rest_tasks_, 1);
  EXPECT_TRUE(bulk_.jobs.empty());  // the failed job is deleted
  const control::BulkJobRow& row = jobs_.rows["Contact"];
  ASSERT_TRUE(row.fallback_reason);
  EXPECT_THAT(*row.fallback_reason, HasSubstr("Failed: InternalServerError"));
  EXPECT_EQ(store_.events[0].kind, control::kEventBulkFallback);
  EXPECT_EQ(sink_.Counts().size(), 25u);
  EXPECT_EQ(store_.rows["Contact"].records_done, 25);
  // A restart stays with REST.
  auto again = Make();
  EXPECT_EQ(rest_tasks_, 2);
}

TEST_F(BulkBackfillTest, DailyJobLimitFallsBackToRest) {
  AddContacts(25);
  bulk_.create_failures.push_back(salesforce::ApiErrorToStatus(
      {400, "LIMIT_EXCEEDED", "Max bulk v2 query jobs (10000) per 24 hrs has been reached", {}}));
  auto task = Make();
  RunUntilLive(*task);
  ASSERT_EQ(task->state(), ObjectState::kLive);
  EXPECT_THAT(*jobs_.rows["Contact"].fallback_reason, HasSubstr("LIMIT_EXCEEDED"));
  EXPECT_EQ(sink_.Counts().size(), 25u);
  EXPECT_THAT(bulk_.calls, ElementsAre("COUNT", "CREATE"));
}

TEST_F(BulkBackfillTest, RetryableFailureWaitsInErrorAndResumes) {
  AddContacts(25);
  auto task = Make();
  for (int i = 0; i < 3; ++i) StepOk(*task);
  bulk_.failures.push_back(absl::UnavailableError("503 after retries"));
  StepResult r = StepOk(*task);
  EXPECT_EQ(r.state, ObjectState::kError);
  EXPECT_EQ(store_.rows["Contact"].state, ObjectState::kError);
  EXPECT_TRUE(task->Retry());
  RunUntilLive(*task);
  EXPECT_EQ(bulk_.created, 1);
  EXPECT_EQ(sink_.Counts().size(), 25u);
}

TEST_F(BulkBackfillTest, ChangesWhileTheJobRunsReachPolling) {
  AddContacts(25);
  // Salesforce reads a large job in chunks at different times: contact 5's chunk was read
  // before its change, contact 7's after its (later) change.
  bulk_.before_snapshot = [this] { org_.objects["Contact"][7].modstamp_ms = kStart + 5'000; };
  auto task = Make();
  RunUntilLive(*task);
  org_.objects["Contact"][5].modstamp_ms = kStart + 3'000;
  org_.objects["Contact"][5].values[0].second = FieldValue::String("changed during the job");
  StepOk(*task);  // delete the job
  // The cursor is the job's creation, not the highest key returned (contact 7 at +5 s).
  EXPECT_EQ(store_.rows["Contact"].cursor, (control::Cursor{kStart, ""}));
  StepOk(*task);  // the first poll
  bool seen = false;
  for (const auto& change : sink_.acknowledged) {
    if (change.record_id() == ContactId(5) && change.source() == v1::CHANGE_SOURCE_POLL) {
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
}

TEST_F(BulkBackfillTest, ThresholdZeroNeverUsesBulk) {
  AddContacts(25);
  options_.threshold = 0;
  auto task = Make();
  RunUntilLive(*task);
  EXPECT_TRUE(bulk_.calls.empty());
  EXPECT_EQ(sink_.Counts().size(), 25u);
}

TEST_F(BulkBackfillTest, TurningBulkOffMidJobDeletesTheJobAndGoesRest) {
  AddContacts(25);
  auto task = Make();
  for (int i = 0; i < 6; ++i) StepOk(*task);  // a page delivered
  task.reset();
  options_.threshold = 0;
  auto rest = Make();
  StepOk(*rest);
  EXPECT_EQ(bulk_.calls.back(), "DELETE");
  EXPECT_TRUE(bulk_.jobs.empty());
  RunUntilLive(*rest);
  EXPECT_EQ(sink_.Counts().size(), 25u);
  EXPECT_EQ(store_.rows["Contact"].records_done, 25);
}

}  // namespace
}  // namespace sfbridge::fetcher
