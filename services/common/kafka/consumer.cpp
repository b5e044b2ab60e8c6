#include "common/kafka/consumer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string_view>
#include <thread>

#include "common/core/strings.h"

namespace sfbridge::kafka {

// librdkafka 2.0 fetches ahead into the consumer's queue until it holds queued.min.messages or
// queued.max.messages.kbytes. A broker thread that finds the queue over either limit stops
// fetching and sleeps until something wakes it: I/O, a request to send, or its 1 s timer
// (fetch.queue.backoff.ms, which shortens that wait, arrived in 2.1). A consumer that empties the
// queue in less than a second then waits out the rest with nothing to do; with a backlog of
// 600-byte records the writer sat idle about a third of the time.
// This thread reads the queue's length every `every`. Once it has fallen below half of the
// highest it reached since the last nudge (where fetching stopped, whichever limit stopped it)
// while the broker holds more than was fetched (the watermarks of the last fetches are past the
// positions plus what waits here, or a partition was never fetched), it asks the partitions'
// leaders for their end offsets: one ListOffsets request per leader, which wakes that leader's
// broker thread; it looks at the queue again and fetches. Either way the peak then starts again
// from the queue's length, so neither a nudge that fetched nothing (a broker down) nor the look at
// the partitions is repeated until the queue has grown and drained again; a failed request also
// backs the next one off (doubling, up to 5 s). An idle consumer costs one length read per check.
// Nothing here moves an offset or a position.
class Consumer::PrefetchRefill {
 public:
  PrefetchRefill(rd_kafka_t* rk, std::chrono::milliseconds every)
      : rk_(rk), queue_(rd_kafka_queue_get_consumer(rk)), every_(every) {
    thread_ = std::jthread([this](const std::stop_token& stop) { Run(stop); });
  }
  int64_t rounds() const { return rounds_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kMaxBackoff{5'000};
  static constexpr int kRequestTimeoutMs = 200;  // the answer is not needed, only the request

  void Run(const std::stop_token& stop) {
    std::mutex mu;
    std::unique_lock lock(mu);
    std::condition_variable_any sleep;  // only the stop request wakes it early
    int64_t peak = 0;
    std::chrono::milliseconds backoff{0};
    Clock::time_point not_before;
    while (!sleep.wait_for(lock, stop, every_, [] { return false; }) && !stop.stop_requested()) {
      const int64_t queued = static_cast<int64_t>(rd_kafka_queue_length(queue_.get()));
      peak = std::max(peak, queued);
      if (queued * 2 >= peak || Clock::now() < not_before) continue;
      KafkaPartitionList parts = BehindBroker(queued);
      peak = queued;  // from here on, the queue has to grow and drain again
      if (parts == nullptr) continue;
      for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = RD_KAFKA_OFFSET_END;
      const rd_kafka_resp_err_t err =
          rd_kafka_offsets_for_times(rk_, parts.get(), kRequestTimeoutMs);
      rounds_.fetch_add(1);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        backoff = std::chrono::milliseconds(0);
      } else {
        backoff = std::min(kMaxBackoff, std::max(every_, backoff * 2));
        not_before = Clock::now() + backoff;
      }
    }
  }

  // The assigned partitions when the broker holds messages not fetched yet (or a partition was
  // never fetched), `queued` waiting here; otherwise null.
  KafkaPartitionList BehindBroker(int64_t queued) {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(rk_, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return nullptr;
    KafkaPartitionList parts(raw);
    if (parts->cnt == 0 || rd_kafka_position(rk_, parts.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return nullptr;
    }
    bool never_fetched = false;
    int64_t behind = 0;  // what the last fetches saw past each partition's position
    for (int i = 0; i < parts->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = parts->elems[i];
      int64_t low = -1, high = -1;
      if (rd_kafka_get_watermark_offsets(rk_, p.topic, p.partition, &low, &high) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          high < 0) {
        never_fetched = true;
      } else if (p.offset >= 0) {  // else nothing delivered yet: empty, or waiting in the queue
        behind += std::max<int64_t>(0, high - p.offset);
      }
    }
    return never_fetched || behind > queued ? std::move(parts) : nullptr;
  }

  rd_kafka_t* rk_;
  KafkaQueue queue_;
  const std::chrono::milliseconds every_;
  std::atomic<int64_t> rounds_{0};
  std::jthread thread_;  // last: stopped and joined before the members it uses go
};

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options) {
  if (options.group_id.empty()) return absl::InvalidArgumentError("kafka consumer: no group id");
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"client.id", options.client_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", options.auto_offset_reset},
      {"enable.partition.eof", "false"},
      // After a broker restart, back within 2 s (librdkafka's default backs off up to 10 s).
      {"reconnect.backoff.max.ms", "2000"},
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
  auto consumer = std::unique_ptr<Consumer>(new Consumer(KafkaHandle(rk), std::move(hooks)));
  if (options.refill_check.count() > 0) {
    consumer->refill_ = std::make_unique<PrefetchRefill>(rk, options.refill_check);
  }
  return consumer;
}

Consumer::Consumer(KafkaHandle handle, std::unique_ptr<Hooks> hooks)
    : hooks_(std::move(hooks)), handle_(std::move(handle)) {}

Consumer::~Consumer() { Close(); }

int64_t Consumer::RefillRounds() const { return refill_ ? refill_->rounds() : 0; }

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
  refill_.reset();
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
  return ToVector(list.get());
}

}  // namespace sfbridge::kafka
