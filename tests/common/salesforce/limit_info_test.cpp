#include "common/salesforce/limit_info.h"

#include <gtest/gtest.h>

namespace sfbridge::salesforce {
namespace {

TEST(LimitInfoTest, ParsesOrgUsage) {
  std::optional<LimitInfo> info = ParseLimitInfo("api-usage=25/15000");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, 25);
  EXPECT_EQ(info->max, 15000);
  EXPECT_FALSE(info->per_app.has_value());
}

TEST(LimitInfoTest, ParsesPerAppUsage) {
  std::optional<LimitInfo> info =
      ParseLimitInfo("api-usage=18/5000; per-app-api-usage=17/250(appName=sample-app)");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, 18);
  EXPECT_EQ(info->max, 5000);
  ASSERT_TRUE(info->per_app.has_value());
  EXPECT_EQ(info->per_app->used, 17);
  EXPECT_EQ(info->per_app->max, 250);
  EXPECT_EQ(info->per_app->app_name, "sample-app");
}

TEST(LimitInfoTest, PartsMayComeInAnyOrderWithSpaces) {
  std::optional<LimitInfo> info =
      ParseLimitInfo(" per-app-api-usage=1/2 ;  api-usage = 99000/100000 ");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, 99000);
  EXPECT_EQ(info->max, 100000);
  ASSERT_TRUE(info->per_app.has_value());
  EXPECT_EQ(info->per_app->app_name, "");
}

TEST(LimitInfoTest, LargeCountsFitInt64) {
  std::optional<LimitInfo> info = ParseLimitInfo("api-usage=5000000000/9000000000");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, 5'000'000'000);
}

TEST(LimitInfoTest, JunkIsNullopt) {
  for (const char* junk :
       {"", "api-usage", "api-usage=", "api-usage=25", "api-usage=/15000", "api-usage=25/",
        "api-usage=a/b", "api-usage=25/15000x", "api-usage=-1/15000", "garbage",
        "per-app-api-usage=17/250(appName=x)", "api-usage=99999999999999999999/1"}) {
    EXPECT_FALSE(ParseLimitInfo(junk).has_value()) << junk;
  }
}

TEST(LimitInfoTest, MalformedPerAppPartIsIgnored) {
  std::optional<LimitInfo> info = ParseLimitInfo("api-usage=1/2; per-app-api-usage=x/y");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->used, 1);
  EXPECT_FALSE(info->per_app.has_value());
}

}  // namespace
}  // namespace sfbridge::salesforce
