// What the Kafka wrappers say when no broker is there.

#include <gtest/gtest.h>

#include <chrono>

#include "common/core/status.h"
#include "common/kafka/admin.h"
#include "common/kafka/producer.h"

namespace sfbridge {
namespace {

// Port 1 on loopback: nothing listens there.
constexpr char kDeadBroker[] = "127.0.0.1:1";

TEST(KafkaFailureTest, UndeliverableMessageIsReportedNotLost) {
  std::vector<kafka::DeliveryReport> reports;
  auto producer =
      kafka::Producer::Create({.brokers = kDeadBroker, .extra = {{"message.timeout.ms", "1500"}}},
                              [&](const kafka::DeliveryReport& r) { reports.push_back(r); });
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Produce("t", "k", "v", 42).ok());
  absl::Status flushed = (*producer)->Flush(10000);
  ASSERT_EQ(reports.size(), 1u) << flushed;
  EXPECT_EQ(reports[0].tag, 42u);
  EXPECT_FALSE(reports[0].status.ok());
  EXPECT_TRUE(core::IsRetryable(reports[0].status)) << reports[0].status;
}

TEST(KafkaFailureTest, NoBrokerIsUnavailableWithTheAddress) {
  auto info = kafka::DescribeCluster(kDeadBroker, 1500);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(info.status().message()).find(kDeadBroker), std::string::npos);
}

TEST(KafkaFailureTest, LoadingATopicWithoutABrokerGivesUpAtItsTimeout) {
  auto producer = kafka::Producer::Create({.brokers = kDeadBroker}, nullptr);
  ASSERT_TRUE(producer.ok());
  const auto start = std::chrono::steady_clock::now();
  absl::Status loaded = (*producer)->LoadTopic("t", 1500);
  EXPECT_FALSE(loaded.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace sfbridge
