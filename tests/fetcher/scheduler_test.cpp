#include "fetcher/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stop_token>

#include "fetcher/object_sync.h"
#include "fetcher_fakes.h"
#include "tests/fakes/fake_clock.h"

namespace sfbridge::fetcher {
namespace {

using control::ObjectState;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::FakeBudget;
using testing::FakeReader;
using testing::FakeRow;
using testing::FakeSink;
using testing::FakeStateStore;

// An object whose steps are scripted: each step is one call, logged by name.
class FakeTask : public SyncTask {
 public:
  FakeTask(std::string name, ObjectState state, bool more_pending, std::vector<std::string>* log)
      : name_(std::move(name)), state_(state), more_pending_(more_pending), log_(log) {}

  const std::string& object_name() const override { return name_; }
  ObjectState state() const override { return state_; }
  absl::StatusOr<StepResult> Step() override {
    log_->push_back(name_);
    if (!fail_next.ok()) {
      absl::Status s = fail_next;
      fail_next = absl::OkStatus();
      return s;
    }
    StepResult r;
    r.api_calls = 1;
    if (!error_next.ok()) {
      state_ = ObjectState::kError;
      r.error = error_next;
      error_next = absl::OkStatus();
    }
    r.state = state_;
    r.more_pending = more_pending_ && state_ != ObjectState::kError;
    return r;
  }
  bool Retry() override {
    if (state_ != ObjectState::kError) return false;
    state_ = ObjectState::kLive;
    ++retries;
    return true;
  }

  absl::Status fail_next;   // the next step fails before finishing
  absl::Status error_next;  // the next step puts the object in error
  int retries = 0;

 private:
  std::string name_;
  ObjectState state_;
  bool more_pending_;
  std::vector<std::string>* log_;
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() {
    options_.poll_interval = seconds(10);
    options_.failure_backoff = seconds(5);
    options_.error_retry_interval = seconds(60);
  }

  FakeTask* Add(Scheduler& s, std::string name, ObjectState state, bool more) {
    auto task = std::make_unique<FakeTask>(std::move(name), state, more, &log_);
    FakeTask* raw = task.get();
    s.Add(std::move(task));
    return raw;
  }

  std::vector<std::string> Ticks(Scheduler& s, int n) {
    log_.clear();
    for (int i = 0; i < n; ++i) {
      auto tick = s.Tick();
      EXPECT_TRUE(tick.ok()) << tick.status();
    }
    return log_;
  }

