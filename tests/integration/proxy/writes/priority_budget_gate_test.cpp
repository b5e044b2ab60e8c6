// The write path's gate on the org's rate budget, against a real PostgreSQL with simulated time:
// a prepaid write takes all its tokens in one statement when the bucket holds them, and never
// waits for more than one at a time when it does not.

#include "proxy/writes/priority_budget_gate.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/salesforce/client.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_transport.h"
#include "tests/integration/control/control_test_db.h"

namespace sfbridge::proxy::writes {
namespace {

using std::chrono::milliseconds;

class PriorityBudgetGateTest : public control::ControlTest {
 protected:
  void SetUp() override {
    ControlTest::SetUp();
    if (HasFatalFailure()) return;
    budget_ = std::make_unique<control::RateBudget>(*conn_, clock_);
    gate_ = std::make_unique<PriorityBudgetGate>(db_.url(), kOrg, clock_, milliseconds(10'000));
  }

  double Tokens() {
    auto state = budget_->State(kOrg);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? state->tokens : -1;
  }
  int64_t CallsTaken() {
    auto state = budget_->State(kOrg);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? state->calls_total : -1;
  }
  // What the fetchers leave when they keep up: only the priority reserve (defaults: burst 5,
  // reserve 1, one token every 3 s).
  void DrainNormalLane() {
    for (int i = 0; i < 10; ++i) {
      auto g = budget_->TryTake(kOrg, control::Lane::kNormal);
      ASSERT_TRUE(g.ok()) << g.status();
      if (!g->granted) return;
    }
    FAIL() << "the normal lane never ran dry";
  }
  absl::Status Call() { return gate_->Acquire(salesforce::CallKind::kQuery, {}); }

  testing::FakeClock clock_;
  std::unique_ptr<control::RateBudget> budget_;
  std::unique_ptr<PriorityBudgetGate> gate_;
};

TEST_F(PriorityBudgetGateTest, OnlyTheReserveLeftAWriteStillGetsItsToken) {
  DrainNormalLane();
  ASSERT_NEAR(Tokens(), 1.0, 1e-9);
  const auto start = clock_.Monotonic();
  ASSERT_TRUE(Call().ok());
  EXPECT_EQ(clock_.Monotonic(), start) << "the reserve, at once";
  EXPECT_NEAR(Tokens(), 0.0, 1e-9);
  // The next waits for the next token; the normal lane cannot take it (the reserve).
  ASSERT_TRUE(Call().ok());
  EXPECT_EQ(clock_.Monotonic() - start, milliseconds(3'000));
  EXPECT_NEAR(Tokens(), 0.0, 1e-9);
}

TEST_F(PriorityBudgetGateTest, ARefusalSaysItIsTheBudgetsAndTakesNothing) {
  Set("rate_per_second = 0");
  DrainNormalLane();
  ASSERT_TRUE(Call().ok()) << "the reserve";
  const int64_t taken = CallsTaken();
  absl::Status refused = Call();
  ASSERT_FALSE(refused.ok()) << "nothing refills at rate 0";
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(PriorityBudgetGate::IsBudgetRefusal(refused)) << refused;
  EXPECT_EQ(CallsTaken(), taken);
}

TEST_F(PriorityBudgetGateTest, AWritesWaitForItsTokenIsInItsReservation) {
  DrainNormalLane();
  testing::FakeHttpTransport transport;
  salesforce::Client client({}, transport, clock_, gate_.get());
  salesforce::Reservation first, second;
  ASSERT_TRUE(
      client.Reserve(salesforce::CallKind::kComposite, salesforce::Priority::kHigh, first).ok());
  EXPECT_EQ(first.waited, milliseconds(0)) << "the reserve, at once";
  ASSERT_TRUE(
      client.Reserve(salesforce::CallKind::kComposite, salesforce::Priority::kHigh, second).ok());
  EXPECT_EQ(second.waited, milliseconds(3'000)) << "the next token";
  EXPECT_EQ(first.waited, milliseconds(0)) << "each reservation its own";
  EXPECT_TRUE(first.token_ahead && second.token_ahead);
  EXPECT_EQ(transport.request_count(), 0u);
}

}  // namespace
}  // namespace sfbridge::proxy::writes
