#pragma once

// A Kafka consumer in a consumer group. Offsets are committed only when the caller says so
// (enable.auto.commit=false): the writer stores its real offsets in Postgres with the rows and
// commits to Kafka only for lag tooling. Not thread-safe: one owner thread.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/kafka/kafka_handles.h"

namespace sfbridge::kafka {

struct ConsumerOptions {
  std::string brokers;
  std::string group_id;
  std::string client_id = "sfbridge";
  std::string auto_offset_reset = "earliest";
  std::map<std::string, std::string> extra;  // other librdkafka settings, applied last
};

// One consumed message. Owns its payload.
class Message {
 public:
  explicit Message(KafkaMessagePtr m) : m_(std::move(m)) {}
  std::string topic() const { return rd_kafka_topic_name(m_->rkt); }
  int32_t partition() const { return m_->partition; }
  int64_t offset() const { return m_->offset; }
  std::string_view key() const {
    return {static_cast<const char*>(m_->key), m_->key ? m_->key_len : 0};
  }
  std::string_view value() const {
    return {static_cast<const char*>(m_->payload), m_->payload ? m_->len : 0};
  }

 private:
  KafkaMessagePtr m_;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

class Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options);
  ~Consumer();  // leaves the group cleanly

  absl::Status Subscribe(const std::vector<std::string>& topics);
  // The next message, or nullopt when none arrived within `timeout_ms`. Partition EOF and other
  // informational events are skipped; real errors come back as statuses.
  absl::StatusOr<std::optional<Message>> Poll(int timeout_ms);
  // Commits "next offset to read" per partition, synchronously.
  absl::Status Commit(const std::map<TopicPartition, int64_t>& next_offsets);
  // The partitions currently assigned to this member.
  absl::StatusOr<std::vector<TopicPartition>> Assignment();
  // Leaves the group. Called by the destructor when not called before.
  void Close();

 private:
  explicit Consumer(KafkaHandle handle) : handle_(std::move(handle)) {}
  KafkaHandle handle_;
  bool closed_ = false;
};

}  // namespace sfbridge::kafka