  sfbridge::testing::FakeClock clock_;
  FakeBudget budget_;
  SchedulerOptions options_;
  std::vector<std::string> log_;
};

TEST_F(SchedulerTest, ABusyObjectTakesTurnsButIdleObjectsAreNotStarved) {
  Scheduler s(budget_, clock_, options_);
  Add(s, "Account", ObjectState::kBackfilling, true);
  Add(s, "Contact", ObjectState::kLive, false);
  Add(s, "Lead", ObjectState::kLive, false);

  EXPECT_THAT(Ticks(s, 4), ElementsAre("Account", "Contact", "Lead", "Account"));
  // The idle objects polled; until their interval passes only the busy one runs.
  EXPECT_THAT(Ticks(s, 2), ElementsAre("Account", "Account"));
  clock_.Advance(seconds(10));
  EXPECT_THAT(Ticks(s, 4), ElementsAre("Contact", "Lead", "Account", "Account"));
}

TEST_F(SchedulerTest, StrictRoundRobinAmongObjectsWithPendingWork) {
  Scheduler s(budget_, clock_, options_);
  Add(s, "Account", ObjectState::kBackfilling, true);
  Add(s, "Contact", ObjectState::kBackfilling, true);
  Add(s, "Lead", ObjectState::kLive, false);
  EXPECT_THAT(Ticks(s, 7), ElementsAre("Account", "Contact", "Lead", "Account", "Contact",
                                       "Account", "Contact"));
  clock_.Advance(seconds(10));
  EXPECT_THAT(Ticks(s, 3), ElementsAre("Lead", "Account", "Contact"));
}

TEST_F(SchedulerTest, NothingIsCalledWithoutABudgetGrant) {
  Scheduler s(budget_, clock_, options_);
  Add(s, "Account", ObjectState::kBackfilling, true);
  Add(s, "Contact", ObjectState::kBackfilling, true);
  budget_.tokens = 2;
  EXPECT_THAT(Ticks(s, 2), ElementsAre("Account", "Contact"));
  auto tick = s.Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_EQ(tick->object, "");
  EXPECT_EQ(tick->wait, milliseconds(3000));
  EXPECT_EQ(log_.size(), 2u);
  EXPECT_EQ(budget_.refused, 1);
  // The refused turn is not lost: Account is next once a token comes.
  budget_.tokens = 1;
  EXPECT_THAT(Ticks(s, 1), ElementsAre("Account"));
}

TEST_F(SchedulerTest, NoTokenIsTakenWhenNothingIsDue) {
  Scheduler s(budget_, clock_, options_);
  Add(s, "Contact", ObjectState::kLive, false);
  EXPECT_THAT(Ticks(s, 1), ElementsAre("Contact"));
  clock_.Advance(seconds(4));
  auto tick = s.Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_EQ(tick->object, "");
  EXPECT_EQ(tick->wait, milliseconds(6000));  // until the next poll is due
  EXPECT_EQ(budget_.granted, 1);
}

TEST_F(SchedulerTest, FailedStepsBackOffAndErrorsAreRetriedOnlyWhenRetryable) {
  Scheduler s(budget_, clock_, options_);
  FakeTask* account = Add(s, "Account", ObjectState::kBackfilling, true);
  FakeTask* contact = Add(s, "Contact", ObjectState::kBackfilling, true);
  FakeTask* lead = Add(s, "Lead", ObjectState::kBackfilling, true);
  account->fail_next = absl::UnavailableError("Kafka down");
  contact->error_next = absl::UnavailableError("Salesforce 503");
  lead->error_next = absl::PermissionDeniedError("INSUFFICIENT_ACCESS");

  EXPECT_THAT(Ticks(s, 3), ElementsAre("Account", "Contact", "Lead"));
  // Account waits out its backoff; the two others are in error.
  auto idle = s.Tick();
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->object, "");
  EXPECT_EQ(idle->wait, milliseconds(5000));
  clock_.Advance(seconds(5));
  EXPECT_THAT(Ticks(s, 2), ElementsAre("Account", "Account"));
  clock_.Advance(seconds(60));
  EXPECT_THAT(Ticks(s, 3), ElementsAre("Contact", "Account", "Contact"));
  EXPECT_EQ(contact->retries, 1);
  EXPECT_EQ(lead->retries, 0);  // a permanent error waits for a person
  EXPECT_EQ(lead->state(), ObjectState::kError);
}

TEST_F(SchedulerTest, RetryableErrorsBackOffExponentiallyUpToTheCap) {
  options_.error_retry_interval = seconds(5);
  options_.error_retry_max = seconds(20);
  Scheduler s(budget_, clock_, options_);
  FakeTask* contact = Add(s, "Contact", ObjectState::kLive, false);
  std::vector<int64_t> waits;
  for (int i = 0; i < 5; ++i) {
    contact->error_next = absl::UnavailableError("Salesforce 503");
    EXPECT_THAT(Ticks(s, 1), ElementsAre("Contact"));
    // Nothing runs until the retry is due; the wait says when.
    auto idle = s.Tick();
    ASSERT_TRUE(idle.ok());
    ASSERT_EQ(idle->object, "");
    waits.push_back(idle->wait.count());
    clock_.Advance(idle->wait);
  }
  EXPECT_THAT(waits, ElementsAre(5000, 10000, 20000, 20000, 20000));
  EXPECT_EQ(contact->retries, 4);
  // A success resets the backoff.
  EXPECT_THAT(Ticks(s, 1), ElementsAre("Contact"));
  contact->error_next = absl::UnavailableError("Salesforce 503");
  clock_.Advance(seconds(10));
  EXPECT_THAT(Ticks(s, 1), ElementsAre("Contact"));
  auto idle = s.Tick();
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->wait, seconds(5));
}

