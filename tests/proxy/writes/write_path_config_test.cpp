// The write path's settings: defaults, what must come together, secrets kept out of --help.

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "proxy/writes/salesforce_write_path.h"

namespace sfbridge::proxy {
namespace {

absl::StatusOr<WritePathOptions> Load(std::vector<std::string> args) {
  core::ConfigSchema schema;
  AddWritePathKeys(schema);
  absl::StatusOr<core::Config> config = core::Config::Load(schema, {.args = std::move(args)});
  if (!config.ok()) return config.status();
  return WritePathOptionsFromConfig(*config);
}

TEST(WritePathConfigTest, WithoutAnOrgNothingIsRequired) {
  absl::StatusOr<WritePathOptions> o = Load({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->org_id.empty());
  EXPECT_EQ(o->max_rows, 200);
  EXPECT_EQ(o->budget_wait, std::chrono::milliseconds(10'000));
}

TEST(WritePathConfigTest, AnOrgNeedsTheControlPlaneTheWriterAndCredentials) {
  absl::StatusOr<WritePathOptions> o = Load({"--org.id=acme"});
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(absl::StrContains(o.status().message(), "postgres.url"));
  EXPECT_TRUE(absl::StrContains(o.status().message(), "writer.address"));
  EXPECT_TRUE(absl::StrContains(o.status().message(), "salesforce.client-id"));

  o = Load({"--org.id=acme", "--postgres.url=postgresql://u:secret@h/db",
            "--writer.address=127.0.0.1:9000", "--salesforce.client-id=key",
            "--salesforce.auth=client_credentials", "--writes.max-rows=500",
            "--writes.budget-wait=2s", "--writes.coalesce-window=0ms"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->org_id, "acme");
  EXPECT_EQ(o->writer_address, "127.0.0.1:9000");
  EXPECT_EQ(o->credentials.flow, salesforce::AuthFlow::kClientCredentials);
  EXPECT_EQ(o->max_rows, 500);
  EXPECT_EQ(o->budget_wait, std::chrono::milliseconds(2'000));
  EXPECT_EQ(o->coalesce_window, std::chrono::microseconds(0));
  EXPECT_EQ(Load({"--writes.coalesce-window=5ms"})->coalesce_window,
            std::chrono::microseconds(5'000));
  EXPECT_EQ(Load({})->coalesce_window, WritePathOptions().coalesce_window);
}

TEST(WritePathConfigTest, BadValuesAreRefusedAtStart) {
  EXPECT_FALSE(Load({"--writes.max-rows=0"}).ok());
  EXPECT_FALSE(Load({"--writes.coalesce-window=2s"}).ok());
  EXPECT_FALSE(Load({"--salesforce.auth=magic"}).ok());
  EXPECT_FALSE(Load({"--salesforce.private-key-file=/nonexistent/key.pem"}).ok());
}

TEST(WritePathConfigTest, MakeRefusesIncompleteOptions) {
  core::MetricsRegistry metrics;
  auto wp = MakeSalesforceWritePath(WritePathOptions{}, metrics);
  ASSERT_FALSE(wp.ok());
  EXPECT_EQ(wp.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WritePathConfigTest, HelpListsEveryKeyAndMarksSecrets) {
  core::ConfigSchema schema;
  AddWritePathKeys(schema);
  const std::string help = schema.HelpText();
  for (const char* key : {"org.id", "postgres.url", "writer.address", "salesforce.client-secret",
                          "writes.max-rows", "writes.budget-wait", "writes.coalesce-window"}) {
    EXPECT_TRUE(absl::StrContains(help, key)) << key;
  }
  EXPECT_TRUE(schema.Find("salesforce.password")->secret);
  EXPECT_TRUE(schema.Find("postgres.url")->secret);
}

}  // namespace
}  // namespace sfbridge::proxy
