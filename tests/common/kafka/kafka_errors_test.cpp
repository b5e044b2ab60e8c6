#include <gtest/gtest.h>

#include "common/core/status.h"
#include "common/kafka/kafka_handles.h"

namespace sfbridge::kafka {
namespace {

TEST(KafkaErrorsTest, TransportFailuresAreRetryableAndConfigErrorsAreNot) {
  EXPECT_TRUE(StatusFromKafkaError(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
  for (auto err : {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                   RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                   RD_KAFKA_RESP_ERR__QUEUE_FULL}) {
    EXPECT_TRUE(core::IsRetryable(StatusFromKafkaError(err, "x"))) << rd_kafka_err2name(err);
  }
  for (auto err : {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR__INVALID_ARG,
                   RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED}) {
    EXPECT_FALSE(core::IsRetryable(StatusFromKafkaError(err, "x"))) << rd_kafka_err2name(err);
  }
}

TEST(KafkaErrorsTest, MessageNamesContextAndError) {
  absl::Status s = StatusFromKafkaError(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "produce to t");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("produce to t: "), std::string::npos);
  EXPECT_NE(std::string(s.message()).find("MSG_SIZE_TOO_LARGE"), std::string::npos);
}

TEST(KafkaErrorsTest, UnknownSettingIsRefusedByName) {
  auto conf = MakeConf({{"bootstrap.servers", "x:1"}, {"no.such.setting", "1"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(std::string(conf.status().message()).find("no.such.setting"), std::string::npos);
}

}  // namespace
}  // namespace sfbridge::kafka