TEST_F(SchedulerTest, RetryErrorsNowRetriesEvenPermanentErrors) {
  Scheduler s(budget_, clock_, options_);
  FakeTask* lead = Add(s, "Lead", ObjectState::kLive, false);
  lead->error_next = absl::UnauthenticatedError("invalid_grant");
  EXPECT_THAT(Ticks(s, 1), ElementsAre("Lead"));
  clock_.Advance(seconds(3600));
  EXPECT_THAT(Ticks(s, 1), ElementsAre());
  s.RetryErrorsNow();
  EXPECT_THAT(Ticks(s, 1), ElementsAre("Lead"));
  EXPECT_EQ(lead->retries, 1);
}

TEST_F(SchedulerTest, ABudgetRefusalIsReported) {
  Scheduler s(budget_, clock_, options_);
  Add(s, "Contact", ObjectState::kLive, false);
  budget_.tokens = 0;
  auto tick = s.Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_TRUE(tick->budget_refused);
  EXPECT_EQ(tick->wait, milliseconds(3000));
}

TEST_F(SchedulerTest, RemovingAnObjectKeepsTheOthersTurns) {
  Scheduler s(budget_, clock_, options_);
  Add(s, "A", ObjectState::kBackfilling, true);
  Add(s, "B", ObjectState::kBackfilling, true);
  Add(s, "C", ObjectState::kBackfilling, true);
  EXPECT_THAT(Ticks(s, 2), ElementsAre("A", "B"));
  EXPECT_TRUE(s.Remove("B"));
  EXPECT_FALSE(s.Remove("B"));
  EXPECT_THAT(Ticks(s, 3), ElementsAre("C", "A", "C"));
  EXPECT_THAT(s.objects(), ElementsAre("A", "C"));
}

TEST_F(SchedulerTest, RunStopsWhenAskedAndSleepsOnTheClock) {
  Scheduler s(budget_, clock_, options_);
  Add(s, "Contact", ObjectState::kLive, false);
  std::stop_source stop;
  budget_.on_grant = [&] {
    if (budget_.granted == 3) stop.request_stop();
  };
  const auto start = clock_.Monotonic();
  s.Run(stop.get_token());
  EXPECT_EQ(log_.size(), 3u);
  // Three polls, one per poll interval.
  EXPECT_EQ(clock_.Monotonic() - start, seconds(20));
}

// Real object syncs over one fake org: one object's failure leaves the others going, and every
// Salesforce call was granted first.
TEST_F(SchedulerTest, AFailingObjectDoesNotStopTheOthers) {
  FakeReader reader;
  FakeSink sink;
  FakeStateStore store(clock_);
  for (const char* object : {"Account", "Contact"}) {
    for (int i = 0; i < 5; ++i) {
      reader.objects[object].push_back(FakeRow{
          std::string(object).substr(0, 3) + std::to_string(i), 1'699'990'000'000 + i, false, {}});
    }
  }
  reader.failing_objects["Account"] = absl::PermissionDeniedError("INSUFFICIENT_ACCESS");
  Scheduler s(budget_, clock_, options_);
  for (const char* object : {"Account", "Contact"}) {
    mapping::FieldPlan plan;
    plan.object_name = object;
    plan.fields = {{"Id", "id", mapping::ValueKind::kText},
                   {"SystemModstamp", "datetime", mapping::ValueKind::kDateTime}};
    plan.Reindex();
    ObjectSyncOptions options;
    options.page_size = 2;
    auto sync = ObjectSync::Create("00Dorg", plan, reader, sink, store, clock_, options);
    ASSERT_TRUE(sync.ok()) << sync.status();
    s.Add(*std::move(sync));
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(s.Tick().ok());
    clock_.Advance(seconds(1));
  }
  EXPECT_EQ(s.Find("Account")->state(), ObjectState::kError);
  EXPECT_EQ(store.rows["Account"].error, "Account: query: INSUFFICIENT_ACCESS");
  EXPECT_EQ(s.Find("Contact")->state(), ObjectState::kLive);
  EXPECT_EQ(sink.Counts().size(), 5u);
  EXPECT_EQ(reader.api_calls(), static_cast<size_t>(budget_.granted));
  // Account: its first page only (a permanent error waits); Contact: its pages, then polls.
  EXPECT_EQ(std::count_if(reader.calls.begin(), reader.calls.end(),
                          [](const std::string& c) { return c.find("FROM Account") != c.npos; }),
            1);
}

}  // namespace
}  // namespace sfbridge::fetcher
