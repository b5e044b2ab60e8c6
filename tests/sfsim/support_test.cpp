// Limits, faults and query locators: the simulator's bookkeeping.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sfsim/api_limits.h"
#include "sfsim/faults.h"
#include "sfsim/query_cursors.h"
#include "sfsim/rest_calls.h"
#include "tests/fakes/fake_clock.h"

namespace sfbridge::sfsim {
namespace {

TEST(ApiLimitsTest, CountsUntilMaxThenRefuses) {
  ApiLimits limits(3, 1);
  EXPECT_TRUE(limits.TryCount("query"));
  EXPECT_TRUE(limits.TryCount("query"));
  EXPECT_TRUE(limits.TryCount("describe"));
  EXPECT_FALSE(limits.TryCount("query"));
  EXPECT_EQ(limits.LimitInfoHeader(), "api-usage=3/3");
  EXPECT_EQ(limits.CallsByKind(), (std::map<std::string, int64_t>{{"describe", 1}, {"query", 2}}));
  limits.Set(10, std::nullopt);
  EXPECT_TRUE(limits.TryCount("query"));
  EXPECT_TRUE(limits.BeginLongRunning());
  EXPECT_FALSE(limits.BeginLongRunning());
  limits.EndLongRunning();
  EXPECT_TRUE(limits.BeginLongRunning());
}

TEST(FaultsTest, RatesOfZeroAndOneAreExact) {
  Faults faults(7);
  for (int i = 0; i < 100; ++i) {
    FaultDecision d = faults.Decide(true, 10);
    EXPECT_FALSE(d.drop || d.fail_5xx || d.lock_error);
    EXPECT_EQ(d.delay_ms, 0);
  }
  faults.Set({.error_5xx_rate = 1, .lock_rate = 1, .latency_ms = 5, .latency_per_record_us = 1000});
  FaultDecision d = faults.Decide(true, 10);
  EXPECT_TRUE(d.fail_5xx);
  EXPECT_TRUE(d.lock_error);
  EXPECT_EQ(d.delay_ms, 15);
  EXPECT_FALSE(faults.Decide(false, 0).lock_error) << "lock errors only on writes";
}

TEST(FaultsTest, HalfRateIsRoughlyHalf) {
  Faults faults(11);
  faults.Set({.error_5xx_rate = 0.5});
  int failed = 0;
  for (int i = 0; i < 10000; ++i) failed += faults.Decide(false, 0).fail_5xx;
  EXPECT_NEAR(failed, 5000, 300);
}

TEST(FaultsTest, SettingsJsonRoundTripAndValidation) {
  auto s =
      ParseFaultSettings(R"({"error5xxRate":0.25,"cutRate":0.5,"latencyMs":40})", FaultSettings{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->error_5xx_rate, 0.25);
  EXPECT_EQ(s->cut_rate, 0.5);
  EXPECT_EQ(s->latency_ms, 40);
  auto again = ParseFaultSettings(FaultSettingsJson(*s), FaultSettings{});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->error_5xx_rate, 0.25);
  EXPECT_EQ(again->cut_rate, 0.5);
  EXPECT_FALSE(ParseFaultSettings(R"({"cutRate":1.5})", {}).ok());
  EXPECT_FALSE(ParseFaultSettings(R"({"dropRate":2})", {}).ok());
  EXPECT_FALSE(ParseFaultSettings(R"({"slowMs":-1})", {}).ok());
  EXPECT_FALSE(ParseFaultSettings("nope", {}).ok());
}

TEST(QueryCursorsTest, OpenFindCloseAndIdleExpiry) {
  testing::FakeClock clock;
  QueryCursors cursors(clock, std::chrono::minutes(15), 2);
  auto result = std::make_shared<org::QueryResult>();
  std::string a = cursors.Open(result);
  EXPECT_EQ(a.size(), 15u);
  EXPECT_TRUE(a.starts_with("01g"));
  EXPECT_EQ(cursors.Find(a), result);
  clock.Advance(std::chrono::minutes(14));
  EXPECT_EQ(cursors.Find(a), result) << "use keeps it alive";
  clock.Advance(std::chrono::minutes(16));
  EXPECT_EQ(cursors.Find(a), nullptr);
  std::string b = cursors.Open(result), c = cursors.Open(result), d = cursors.Open(result);
  EXPECT_EQ(cursors.Find(b), nullptr) << "oldest dropped past max_open";
  EXPECT_NE(cursors.Find(c), nullptr);
  cursors.Close(c);
  EXPECT_EQ(cursors.Find(c), nullptr);
  EXPECT_EQ(cursors.open_count(), 1u);
}

TEST(RestCallsTest, ClassifyCall) {
  EXPECT_EQ(ClassifyCall("GET", "query"), "query");
  EXPECT_EQ(ClassifyCall("GET", "query/01gD00000000001-2000"), "query_more");
  EXPECT_EQ(ClassifyCall("GET", "queryAll"), "query_all");
  EXPECT_EQ(ClassifyCall("GET", "sobjects"), "describe_global");
  EXPECT_EQ(ClassifyCall("GET", "sobjects/Contact/describe"), "describe");
  EXPECT_EQ(ClassifyCall("POST", "sobjects/Contact"), "sobject_create");
  EXPECT_EQ(ClassifyCall("GET", "sobjects/Contact/003x"), "sobject_read");
  EXPECT_EQ(ClassifyCall("PATCH", "sobjects/Contact/003x"), "sobject_update");
  EXPECT_EQ(ClassifyCall("DELETE", "sobjects/Contact/003x"), "sobject_delete");
  EXPECT_EQ(ClassifyCall("PATCH", "sobjects/Invoice__c/External_Id__c/X1"), "sobject_upsert");
  EXPECT_EQ(ClassifyCall("GET", "sobjects/Contact/updated/"), "get_updated");
  EXPECT_EQ(ClassifyCall("GET", "sobjects/Contact/deleted/"), "get_deleted");
  EXPECT_EQ(ClassifyCall("POST", "composite/sobjects"), "collections_create");
  EXPECT_EQ(ClassifyCall("DELETE", "composite/sobjects"), "collections_delete");
  EXPECT_EQ(ClassifyCall("GET", "composite/sobjects/Contact"), "collections_retrieve");
  EXPECT_EQ(ClassifyCall("POST", "composite"), "composite");
  EXPECT_EQ(ClassifyCall("GET", "limits"), "limits");
  EXPECT_TRUE(IsWriteCall("collections_update"));
  EXPECT_FALSE(IsWriteCall("query"));
}

TEST(RestCallsTest, IsoDateTimes) {
  EXPECT_EQ(ParseIsoDateTime("2024-01-15T10:20:30Z"), 1705314030000);
  EXPECT_EQ(ParseIsoDateTime("2024-01-15T10:20:30.000+0000"), 1705314030000);
  EXPECT_EQ(ParseIsoDateTime("2024-01-15T12:20:30+02:00"), 1705314030000);
  EXPECT_FALSE(ParseIsoDateTime("yesterday"));
  EXPECT_EQ(FormatIsoDateTime(1705314030123), "2024-01-15T10:20:30.123+0000");
}

}  // namespace
}  // namespace sfbridge::sfsim
