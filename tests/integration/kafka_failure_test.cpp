// What the Kafka wrappers say when no broker is there.

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sfbridge
