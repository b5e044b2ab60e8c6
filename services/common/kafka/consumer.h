#pragma once

// A Kafka consumer in a consumer group. Offsets are committed only when the caller says so
// (enable.auto.commit=false): the writer stores its real offsets in Postgres with the rows and
// commits to Kafka only for lag tooling. Not thread-safe: one owner thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/kafka/kafka_handles.h"

namespace sfbridge::kafka {

struct TopicPartition;

// Rebalance hooks, called on the thread that calls Poll(), from inside Poll().
// on_assign: the partitions just assigned; returns the offset to start each at (partitions left
// out start from the committed offset, or auto_offset_reset when none). kOffsetBeginning and
// kOffsetEnd are accepted. on_revoke: the partitions being taken away (nothing of theirs is
// delivered after it returns).
inline constexpr int64_t kOffsetBeginning = -2;  // RD_KAFKA_OFFSET_BEGINNING
inline constexpr int64_t kOffsetEnd = -1;        // RD_KAFKA_OFFSET_END
using AssignHook =
    std::function<std::map<TopicPartition, int64_t>(const std::vector<TopicPartition>& assigned)>;
using RevokeHook = std::function<void(const std::vector<TopicPartition>& revoked)>;

struct ConsumerOptions {
  std::string brokers;
  std::string group_id;
  std::string client_id = "sfbridge";
  std::string auto_offset_reset = "earliest";
  std::map<std::string, std::string> extra;  // other librdkafka settings, applied last
  AssignHook on_assign;                      // optional
  RevokeHook on_revoke;                      // optional
  // Keeps prefetching going while a backlog is consumed (see PrefetchRefill in consumer.cpp):
  // checked every refill_check, when the local queue has drained to half of its last peak while
  // the broker holds more for the assigned partitions (or one was never fetched), the partitions'
  // leaders are sent a request, which makes librdkafka 2.0 look at its fetch queue again at once
  // instead of at its next 1 s tick. 0 turns it off.
  std::chrono::milliseconds refill_check{0};
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
  // Rounds of requests PrefetchRefill has sent (0 when it is off).
  int64_t RefillRounds() const;
  // The partition's high watermark (the offset after its last message) as last seen by fetches,
  // without a broker round trip; kUnavailable before the first fetch.
  absl::StatusOr<int64_t> HighWatermark(const TopicPartition& tp);
  // Leaves the group. Called by the destructor when not called before.
  void Close();

 private:
  struct Hooks {
    AssignHook on_assign;
    RevokeHook on_revoke;
  };
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  class PrefetchRefill;
  Consumer(KafkaHandle handle, std::unique_ptr<Hooks> hooks);
  std::unique_ptr<Hooks> hooks_;
  KafkaHandle handle_;
  std::unique_ptr<PrefetchRefill> refill_;  // stopped before the handle closes
  bool closed_ = false;
};

}  // namespace sfbridge::kafka
