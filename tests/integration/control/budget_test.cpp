// The org-wide rate budget against a real PostgreSQL, with simulated time: every rule of
// budget.h, and the bound on what concurrent replicas can take together.

#include "common/control/budget.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "tests/fakes/fake_clock.h"
#include "tests/integration/control/control_test_db.h"

namespace sfbridge::control {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

class BudgetTest : public ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    budget_ = std::make_unique<RateBudget>(*conn_, clock_);
  }
  Grant Take(Lane lane, int tokens = 1) {
    auto g = budget_->TryTake(kOrg, lane, tokens);
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? *g : Grant{};
  }
  // How many single tokens the lane gets right now, taking until refused.
  int Drain(Lane lane) {
    int n = 0;
    while (Take(lane).granted) ++n;
    return n;
  }

  testing::FakeClock clock_;
  std::unique_ptr<RateBudget> budget_;
};

TEST_F(BudgetTest, StartsFullAndTheNormalLaneLeavesThePriorityReserve) {
  // Defaults: burst 5, priority_reserve 1, one token every 3 s.
  EXPECT_EQ(Drain(Lane::kNormal), 4);
  Grant refused = Take(Lane::kNormal);
  EXPECT_FALSE(refused.granted);
  EXPECT_NEAR(refused.tokens_left, 1.0, 1e-9);
  EXPECT_EQ(refused.wait, milliseconds(3000)) << "one more token, at one per 3 s";
  EXPECT_THAT(refused.reason, HasSubstr("waiting for tokens"));

  Grant priority = Take(Lane::kPriority);
  EXPECT_TRUE(priority.granted) << "the reserve is the priority lane's";
  EXPECT_NEAR(priority.tokens_left, 0.0, 1e-9);
  Grant none = Take(Lane::kPriority);
  EXPECT_FALSE(none.granted);
  EXPECT_EQ(none.wait, milliseconds(3000));
  EXPECT_EQ(Take(Lane::kNormal).wait, milliseconds(6000)) << "normal must wait for 2 tokens";
}

TEST_F(BudgetTest, RefillsAtTheRateUpToTheBurst) {
  Set("priority_reserve = 0");
  EXPECT_EQ(Drain(Lane::kNormal), 5);
  clock_.Advance(milliseconds(2999));
  Grant early = Take(Lane::kNormal);
  EXPECT_FALSE(early.granted);
  EXPECT_EQ(early.wait, milliseconds(1));
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(Take(Lane::kNormal).granted);
  EXPECT_FALSE(Take(Lane::kNormal).granted);

  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(Drain(Lane::kNormal), 5) << "an idle hour fills the bucket only up to burst";

  // Several tokens at once: all or nothing.
  clock_.Advance(milliseconds(9000));
  EXPECT_FALSE(Take(Lane::kNormal, 4).granted);
  EXPECT_TRUE(Take(Lane::kNormal, 3).granted);
  EXPECT_NEAR(Take(Lane::kNormal).tokens_left, 0.0, 1e-9);
}

TEST_F(BudgetTest, ASettingsChangeAppliesToTheNextCall) {
  EXPECT_EQ(Drain(Lane::kNormal), 4);
  Set("rate_per_second = 10, burst = 50");
  clock_.Advance(milliseconds(500));
  EXPECT_EQ(Drain(Lane::kNormal), 5) << "1 + 0.5 s x 10/s, minus the reserve of 1";
  Set("priority_reserve = 0");
  EXPECT_EQ(Drain(Lane::kNormal), 1) << "the reserve is released at once";
  Set("priority_reserve = 3");
  clock_.Advance(milliseconds(400));
  EXPECT_EQ(Drain(Lane::kNormal), 1);
  EXPECT_EQ(Drain(Lane::kPriority), 3);
  Set("burst = 2");
  clock_.Advance(std::chrono::hours(1));
  Grant impossible = Take(Lane::kNormal);
  EXPECT_FALSE(impossible.granted);
  EXPECT_EQ(impossible.wait, kQuotaWait);
  EXPECT_THAT(impossible.reason, HasSubstr("exceeds burst"));
  EXPECT_EQ(Drain(Lane::kPriority), 2) << "the bucket holds no more than the new burst";
  Set("rate_per_second = 0");
  clock_.Advance(std::chrono::hours(1));
  Grant paused = Take(Lane::kPriority);
  EXPECT_FALSE(paused.granted);
  EXPECT_EQ(paused.wait, kQuotaWait);
  EXPECT_EQ(paused.reason, "rate_per_second is 0");
}

