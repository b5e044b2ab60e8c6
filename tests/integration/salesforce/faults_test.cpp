// The client against sfsim's injected faults (admin POST /__sfsim/faults): 5xx, dropped
// connections, row lock errors and latency. Each test turns its faults off again.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/salesforce/sfsim_fixture.h"

namespace sfbridge::salesforce::integration {
namespace {

using ::testing::HasSubstr;

class FaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sfsim::SimulatorOptions options = SmallOrgOptions();
    options.org.counts = {{"User", 5}, {"Account", 200}, {"Contact", 500}};
    org_ = SfsimOrg::Start(options);
  }
  static void TearDownTestSuite() { org_.reset(); }
  void SetUp() override {
    ASSERT_NE(org_, nullptr);
    ClientOptions options = org_->TestClientOptions(org_->PasswordCredentials());
    options.max_attempts = kAttempts;
    client_ = org_->NewClient(options);
    ASSERT_TRUE(client_->Authenticate().ok());
    org_->ResetStats();
  }
  void TearDown() override {
    if (org_) org_->ClearFaults();
  }

  static constexpr int kAttempts = 12;
  static std::unique_ptr<SfsimOrg> org_;
  std::unique_ptr<Client> client_;
};

std::unique_ptr<SfsimOrg> FaultsTest::org_;

TEST_F(FaultsTest, ReadsSucceedThroughHalfTheRepliesBeing503) {
  org_->SetFaults(R"({"error5xxRate":0.5})");
  constexpr int kReads = 20;
  for (int i = 0; i < kReads; ++i) {
    absl::StatusOr<QueryPage> page = client_->Query("SELECT Id, Name FROM Account");
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->total_size, 200);
    EXPECT_EQ(page->records.size(), 200u);
  }
  // Every retry is a call the org saw (and counted against the daily allocation).
  const int64_t sent = org_->CallCount("query");
  EXPECT_GT(sent, kReads + 3);
  EXPECT_LE(sent, kReads * kAttempts);
}

TEST_F(FaultsTest, CreatesAreRetriedOnlyWhenA503ProvesNothingWasApplied) {
  org_->SetFaults(R"({"error5xxRate":0.5})");
  const size_t before = org_->Digest("Contact").size();
  constexpr int kCreates = 10;
  for (int i = 0; i < kCreates; ++i) {
    absl::StatusOr<std::vector<SaveResult>> saved = client_->CreateRecords(
        "Contact", {StringFields({{"LastName", core::StrCat("Through 503 ", i)}})}, true);
    ASSERT_TRUE(saved.ok()) << saved.status();
    EXPECT_TRUE(saved->at(0).success);
  }
  EXPECT_EQ(org_->Digest("Contact").size(), before + kCreates);  // none twice
  EXPECT_GT(org_->CallCount("collections_create"), kCreates);
}

TEST_F(FaultsTest, DroppedConnectionsRetryReadsButNotCreates) {
  org_->SetFaults(R"({"dropRate":0.3})");
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<QueryPage> page = client_->Query("SELECT Id FROM Account LIMIT 10");
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->records.size(), 10u);
  }
  EXPECT_GT(org_->CallCount("query"), 10);

  // Warm the connection pool so the create goes out on a kept-alive connection.
  org_->ClearFaults();
  ASSERT_TRUE(client_->Query("SELECT Id FROM Account LIMIT 1").ok());
  org_->SetFaults(R"({"dropRate":1})");
  org_->ResetStats();
  const size_t before = org_->Digest("Contact").size();
  absl::StatusOr<std::vector<SaveResult>> saved =
      client_->CreateRecords("Contact", {StringFields({{"LastName", "Maybe applied"}})}, true);
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(saved.status().message()), HasSubstr("may have been applied"));
  EXPECT_EQ(org_->CallCount("collections_create"), 1);  // sent once, never resent
  EXPECT_EQ(org_->Digest("Contact").size(), before);

  // An update is idempotent: it is retried until it gets through.
  org_->SetFaults(R"({"dropRate":0.5})");
  const std::string id = org_->AdminCreate("Contact", R"({"LastName":"Drop target"})");
  absl::StatusOr<std::vector<SaveResult>> updated =
      client_->UpdateRecords("Contact", {StringFields({{"Id", id}, {"Title", "Survivor"}})}, true);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_TRUE(updated->at(0).success);
}

TEST_F(FaultsTest, UnableToLockRowIsRetriedThenReported) {
  org_->SetFaults(R"({"lockRate":1})");
  const size_t before = org_->Digest("Contact").size();
  absl::StatusOr<std::vector<SaveResult>> saved = client_->CreateRecords(
      "Contact", {StringFields({{"LastName", "Locked"}}), StringFields({{"LastName", "Out"}})},
      true);
  ASSERT_TRUE(saved.ok()) << saved.status();
  ASSERT_EQ(saved->size(), 2u);
  absl::Status status = SaveResultStatus(saved->at(0));
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  ApiError error = ExpectApiError(status);
  EXPECT_EQ(error.error_code, "UNABLE_TO_LOCK_ROW");
  EXPECT_THAT(error.message, HasSubstr("unable to obtain exclusive access to this record"));
  EXPECT_EQ(org_->CallCount("collections_create"), kAttempts);
  EXPECT_EQ(org_->Digest("Contact").size(), before);

  // The single-record route answers the lock error as a 400 of its own.
  Reply reply = org_->Data("POST", "/sobjects/Contact", R"({"LastName":"Locked"})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr(R"("errorCode":"UNABLE_TO_LOCK_ROW")"));

  // Once the lock clears, the same write goes through.
  org_->ClearFaults();
  saved = client_->CreateRecords("Contact", {StringFields({{"LastName", "Unlocked"}})}, true);
  ASSERT_TRUE(saved.ok());
  EXPECT_TRUE(saved->at(0).success);
}

TEST_F(FaultsTest, LatencyIsVisibleInElapsedTime) {
  core::Clock& clock = core::SystemClock::Instance();
  auto start = clock.Monotonic();
  ASSERT_TRUE(client_->Query("SELECT Id FROM Account LIMIT 1").ok());
  const auto fast = clock.Monotonic() - start;

  org_->SetFaults(R"({"latencyMs":300})");
  start = clock.Monotonic();
  ASSERT_TRUE(client_->Query("SELECT Id FROM Account LIMIT 1").ok());
  const auto slow = clock.Monotonic() - start;
  EXPECT_GE(slow, std::chrono::milliseconds(300));
  EXPECT_LT(fast, std::chrono::milliseconds(300));
  EXPECT_LT(slow, std::chrono::seconds(3));
}

}  // namespace
}  // namespace sfbridge::salesforce::integration
