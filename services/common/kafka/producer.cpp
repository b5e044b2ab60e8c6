#include "common/kafka/producer.h"

#include <chrono>
#include <thread>

#include "common/core/strings.h"

namespace sfbridge::kafka {

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const ProducerOptions& options,
                                                           DeliveryCallback on_delivery) {
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"compression.type", "lz4"},
      // After a broker restart, back within 2 s (librdkafka's default backs off up to 10 s).
      {"reconnect.backoff.max.ms", "2000"},
  };
  for (const auto& [k, v] : options.extra) settings[k] = v;
  absl::StatusOr<KafkaConf> conf = MakeConf(settings);
  if (!conf.ok()) return conf.status();

  auto callback = std::make_unique<DeliveryCallback>(std::move(on_delivery));
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Producer::OnDelivery);
  rd_kafka_conf_set_opaque(conf->get(), callback.get());
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
  if (!rk) return absl::InvalidArgumentError(core::StrCat("kafka producer: ", err));
  conf->release();  // rd_kafka_new took ownership
  return std::unique_ptr<Producer>(new Producer(KafkaHandle(rk), std::move(callback)));
}

Producer::Producer(KafkaHandle handle, std::unique_ptr<DeliveryCallback> on_delivery)
    : on_delivery_(std::move(on_delivery)), handle_(std::move(handle)) {}

Producer::~Producer() {
  if (handle_) rd_kafka_flush(handle_.get(), 10'000);
}

void Producer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* callback = static_cast<DeliveryCallback*>(opaque);
  if (!callback || !*callback) return;
  DeliveryReport report;
  report.tag = reinterpret_cast<uintptr_t>(msg->_private);
  report.topic = rd_kafka_topic_name(msg->rkt);
  report.partition = msg->partition;
  report.offset = msg->offset;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    report.status = StatusFromKafkaError(msg->err, core::StrCat("deliver to ", report.topic));
  }
  (*callback)(report);
}

absl::Status Producer::Produce(const std::string& topic, std::string_view key,
                               std::string_view value, uint64_t tag) {
  rd_kafka_resp_err_t err = rd_kafka_producev(
      handle_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(tag))), RD_KAFKA_V_END);
  // Called for every message: the context is built only for a failure.
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return StatusFromKafkaError(err, core::StrCat("produce to ", topic));
}

absl::Status Producer::LoadTopic(const std::string& topic, int timeout_ms) {
  // The handle stays known to the producer after it is released here (librdkafka counts its
  // references), so the metadata below is what produce calls use.
  KafkaTopic handle(rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr));
  if (!handle) return absl::InvalidArgumentError(core::StrCat("topic ", topic, ": not a name"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  absl::Status last = absl::DeadlineExceededError(core::StrCat("metadata of ", topic));
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return last;
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t e =
        rd_kafka_metadata(handle_.get(), 0, handle.get(), &raw, static_cast<int>(left.count()));
    KafkaMetadata md(raw);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
      const rd_kafka_metadata_topic_t& t = md->topics[0];
      e = t.err;
      bool led = e == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0;
      for (int p = 0; led && p < t.partition_cnt; ++p) led = t.partitions[p].leader >= 0;
      if (led) return absl::OkStatus();
    }
    last = e == RD_KAFKA_RESP_ERR_NO_ERROR
               ? absl::DeadlineExceededError(core::StrCat("topic ", topic, " has no leaders yet"))
               : StatusFromKafkaError(e, core::StrCat("metadata of ", topic));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int Producer::Poll(int timeout_ms) { return rd_kafka_poll(handle_.get(), timeout_ms); }

absl::Status Producer::Flush(int timeout_ms) {
  return StatusFromKafkaError(rd_kafka_flush(handle_.get(), timeout_ms), "flush");
}

int Producer::OutstandingCount() const { return rd_kafka_outq_len(handle_.get()); }

}  // namespace sfbridge::kafka
