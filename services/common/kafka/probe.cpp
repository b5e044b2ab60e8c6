#include "common/kafka/probe.h"

#include <utility>

namespace sfbridge::kafka {

absl::StatusOr<std::unique_ptr<BrokerProbe>> BrokerProbe::Create(const std::string& brokers,
                                                                 const std::string& client_id) {
  absl::StatusOr<KafkaConf> conf = MakeConf({{"bootstrap.servers", brokers},
                                             {"client.id", client_id},
                                             {"reconnect.backoff.max.ms", "2000"}});
  if (!conf.ok()) return conf.status();
  char err[512] = {};
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
  if (rk == nullptr) return absl::InvalidArgumentError(std::string("kafka probe: ") + err);
  (void)conf->release();  // owned by rk now
  return std::unique_ptr<BrokerProbe>(new BrokerProbe(KafkaHandle(rk)));
}

absl::Status BrokerProbe::Check(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(handle_.get(), /*all_topics=*/0, nullptr, &metadata,
                                              static_cast<int>(timeout.count()));
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  return StatusFromKafkaError(err, "kafka metadata");
}

}  // namespace sfbridge::kafka
