#pragma once

// What the tests of the running writer share: an org's topics and the writer binary's
// environment, producing to the test Kafka and reading back its end offsets, comparing a table with
// the versions expected, scraping an admin server, and reading a process's memory.

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/control/names.h"
#include "common/core/strings.h"
#include "common/kafka/admin.h"
#include "common/kafka/producer.h"
#include "tests/harness/test_env.h"

namespace sfbridge::writer::testing_support {

// Creates `org_id`'s records topic with `partitions` partitions and its compacted schemas topic
// on the test Kafka (topics that exist already are kept).
inline absl::Status CreateOrgTopics(const std::string& org_id, int partitions) {
  absl::Status records = kafka::EnsureTopic(
      testing::KafkaBrokers(), {.name = control::RecordsTopic(org_id), .partitions = partitions});
  if (!records.ok()) return records;
  return kafka::EnsureTopic(testing::KafkaBrokers(), {.name = control::SchemasTopic(org_id),
                                                      .partitions = 1,
                                                      .configs = {{"cleanup.policy", "compact"}}});
}

// The environment of an sfbridge-writer binary for `org_id`: `postgres_url`, the test Kafka, its
// gRPC server on a port of 127.0.0.1 the system picks, its metrics on `metrics_port` (0: any).
inline std::map<std::string, std::string> WriterEnv(const std::string& postgres_url,
                                                    const std::string& org_id, int metrics_port) {
  return {
      {"SFBRIDGE_POSTGRES_URL", postgres_url},
      {"SFBRIDGE_KAFKA_BROKERS", testing::KafkaBrokers()},
      {"SFBRIDGE_ORG_ID", org_id},
      {"SFBRIDGE_GRPC_PORT", "0"},
      {"SFBRIDGE_GRPC_HOST", "127.0.0.1"},
      {"SFBRIDGE_METRICS_PORT", std::to_string(metrics_port)},
      {"SFBRIDGE_METRICS_HOST", "127.0.0.1"},
  };
}

// Sends messages (key, value) and waits for every acknowledgement; returns their offsets in
// order.
inline std::vector<int64_t> ProduceAll(
    const std::string& topic, const std::vector<std::pair<std::string, std::string>>& messages) {
  std::vector<int64_t> offsets(messages.size(), -1);
  int failed = 0;
  auto producer =
      kafka::Producer::Create({.brokers = testing::KafkaBrokers(), .extra = {{"linger.ms", "20"}}},
                              [&](const kafka::DeliveryReport& r) {
                                if (r.status.ok()) {
                                  offsets[r.tag] = r.offset;
                                } else {
                                  ++failed;
                                }
                              });
  EXPECT_TRUE(producer.ok()) << producer.status();
  if (!producer.ok()) return offsets;
  for (size_t i = 0; i < messages.size(); ++i) {
    while (true) {
      absl::Status s = (*producer)->Produce(topic, messages[i].first, messages[i].second, i);
      if (s.code() == absl::StatusCode::kResourceExhausted) {
        (*producer)->Poll(50);
        continue;
      }
      EXPECT_TRUE(s.ok()) << s;
      break;
    }
  }
  EXPECT_TRUE((*producer)->Flush(120'000).ok());
  EXPECT_EQ(failed, 0);
  return offsets;
}

// partition -> high watermark of `topic`, asked from the broker.
inline std::map<int32_t, int64_t> EndOffsets(const std::string& topic, int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", testing::KafkaBrokers().c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  std::map<int32_t, int64_t> out;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10'000);
    EXPECT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
    out[p] = high;
  }
  rd_kafka_destroy(rk);
  return out;
}

// partition -> offset committed to Kafka by `group` on `topic` (absent: none committed).
inline std::map<int32_t, int64_t> KafkaCommittedOffsets(const std::string& group,
                                                        const std::string& topic, int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", testing::KafkaBrokers().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  std::map<int32_t, int64_t> out;
  rd_kafka_resp_err_t e = rd_kafka_committed(rk, list, 10'000);
  EXPECT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].offset >= 0) out[list->elems[i].partition] = list->elems[i].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return out;
}

// "" when `stored` (id -> modstamp) equals `expected`; otherwise counts and one example.
inline std::string Differences(const std::map<std::string, int64_t>& expected,
                               const std::map<std::string, int64_t>& stored) {
  int missing = 0, extra = 0, stale = 0;
  std::string example;
  for (const auto& [id, stamp] : expected) {
    auto it = stored.find(id);
    if (it == stored.end()) {
      if (++missing == 1 && example.empty()) example = core::StrCat("missing ", id);
    } else if (it->second != stamp) {
      if (++stale == 1 && example.empty()) {
        example = core::StrCat("stale ", id, " ", it->second, " != ", stamp);
      }
    }
  }
  for (const auto& [id, s] : stored) {
    if (!expected.contains(id) && ++extra == 1 && example.empty()) {
      example = core::StrCat("extra ", id);
    }
  }
  if (missing + extra + stale == 0) return "";
  return core::StrCat("missing=", missing, " extra=", extra, " stale=", stale, " (", example, ")");
}

// The value of the sample `series` (name with its labels exactly as rendered, e.g.
// `sfbridge_writer_parked_total` or `x{a="b"}`) in a Prometheus text page; nullopt when absent.
inline std::optional<double> Sample(const std::string& page, const std::string& series) {
  size_t at = 0;
  while ((at = page.find(series, at)) != std::string::npos) {
    const bool line_start = at == 0 || page[at - 1] == '\n';
    const size_t after = at + series.size();
    if (line_start && after < page.size() && page[after] == ' ') {
      return std::stod(page.substr(after + 1, page.find('\n', after) - after - 1));
    }
    at = after;
  }
  return std::nullopt;
}

// A field of /proc/<pid>/status in kB ("VmRSS", "VmHWM"); -1 when it cannot be read.
inline int64_t ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in(core::StrCat("/proc/", static_cast<int64_t>(pid), "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace sfbridge::writer::testing_support
