#include "common/core/dependency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"

namespace sfbridge::core {
namespace {

using Logged = DependencyState::Logged;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(DependencyStateTest, StartsUpAndSaysNothingWhileItStaysUp) {
  testing::FakeClock clock;
  MetricsRegistry registry;
  Gauge& gauge = registry.GaugeFamily("up", "", {"dependency"}).WithLabels({"postgres"});
  DependencyState dep("test", "postgres", clock, &gauge);
  EXPECT_TRUE(dep.up());
  EXPECT_EQ(gauge.Value(), 1);
  EXPECT_EQ(dep.ReportOk(), Logged::kNothing);
  EXPECT_EQ(dep.reason(), "");
}

TEST(DependencyStateTest, LogsTheLossOnceThenARemindEveryPeriodThenTheReturn) {
  testing::FakeClock clock;
  MetricsRegistry registry;
  Gauge& gauge = registry.GaugeFamily("up", "", {"dependency"}).WithLabels({"postgres"});
  DependencyState dep("test", "postgres", clock, &gauge, seconds(60));

  EXPECT_EQ(dep.ReportFailure("connection refused"), Logged::kLost);
  EXPECT_FALSE(dep.up());
  EXPECT_EQ(gauge.Value(), 0);
  // A caller failing every 10 ms for 3 minutes: one reminder a minute, nothing else.
  int reminders = 0, lines = 0;
  for (int i = 0; i < 18'000; ++i) {
    clock.Advance(milliseconds(10));
    Logged l = dep.ReportFailure("connection refused");
    if (l == Logged::kReminder) ++reminders;
    if (l != Logged::kNothing) ++lines;
  }
  EXPECT_EQ(reminders, 3);
  EXPECT_EQ(lines, 3);
  EXPECT_THAT(dep.reason(), HasSubstr("postgres unreachable for 180 s: connection refused"));

  EXPECT_EQ(dep.ReportOk(), Logged::kBack);
  EXPECT_TRUE(dep.up());
  EXPECT_EQ(gauge.Value(), 1);
  EXPECT_EQ(dep.reason(), "");
  EXPECT_EQ(dep.ReportOk(), Logged::kNothing);
}

TEST(DependencyStateTest, NoReminderBeforeThePeriodAndANewLossStartsItsOwnPeriod) {
  testing::FakeClock clock;
  DependencyState dep("test", "kafka", clock, nullptr, seconds(30));
  EXPECT_EQ(dep.ReportFailure("a"), Logged::kLost);
  clock.Advance(seconds(29));
  EXPECT_EQ(dep.ReportFailure("b"), Logged::kNothing);
  EXPECT_THAT(dep.reason(), HasSubstr(": b"));
  EXPECT_EQ(dep.ReportOk(), Logged::kBack);
  clock.Advance(seconds(1));
  // Lost again right after the previous period would have ended: a new loss, not a reminder.
  EXPECT_EQ(dep.ReportFailure("c"), Logged::kLost);
  clock.Advance(seconds(29));
  EXPECT_EQ(dep.ReportFailure("c"), Logged::kNothing);
  clock.Advance(seconds(1));
  EXPECT_EQ(dep.ReportFailure("c"), Logged::kReminder);
  EXPECT_THAT(dep.reason(), HasSubstr("kafka unreachable for 30 s: c"));
}

}  // namespace
}  // namespace sfbridge::core
