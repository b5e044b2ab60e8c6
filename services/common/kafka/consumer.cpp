#include "common/kafka/consumer.h"

#include "common/core/strings.h"

namespace sfbridge::kafka {

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options) {
  if (options.group_id.empty()) return absl::InvalidArgumentError("kafka consumer: no group id");
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", options.brokers}, {"group.id", options.group_id},
      {"client.id", options.client_id},       {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},  {"auto.offset.reset", options.auto_offset_reset},
      {"enable.partition.eof", "false"},
  };
  for (const auto& [k, v] : options.extra) settings[k] = v;
  absl::StatusOr<KafkaConf> conf = MakeConf(settings);
  if (!conf.ok()) return conf.status();
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err);
  if (!rk) return absl::InvalidArgumentError(core::StrCat("kafka consumer: ", err));
  conf->release();
  rd_kafka_poll_set_consumer(rk);
  return std::unique_ptr<Consumer>(new Consumer(KafkaHandle(rk)));
}

Consumer::~Consumer() { Close(); }

void Consumer::Close() {
  if (closed_ || !handle_) return;
  closed_ = true;
  rd_kafka_consumer_close(handle_.get());
}

absl::Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& t : topics) {
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  return StatusFromKafkaError(rd_kafka_subscribe(handle_.get(), list.get()), "subscribe");
}

absl::StatusOr<std::optional<Message>> Consumer::Poll(int timeout_ms) {
  KafkaMessagePtr m(rd_kafka_consumer_poll(handle_.get(), timeout_ms));
  if (!m) return std::nullopt;
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string where =
        m->rkt ? core::StrCat("consume ", rd_kafka_topic_name(m->rkt), "/", m->partition)
               : std::string("consume");
    return StatusFromKafkaError(m->err, where);
  }
  return Message(std::move(m));
}

absl::Status Consumer::Commit(const std::map<TopicPartition, int64_t>& next_offsets) {
  if (next_offsets.empty()) return absl::OkStatus();
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [tp, offset] : next_offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  }
  return StatusFromKafkaError(rd_kafka_commit(handle_.get(), list.get(), /*async=*/0), "commit");
}

absl::StatusOr<std::vector<TopicPartition>> Consumer::Assignment() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  absl::Status s = StatusFromKafkaError(rd_kafka_assignment(handle_.get(), &raw), "assignment");
  KafkaPartitionList list(raw);
  if (!s.ok()) return s;
  std::vector<TopicPartition> out;
  for (int i = 0; list && i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

}  // namespace sfbridge::kafka
