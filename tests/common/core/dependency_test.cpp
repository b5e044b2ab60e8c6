#include "common/core/dependency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stop_token>
#include <thread>

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

TEST(DependencyStateTest, ReportTakesAStatus) {
  testing::FakeClock clock;
  DependencyState dep("test", "kafka", clock);
  EXPECT_EQ(dep.Report(absl::UnavailableError("broker down")), Logged::kLost);
  EXPECT_THAT(dep.reason(), HasSubstr("kafka unreachable for 0 s: broker down"));
  EXPECT_EQ(dep.Report(absl::OkStatus()), Logged::kBack);
  EXPECT_TRUE(dep.up());
}

TEST(NotReadyReasonsTest, JoinsTheNonEmptyReasons) {
  NotReadyReasons none;
  none.Add("");
  EXPECT_EQ(std::move(none).str(), "");

  NotReadyReasons some;
  some.Add("starting");
  some.Add("");
  some.Add("postgres unreachable for 3 s: refused");
  EXPECT_EQ(std::move(some).str(), "starting; postgres unreachable for 3 s: refused");
}

TEST(ProbeUntilStoppedTest, ProbesAtOnceAndStopsWhenAsked) {
  std::stop_source stop;
  int probes = 0;
  // A long interval: the first probe comes at once, and the stop ends the wait after it.
  std::thread prober([&] {
    ProbeUntilStopped(stop.get_token(), std::chrono::hours(1), [&] {
      ++probes;
      stop.request_stop();
    });
  });
  prober.join();
  EXPECT_EQ(probes, 1);

  std::stop_source stopped;
  stopped.request_stop();
  ProbeUntilStopped(stopped.get_token(), std::chrono::hours(1), [&] { ++probes; });
  EXPECT_EQ(probes, 1);  // stopped before it began: no probe
}

}  // namespace
}  // namespace sfbridge::core
