#include "common/core/logging.h"

#include <gtest/gtest.h>

namespace sfbridge::core {
namespace {

TEST(LoggingTest, JsonEscapeHandlesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonEscape("plain"), "plain");
  EXPECT_EQ(JsonEscape("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(JsonEscape("a\\b"), "a\\\\b");
  EXPECT_EQ(JsonEscape("l1\nl2\tx\r"), "l1\\nl2\\tx\\r");
  EXPECT_EQ(JsonEscape(std::string("\x01", 1)), "\\u0001");
  EXPECT_EQ(JsonEscape("héllo"), "héllo");  // UTF-8 passes through
}

TEST(LoggingTest, UnknownLevelIsRefusedWithTheChoices) {
  absl::Status s = InitLogging(LogFormat::kText, "loud");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("trace, debug, info"), std::string::npos);
  EXPECT_TRUE(InitLogging(LogFormat::kJson, "warn").ok());
}

TEST(LoggingTest, NamedLoggersAreSharedAndFollowTheConfiguredLevel) {
  ASSERT_TRUE(InitLogging(LogFormat::kText, "error").ok());
  auto a = Logger("component.a");
  EXPECT_EQ(a, Logger("component.a"));
  EXPECT_EQ(a->level(), spdlog::level::err);
  ASSERT_TRUE(InitLogging(LogFormat::kText, "debug").ok());
  EXPECT_EQ(a->level(), spdlog::level::debug);
}

}  // namespace
}  // namespace sfbridge::core
