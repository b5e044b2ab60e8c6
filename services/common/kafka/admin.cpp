#include "common/kafka/admin.h"

#include <algorithm>

#include "common/core/strings.h"
#include "common/kafka/kafka_handles.h"

namespace sfbridge::kafka {

absl::Status EnsureTopic(const std::string& brokers, const TopicSpec& spec, int timeout_ms) {
  absl::StatusOr<KafkaConf> conf = MakeConf({{"bootstrap.servers", brokers}});
  if (!conf.ok()) return conf.status();
  char err[512];
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err));
  if (!rk) return absl::InvalidArgumentError(core::StrCat("kafka admin: ", err));
  conf->release();

  std::unique_ptr<rd_kafka_NewTopic_t, KafkaDeleter> topic(rd_kafka_NewTopic_new(
      spec.name.c_str(), spec.partitions, spec.replication_factor, err, sizeof err));
  if (!topic) return absl::InvalidArgumentError(core::StrCat("topic ", spec.name, ": ", err));
  for (const auto& [k, v] : spec.configs) {
    rd_kafka_NewTopic_set_config(topic.get(), k.c_str(), v.c_str());
  }
  std::unique_ptr<rd_kafka_AdminOptions_t, KafkaDeleter> options(
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, err, sizeof err);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, err, sizeof err);

  KafkaQueue queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(rk.get(), topics, 1, options.get(), queue.get());
  KafkaEvent event(rd_kafka_queue_poll(queue.get(), timeout_ms + 2000));
  if (!event) {
    return absl::UnavailableError(
        core::StrCat("create topic ", spec.name, ": no answer from ", brokers));
  }
  if (rd_kafka_event_error(event.get())) {
    return StatusFromKafkaError(rd_kafka_event_error(event.get()),
                                core::StrCat("create topic ", spec.name));
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    return StatusFromKafkaError(
        e, core::StrCat("create topic ", spec.name, msg ? ": " : "", msg ? msg : ""));
  }
  return absl::OkStatus();
}

namespace {

// A client handle for the metadata and offset queries below; a connection attempt to a broker
// gives up after 5 s.
absl::StatusOr<KafkaHandle> QueryHandle(const std::string& brokers) {
  absl::StatusOr<KafkaConf> conf =
      MakeConf({{"bootstrap.servers", brokers}, {"socket.connection.setup.timeout.ms", "5000"}});
  if (!conf.ok()) return conf.status();
  char err[512];
  KafkaHandle rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err));
  if (!rk) return absl::InvalidArgumentError(core::StrCat("kafka: ", err));
  conf->release();
  return rk;
}

absl::Status NoBrokerAnswered(const std::string& brokers, int timeout_ms) {
  return absl::UnavailableError(
      core::StrCat("no Kafka broker answered at ", brokers, " within ", timeout_ms, " ms"));
}

}  // namespace

absl::StatusOr<ClusterInfo> DescribeCluster(const std::string& brokers, int timeout_ms) {
  absl::StatusOr<KafkaHandle> rk = QueryHandle(brokers);
  if (!rk.ok()) return rk.status();
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk->get(), 1, nullptr, &md, timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT) {
      return NoBrokerAnswered(brokers, timeout_ms);
    }
    return StatusFromKafkaError(e, core::StrCat("kafka at ", brokers));
  }
  ClusterInfo info;
  info.brokers = md->broker_cnt;
  info.topics = md->topic_cnt;
  if (md->broker_cnt > 0) {
    info.first_broker = core::StrCat(md->brokers[0].host, ":", md->brokers[0].port);
  }
  rd_kafka_metadata_destroy(md);
  return info;
}

absl::StatusOr<std::vector<PartitionWatermarks>> TopicWatermarks(const std::string& brokers,
                                                                 const std::string& topic,
                                                                 int timeout_ms) {
  absl::StatusOr<KafkaHandle> rk = QueryHandle(brokers);
  if (!rk.ok()) return rk.status();
  // Metadata of all topics: asking for one by name may make a broker create it.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk->get(), 1, nullptr, &md, timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT ||
        e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      return NoBrokerAnswered(brokers, timeout_ms);
    }
    return StatusFromKafkaError(e, core::StrCat("metadata of ", topic));
  }
  std::vector<int> partitions;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic != md->topics[i].topic) continue;
    topic_err = md->topics[i].err;
    for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
      partitions.push_back(md->topics[i].partitions[p].id);
    }
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || partitions.empty()) {
    return absl::NotFoundError(core::StrCat("topic ", topic, " does not exist"));
  }
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return StatusFromKafkaError(topic_err, core::StrCat("metadata of ", topic));
  }
  std::sort(partitions.begin(), partitions.end());
  std::vector<PartitionWatermarks> out;
  for (int p : partitions) {
    PartitionWatermarks w{.partition = p};
    e = rd_kafka_query_watermark_offsets(rk->get(), topic.c_str(), p, &w.low, &w.high, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return StatusFromKafkaError(e, core::StrCat("watermarks of ", topic, "[", p, "]"));
    }
    out.push_back(w);
  }
  return out;
}

}  // namespace sfbridge::kafka
