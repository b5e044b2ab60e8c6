#include "common/kafka/consumer.h"

#include <string_view>

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
  std::unique_ptr<Hooks> hooks;
  if (options.on_assign || options.on_revoke) {
    hooks = std::make_unique<Hooks>(Hooks{options.on_assign, options.on_revoke});
    rd_kafka_conf_set_opaque(conf->get(), hooks.get());
    rd_kafka_conf_set_rebalance_cb(conf->get(), &Consumer::OnRebalance);
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err);
  if (!rk) return absl::InvalidArgumentError(core::StrCat("kafka consumer: ", err));
  conf->release();
  rd_kafka_poll_set_consumer(rk);
  return std::unique_ptr<Consumer>(new Consumer(KafkaHandle(rk), std::move(hooks)));
}

Consumer::~Consumer() { Close(); }

namespace {

std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; list && i < list->cnt; ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

}  // namespace

void Consumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* hooks = static_cast<Hooks*>(opaque);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (hooks != nullptr && hooks->on_assign) {
      std::map<TopicPartition, int64_t> start = hooks->on_assign(ToVector(partitions));
      for (int i = 0; i < partitions->cnt; ++i) {
        auto it = start.find({partitions->elems[i].topic, partitions->elems[i].partition});
        if (it != start.end()) partitions->elems[i].offset = it->second;
      }
    }
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions);
      if (e) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, partitions);
    }
    return;
  }
  if (hooks != nullptr && hooks->on_revoke) hooks->on_revoke(ToVector(partitions));
  if (cooperative) {
    rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions);
    if (e) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

absl::StatusOr<int64_t> Consumer::HighWatermark(const TopicPartition& tp) {
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err =
      rd_kafka_get_watermark_offsets(handle_.get(), tp.topic.c_str(), tp.partition, &low, &high);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusFromKafkaError(err, "watermarks");
  if (high < 0) return absl::UnavailableError("no watermark fetched yet");
  return high;
}

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