TEST_F(BudgetTest, TheDailyQuotaShareStopsTheNormalLaneButNotThePriorityLane) {
  Set("rate_per_second = 100, burst = 100");
  ASSERT_TRUE(budget_->ObserveLimitInfo(kOrg, 498, 1000).ok());
  EXPECT_TRUE(Take(Lane::kNormal).granted);
  EXPECT_TRUE(Take(Lane::kNormal).granted) << "used 499 < 0.5 x 1000";
  Grant stopped = Take(Lane::kNormal);
  EXPECT_FALSE(stopped.granted) << "our own grants count until the next observation";
  EXPECT_EQ(stopped.wait, kQuotaWait);
  EXPECT_EQ(stopped.reason, "daily quota share reached: 500/1000");
  EXPECT_GT(stopped.tokens_left, 90) << "tokens are not the reason";

  ASSERT_TRUE(budget_->ObserveLimitInfo(kOrg, 998, 1000).ok());
  EXPECT_TRUE(Take(Lane::kPriority).granted);
  EXPECT_TRUE(Take(Lane::kPriority).granted);
  Grant full = Take(Lane::kPriority);
  EXPECT_FALSE(full.granted);
  EXPECT_EQ(full.reason, "daily API quota reached: 1000/1000");

  // The rolling window moved on: the org reports less usage.
  ASSERT_TRUE(budget_->ObserveLimitInfo(kOrg, 100, 1000).ok());
  EXPECT_TRUE(Take(Lane::kNormal).granted);
  Set("daily_quota_share = 0.1");
  EXPECT_FALSE(Take(Lane::kNormal).granted) << "101 >= 0.1 x 1000";
  auto state = budget_->State(kOrg);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->api_usage_used, 101);
  EXPECT_EQ(state->api_usage_max, 1000);
  EXPECT_EQ(state->calls_total, 5);

  EXPECT_EQ(budget_->ObserveLimitInfo(kOrg, 1, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(budget_->ObserveLimitInfo("nobody", 1, 10).code(), absl::StatusCode::kNotFound);
}

TEST_F(BudgetTest, UnknownOrgAndBadRequestsAreErrors) {
  EXPECT_EQ(budget_->TryTake("nobody", Lane::kNormal).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(budget_->TryTake(kOrg, Lane::kNormal, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(budget_->State("nobody").status().code(), absl::StatusCode::kNotFound);
  auto fresh = budget_->State(kOrg);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->tokens, 5) << "an unused bucket shows full";
  EXPECT_EQ(fresh->api_usage_used, -1);
}

TEST_F(BudgetTest, TakeSleepsOnTheClockUntilGranted) {
  Set("priority_reserve = 0");
  EXPECT_EQ(Drain(Lane::kNormal), 5);
  const auto start = clock_.Monotonic();
  ASSERT_TRUE(budget_->Take(kOrg, Lane::kNormal).ok());
  EXPECT_EQ(clock_.Monotonic() - start, milliseconds(3000)) << "slept exactly the wait";
  ASSERT_TRUE(budget_->Take(kOrg, Lane::kNormal).ok());
  EXPECT_EQ(clock_.Monotonic() - start, milliseconds(6000));

  // A deadline before the next token: refused at once, without sleeping.
  absl::Status late = budget_->Take(kOrg, Lane::kNormal, clock_.Monotonic() + milliseconds(2999));
  EXPECT_EQ(late.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(late.message()), HasSubstr("waiting for tokens"));
  EXPECT_EQ(clock_.Monotonic() - start, milliseconds(6000));
  EXPECT_TRUE(budget_->Take(kOrg, Lane::kNormal, clock_.Monotonic() + milliseconds(3000)).ok());

  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(
      budget_->Take(kOrg, Lane::kNormal, core::Clock::MonoTime::max(), stop.get_token()).code(),
      absl::StatusCode::kCancelled);
}

// N replicas, each with its own connection, take at once while simulated time moves in steps:
// together they get exactly burst + elapsed x rate, never more.
TEST_F(BudgetTest, ConcurrentReplicasNeverTakeMoreThanTheBudget) {
  struct Case {
    const char* settings;
    int expected;  // burst + 60 s x rate
  };
  for (const Case& c : {Case{"priority_reserve = 0", 5 + 20},
                        Case{"priority_reserve = 0, rate_per_second = 7.5, burst = 10", 460}}) {
    SCOPED_TRACE(c.settings);
    ASSERT_TRUE(conn_->Exec("DELETE FROM sfbridge.rate_buckets").ok());
    Set(c.settings);
    constexpr int kReplicas = 4;
    constexpr int kSteps = 600;  // 100 ms each
    testing::FakeClock clock;
    std::atomic<int> granted{0}, errors{0};
    std::barrier sync(kReplicas + 1);
    std::vector<std::thread> replicas;
    for (int i = 0; i < kReplicas; ++i) {
      replicas.emplace_back([&] {
        auto conn = Connect();
        RateBudget budget(*conn, clock);
        for (int step = 0; step <= kSteps; ++step) {
          sync.arrive_and_wait();  // the clock is set for this step
          while (true) {
            auto g = budget.TryTake(kOrg, Lane::kNormal);
            if (!g.ok()) ++errors;
            if (!g.ok() || !g->granted) break;
            ++granted;
          }
          sync.arrive_and_wait();  // everybody is done with this step
        }
      });
    }
    for (int step = 0; step <= kSteps; ++step) {
      sync.arrive_and_wait();
      sync.arrive_and_wait();
      clock.Advance(milliseconds(100));
    }
    for (auto& t : replicas) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(granted.load(), c.expected);
    EXPECT_EQ(Scalar("SELECT calls_total FROM sfbridge.rate_buckets"), std::to_string(c.expected));
  }
}

// Not a check: the figure for the report. Run with --gtest_also_run_disabled_tests.
TEST_F(BudgetTest, DISABLED_TryTakeThroughput) {
  Set("rate_per_second = 1000000, burst = 1000000");
  for (int run = 0; run < 3; ++run) {
    constexpr int kCalls = 5000;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) ASSERT_TRUE(budget_->TryTake(kOrg, Lane::kNormal).ok());
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    printf("TryTake run %d: %.0f statements/s (one connection)\n", run + 1, kCalls / s);
  }
}

}  // namespace
}  // namespace sfbridge::control
