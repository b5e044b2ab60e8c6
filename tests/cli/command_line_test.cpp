#include "cli/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sfbridge::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ParseCommandLineTest, EverythingAfterTheCommandIsItsSettings) {
  absl::StatusOr<CommandLine> line =
      ParseCommandLine({"verify", "--org.id", "acme", "--postgres.url=postgresql://x"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->command, "verify");
  EXPECT_THAT(line->settings, ElementsAre("--org.id", "acme", "--postgres.url=postgresql://x"));
  EXPECT_FALSE(line->help);
}

TEST(ParseCommandLineTest, AWordNamingAnotherCommandAfterTheCommandIsAValue) {
  absl::StatusOr<CommandLine> line = ParseCommandLine({"verify", "--org.id", "status"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->command, "verify");
  EXPECT_THAT(line->settings, ElementsAre("--org.id", "status"));
}

// The command line that once loaded verify's settings and then ran status.
TEST(ParseCommandLineTest, ASettingBeforeTheCommandIsRefused) {
  absl::StatusOr<CommandLine> line = ParseCommandLine({"--org.id", "verify", "status"});
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(line.status().message(), HasSubstr("'--org.id' comes before the command"));
  EXPECT_THAT(line.status().message(), HasSubstr("sfbridge verify --key=value"));
}

TEST(ParseCommandLineTest, UnknownAndMissingCommandsAreRefused) {
  absl::StatusOr<CommandLine> unknown = ParseCommandLine({"frobnicate", "--postgres.url=x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown command 'frobnicate'"));

  absl::StatusOr<CommandLine> none = ParseCommandLine({});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no command given"));

  absl::StatusOr<CommandLine> settings_only = ParseCommandLine({"--postgres.url=x"});
  ASSERT_FALSE(settings_only.ok());
  EXPECT_THAT(settings_only.status().message(), HasSubstr("comes before any command"));
}

TEST(ParseCommandLineTest, HelpBeforeOrAfterTheCommand) {
  absl::StatusOr<CommandLine> alone = ParseCommandLine({"--help"});
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_TRUE(alone->help);
  EXPECT_EQ(alone->command, "");

  absl::StatusOr<CommandLine> before = ParseCommandLine({"-h", "status"});
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_TRUE(before->help);
  EXPECT_EQ(before->command, "status");
  EXPECT_THAT(before->settings, IsEmpty());

  // After the command, --help is one of its settings: core::Config answers it.
  absl::StatusOr<CommandLine> after = ParseCommandLine({"status", "--help"});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_FALSE(after->help);
  EXPECT_THAT(after->settings, ElementsAre("--help"));
}

}  // namespace
}  // namespace sfbridge::cli
