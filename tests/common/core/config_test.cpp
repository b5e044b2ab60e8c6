#include "common/core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sfbridge::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ConfigSchema TestSchema() {
  ConfigSchema schema;
  schema.Add({.name = "kafka.brokers", .help = "brokers", .required = true})
      .Add({.name = "metrics.port",
            .type = ConfigType::kInt,
            .help = "port",
            .default_value = "9090",
            .min = 0,
            .max = 65535})
      .Add({.name = "fetcher.poll-interval",
            .type = ConfigType::kDuration,
            .help = "interval",
            .default_value = "3s",
            .min = 100})
      .Add(
          {.name = "proxy.tls", .type = ConfigType::kBool, .help = "tls", .default_value = "false"})
      .Add({.name = "salesforce.client-secret", .help = "secret", .secret = true})
      .Add({.name = "log.format",
            .help = "f",
            .default_value = "text",
            .choices = {"text", "json"}});
  return schema;
}

class TempFile {
 public:
  TempFile(const std::string& suffix, const std::string& content)
      : path_(std::filesystem::temp_directory_path() /
              ("sfbridge_config_test_" + std::to_string(getpid()) + suffix)) {
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(ConfigTest, DefaultsApplyWhenNothingIsSet) {
  auto config = Config::Load(TestSchema(), {{"--kafka.brokers=k:9092"}, {}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("metrics.port"), 9090);
  EXPECT_EQ(config->GetDuration("fetcher.poll-interval"), std::chrono::seconds(3));
  EXPECT_FALSE(config->GetBool("proxy.tls"));
  EXPECT_FALSE(config->IsSet("metrics.port"));
  EXPECT_TRUE(config->IsSet("kafka.brokers"));
}

TEST(ConfigTest, MissingRequiredKeyIsNamedWithEveryWayToSetIt) {
  auto config = Config::Load(TestSchema(), {{}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  std::string m(config.status().message());
  EXPECT_THAT(m, HasSubstr("kafka.brokers: required but not set"));
  EXPECT_THAT(m, HasSubstr("SFBRIDGE_KAFKA_BROKERS"));
  EXPECT_THAT(m, HasSubstr("--kafka.brokers"));
}

TEST(ConfigTest, WrongTypeNamesKeyValueAndSource) {
  auto config = Config::Load(TestSchema(),
                             {{"--kafka.brokers", "k:1"}, {{"SFBRIDGE_METRICS_PORT", "ninety"}}});
  ASSERT_FALSE(config.ok());
  std::string m(config.status().message());
  EXPECT_THAT(m, HasSubstr("metrics.port: expected an integer from 0 to 65535, got 'ninety' "
                           "(from env SFBRIDGE_METRICS_PORT)"));
}

TEST(ConfigTest, OutOfRangeAndBadDurationAndBadBoolAllReportedAtOnce) {
  auto config = Config::Load(
      TestSchema(), {{"--kafka.brokers=k", "--metrics.port=70000",
                      "--fetcher.poll-interval=3 parsecs", "--proxy.tls=maybe", "--log.format=xml"},
                     {}});
  ASSERT_FALSE(config.ok());
  std::string m(config.status().message());
  EXPECT_THAT(m, HasSubstr("metrics.port: expected an integer from 0 to 65535, got '70000'"));
  EXPECT_THAT(m, HasSubstr("fetcher.poll-interval: expected a duration"));
  EXPECT_THAT(m, HasSubstr("proxy.tls: expected true or false, got 'maybe'"));
  EXPECT_THAT(m, HasSubstr("log.format: expected one of text, json, got 'xml'"));
}

TEST(ConfigTest, DurationBelowMinimumIsRefused) {
  auto config =
      Config::Load(TestSchema(), {{"--kafka.brokers=k", "--fetcher.poll-interval=50ms"}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("fetcher.poll-interval: expected a duration of at least 100ms"));
}

TEST(ConfigTest, PrecedenceIsDefaultThenFileThenEnvThenFlag) {
  TempFile file(".properties", "kafka.brokers = file:1\nmetrics.port = 1111\nproxy.tls = true\n");
  auto config = Config::Load(
      TestSchema(), {{"--config", file.path(), "--metrics.port", "3333"},
                     {{"SFBRIDGE_METRICS_PORT", "2222"}, {"SFBRIDGE_KAFKA_BROKERS", "env:1"}}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("metrics.port"), 3333);
  EXPECT_EQ(config->GetString("kafka.brokers"), "env:1");
  EXPECT_TRUE(config->GetBool("proxy.tls"));
  EXPECT_THAT(config->Describe(), HasSubstr("metrics.port = 3333 (flag --metrics.port)"));
  EXPECT_THAT(config->Describe(), HasSubstr("kafka.brokers = env:1 (env SFBRIDGE_KAFKA_BROKERS)"));
}

TEST(ConfigTest, JsonFileWithNestedObjects) {
  TempFile file(".json", R"({"kafka": {"brokers": "j:9092"}, "metrics": {"port": 8081}})");
  auto config = Config::Load(TestSchema(), {{}, {{"SFBRIDGE_CONFIG", file.path()}}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetString("kafka.brokers"), "j:9092");
  EXPECT_EQ(config->GetInt("metrics.port"), 8081);
}

TEST(ConfigTest, UnknownKeyInFileSuggestsTheClosestKnownKey) {
  TempFile file(".properties", "kafka.brokerz = x\n");
  auto config = Config::Load(TestSchema(), {{"--config=" + file.path()}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("kafka.brokerz: unknown key in file '" + file.path() +
                        "'; did you mean 'kafka.brokers'?"));
}

TEST(ConfigTest, UnknownFlagIsRefusedButUnknownEnvironmentIsIgnored) {
  auto config = Config::Load(
      TestSchema(), {{"--kafka.brokers=k", "--colour=blue"}, {{"SFBRIDGE_SOMETHING_ELSE", "1"}}});
  ASSERT_FALSE(config.ok());
  std::string m(config.status().message());
  EXPECT_THAT(m, HasSubstr("colour: unknown flag --colour"));
  EXPECT_THAT(m, Not(HasSubstr("SOMETHING_ELSE")));
}

TEST(ConfigTest, MissingFileIsAClearError) {
  auto config = Config::Load(TestSchema(), {{"--config=/nonexistent/sfbridge.properties"}, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("file '/nonexistent/sfbridge.properties' does not exist"));
}

TEST(ConfigTest, SecretsNeverAppearInMessagesOrDescribe) {
  ConfigSchema schema = TestSchema();
  schema.Add(
      {.name = "salesforce.port-secret", .type = ConfigType::kInt, .help = "x", .secret = true});
  auto bad = Config::Load(schema, {{"--kafka.brokers=k", "--salesforce.port-secret=hunter2"}, {}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("hunter2")));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("(secret)"));

  auto good =
      Config::Load(TestSchema(), {{"--kafka.brokers=k", "--salesforce.client-secret=hunter2"}, {}});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->GetString("salesforce.client-secret"), "hunter2");
  EXPECT_THAT(good->Describe(), Not(HasSubstr("hunter2")));
}

TEST(ConfigTest, PositionalArgumentsAndHelpAndBareBooleans) {
  auto config =
      Config::Load(TestSchema(), {{"doctor", "--proxy.tls", "--kafka.brokers", "k", "extra"}, {}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->GetBool("proxy.tls"));
  EXPECT_EQ(config->positional(), (std::vector<std::string>{"doctor", "extra"}));
  EXPECT_FALSE(config->help_requested());

  auto help = Config::Load(TestSchema(), {{"--help"}, {}});  // required keys missing: still help
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help_requested());
}

TEST(ConfigTest, HelpTextListsEveryKeyWithItsEnvironmentVariable) {
  std::string help = TestSchema().HelpText();
  EXPECT_THAT(help, HasSubstr("--kafka.brokers (string), required, env SFBRIDGE_KAFKA_BROKERS"));
  EXPECT_THAT(help, HasSubstr("--fetcher.poll-interval (duration), default 3s, env "
                              "SFBRIDGE_FETCHER_POLL_INTERVAL"));
}

TEST(ParseDurationTest, UnitsAndErrors) {
  EXPECT_EQ(*ParseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseDuration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseDuration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::hours(1));
  EXPECT_EQ(*ParseDuration("1d"), std::chrono::hours(24));
  EXPECT_FALSE(ParseDuration("3").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
  EXPECT_FALSE(ParseDuration("3 weeks").ok());
  EXPECT_FALSE(ParseDuration("").ok());
}

}  // namespace
}  // namespace sfbridge::core
