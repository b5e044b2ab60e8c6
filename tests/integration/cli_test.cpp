// The sfbridge binary as a person runs it: good config, broken config, unreachable servers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/harness/test_env.h"

namespace sfbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

testing::CommandResult Cli(std::vector<std::string> args,
                           const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), SFBRIDGE_CLI);
  return testing::RunCommand(args, env, std::chrono::seconds(60));
}

TEST(CliTest, DoctorReportsBothServersOk) {
  auto r = Cli({"doctor", "--postgres.url=" + testing::PostgresServerUrl(),
                "--kafka.brokers=" + testing::KafkaBrokers()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("postgres  ok"));
  EXPECT_THAT(r.output, HasSubstr("kafka     ok    " + testing::KafkaBrokers() + "  brokers=1"));
  EXPECT_FALSE(r.group_left_running);
}

TEST(CliTest, BrokenConfigExitsTwoNamingEveryBadKeyAndLeavesNothingRunning) {
  std::string path =
      std::filesystem::temp_directory_path() / (testing::UniqueName("cfg") + ".properties");
  std::ofstream(path) << "postgres.url = postgresql://x:hunter2@127.0.0.1:1/x\n"
                         "kafka.broker = typo:9092\n";
  auto r = Cli({"doctor", "--config", path, "--log.level=chatty"});
  std::filesystem::remove(path);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("kafka.broker: unknown key in file"));
  EXPECT_THAT(r.output, HasSubstr("did you mean 'kafka.brokers'?"));
  EXPECT_THAT(r.output, HasSubstr("kafka.brokers: required but not set"));
  EXPECT_THAT(r.output, HasSubstr("log.level: expected one of trace"));
  EXPECT_THAT(r.output, HasSubstr("Run sfbridge --help"));
  EXPECT_THAT(r.output, Not(HasSubstr("hunter2")));
  EXPECT_FALSE(r.group_left_running);
}

TEST(CliTest, UnreadableConfigFileAndUnknownCommand) {
  auto missing = Cli({"doctor", "--config=/nonexistent/sfbridge.json"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.output, HasSubstr("'/nonexistent/sfbridge.json' does not exist"));

  auto unknown = Cli({"frobnicate", "--postgres.url=x", "--kafka.brokers=y"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("unknown command 'frobnicate'"));
}

// `sfbridge --org.id verify status` once loaded verify's settings and then ran status: a setting
// before the command would be read without that command's keys known.
TEST(CliTest, SettingBeforeTheCommandIsRefused) {
  auto misplaced = Cli({"--org.id", "verify", "status"});
  EXPECT_EQ(misplaced.exit_code, 2) << misplaced.output;
  EXPECT_THAT(misplaced.output, HasSubstr("'--org.id' comes before the command"));
  EXPECT_THAT(misplaced.output, Not(HasSubstr("postgres")));  // nothing was run
}

TEST(CliTest, UnreachablePostgresFailsWithAHintAndNoPassword) {
  auto r =
      Cli({"doctor", "--kafka.brokers=" + testing::KafkaBrokers()},
          {{"SFBRIDGE_POSTGRES_URL", "postgresql://u:hunter2@127.0.0.1:1/db?connect_timeout=2"},
           {"SFBRIDGE_LOG_FORMAT", "json"}});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("postgres  FAIL"));
  EXPECT_THAT(r.output, HasSubstr("check postgres.url"));
  EXPECT_THAT(r.output, HasSubstr(R"("level":"error")"));
  EXPECT_THAT(r.output, Not(HasSubstr("hunter2")));
}

TEST(CliTest, UnreachableKafkaFailsWithAHint) {
  auto r = Cli(
      {"doctor", "--postgres.url=" + testing::PostgresServerUrl(), "--kafka.brokers=127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("kafka     FAIL  no Kafka broker answered at 127.0.0.1:1"));
  EXPECT_THAT(r.output, HasSubstr("check kafka.brokers"));
}

TEST(CliTest, HelpListsEverySettingWithItsEnvironmentVariable) {
  auto r = Cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("doctor"));
  EXPECT_THAT(r.output, HasSubstr("--postgres.url (string), required, env SFBRIDGE_POSTGRES_URL"));
  EXPECT_THAT(r.output, HasSubstr("--kafka.brokers"));
  EXPECT_THAT(r.output, HasSubstr("--log.format"));
}

}  // namespace
}  // namespace sfbridge
