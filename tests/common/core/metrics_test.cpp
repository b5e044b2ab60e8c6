#include "common/core/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace sfbridge::core {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CounterRendersHelpTypeAndLabelledSeries) {
  MetricsRegistry registry;
  auto& calls = registry.CounterFamily("sfbridge_fetcher_api_calls_total", "Salesforce API calls.",
                                       {"org", "kind"});
  calls.WithLabels({"00Dxx", "query"}).Increment();
  calls.WithLabels({"00Dxx", "query"}).Increment(2);
  calls.WithLabels({"00Dxx", "describe"}).Increment();
  EXPECT_EQ(registry.RenderText(),
            "# HELP sfbridge_fetcher_api_calls_total Salesforce API calls.\n"
            "# TYPE sfbridge_fetcher_api_calls_total counter\n"
            "sfbridge_fetcher_api_calls_total{org=\"00Dxx\",kind=\"describe\"} 1\n"
            "sfbridge_fetcher_api_calls_total{org=\"00Dxx\",kind=\"query\"} 3\n");
}

TEST(MetricsTest, GaugeWithoutLabelsAndFractionalValues) {
  MetricsRegistry registry;
  auto& g = registry.GaugeFamily("sfbridge_writer_consumer_lag", "Lag.").Get();
  g.Set(2.5);
  g.Add(-1);
  EXPECT_THAT(registry.RenderText(), HasSubstr("\nsfbridge_writer_consumer_lag 1.5\n"));
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.CounterFamily("x_total", "line one\nback\\slash", {"v"})
      .WithLabels({"a\"b\\c\nd"})
      .Increment();
  std::string text = registry.RenderText();
  EXPECT_THAT(text, HasSubstr("# HELP x_total line one\\nback\\\\slash\n"));
  EXPECT_THAT(text, HasSubstr("x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  auto& h = registry.HistogramFamily("lat_seconds", "Latency.", {"t"}, {0.5, 1}).WithLabels({"a"});
  h.Observe(0.25);
  h.Observe(0.5);  // on the bound: le="0.5" includes it
  h.Observe(0.75);
  h.Observe(7);
  std::string text = registry.RenderText();
  EXPECT_THAT(text, HasSubstr("# TYPE lat_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{t=\"a\",le=\"0.5\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{t=\"a\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{t=\"a\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_sum{t=\"a\"} 8.5\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_count{t=\"a\"} 4\n"));
}

TEST(MetricsTest, SampleValueFormatting) {
  EXPECT_EQ(FormatSampleValue(3), "3");
  EXPECT_EQ(FormatSampleValue(-2), "-2");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatSampleValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatSampleValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatSampleValue(NAN), "NaN");
}

TEST(MetricsTest, FamiliesAreSortedAndRedeclaringReturnsTheSameFamily) {
  MetricsRegistry registry;
  registry.CounterFamily("b_total", "b").Get().Increment();
  registry.CounterFamily("a_total", "a").Get().Increment();
  EXPECT_EQ(&registry.CounterFamily("a_total", "a"), &registry.CounterFamily("a_total", "a"));
  std::string text = registry.RenderText();
  EXPECT_LT(text.find("a_total"), text.find("b_total"));
}

TEST(MetricsDeathTest, RedeclaringWithOtherLabelsAborts) {
  MetricsRegistry registry;
  registry.CounterFamily("c_total", "c", {"x"});
  EXPECT_DEATH(registry.CounterFamily("c_total", "c", {"y"}), "declared twice");
  EXPECT_DEATH(registry.CounterFamily("c_total", "c", {"x"}).WithLabels({}), "label values");
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  auto& family = registry.CounterFamily("n_total", "n", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25000; ++i) family.WithLabels({"same"}).Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.WithLabels({"same"}).Value(), 100000);
}

}  // namespace
}  // namespace sfbridge::core
