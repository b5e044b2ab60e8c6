// RecordChange messages through a real broker: an idempotent producer (acks=all) and two
// consumers of one group. Every message must arrive exactly once, and the versions of each
// record in the order they were produced (key = record Id keeps a record on one partition).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "sfbridge/v1/record.pb.h"
#include "tests/harness/test_env.h"

namespace sfbridge {
namespace {

constexpr int kRecords = 400;
constexpr int kVersions = 10;
constexpr int kPartitions = 3;

std::string RecordId(int i) {
  char buf[19];
  snprintf(buf, sizeof buf, "003000000000%06d", i);  // 18 chars, Contact key prefix
  return buf;
}

struct Received {
  int32_t partition;
  int64_t offset;
  std::string record_id;
  int64_t modstamp;
  int consumer;
};

TEST(KafkaRecordChangeTest, EveryMessageArrivesExactlyOnceInKeyOrderAcrossTwoConsumers) {
  const std::string brokers = testing::KafkaBrokers();
  const std::string topic = testing::UniqueName("sfbridge_test_records");
  ASSERT_TRUE(kafka::EnsureTopic(brokers, {.name = topic, .partitions = kPartitions}).ok());
  // Creating it again is fine.
  ASSERT_TRUE(kafka::EnsureTopic(brokers, {.name = topic, .partitions = kPartitions}).ok());

  const std::string group = testing::UniqueName("sfbridge_test_group");
  std::vector<std::unique_ptr<kafka::Consumer>> consumers;
  for (int c = 0; c < 2; ++c) {
    auto consumer = kafka::Consumer::Create(
        {.brokers = brokers, .group_id = group, .extra = {{"session.timeout.ms", "10000"}}});
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    ASSERT_TRUE((*consumer)->Subscribe({topic}).ok());
    consumers.push_back(std::move(*consumer));
  }

  std::mutex mu;
  std::vector<Received> received;
  std::atomic<bool> stop{false};
  std::atomic<int> assigned[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      kafka::Consumer& consumer = *consumers[c];
      while (!stop) {
        auto m = consumer.Poll(100);
        if (auto a = consumer.Assignment(); a.ok()) assigned[c] = static_cast<int>(a->size());
        if (!m.ok() || !m->has_value()) continue;
        v1::RecordChange change;
        ASSERT_TRUE(change.ParseFromArray((*m)->value().data(), (*m)->value().size()));
        EXPECT_EQ((*m)->key(), change.record_id());
        std::lock_guard lock(mu);
        received.push_back({(*m)->partition(), (*m)->offset(), change.record_id(),
                            change.system_modstamp_ms(), c});
      }
    });
  }
  // Both members must hold partitions before anything is produced, so both really consume.
  // Until the rebalance has settled, one member may still report what it held before while the
  // other reports its new share (a sum above kPartitions): wait for the split itself.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((assigned[0] == 0 || assigned[1] == 0 || assigned[0] + assigned[1] != kPartitions) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(assigned[0] + assigned[1], kPartitions) << "the group never split the partitions";
  ASSERT_GT(assigned[0], 0);
  ASSERT_GT(assigned[1], 0);

  std::map<uint64_t, kafka::DeliveryReport> reports;
  auto producer = kafka::Producer::Create(
      {.brokers = brokers}, [&](const kafka::DeliveryReport& r) { reports[r.tag] = r; });
  ASSERT_TRUE(producer.ok()) << producer.status();
  uint64_t tag = 0;
  for (int v = 0; v < kVersions; ++v) {
    for (int r = 0; r < kRecords; ++r) {
      v1::RecordChange change;
      change.set_org_id("00D000000000001AAA");
      change.set_object_name("Contact");
      change.set_record_id(RecordId(r));
      change.set_system_modstamp_ms(1'700'000'000'000 + v);
      change.set_source(v == 0 ? v1::CHANGE_SOURCE_BACKFILL : v1::CHANGE_SOURCE_POLL);
      (*change.mutable_fields())["Amount__c"].set_number("12345678901234567.89");
      (*change.mutable_fields())["Email"].set_null(true);
      std::string value = change.SerializeAsString();
      absl::Status s;
      while ((s = (*producer)->Produce(topic, change.record_id(), value, tag)).code() ==
             absl::StatusCode::kResourceExhausted) {
        (*producer)->Poll(10);
      }
      ASSERT_TRUE(s.ok()) << s;
      ++tag;
    }
  }
  ASSERT_TRUE((*producer)->Flush(30000).ok());
  ASSERT_EQ(reports.size(), tag);
  for (const auto& [t, r] : reports) ASSERT_TRUE(r.status.ok()) << r.status;

  const size_t expected = kRecords * kVersions;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (received.size() >= expected) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // anything extra would show now
  stop = true;
  for (auto& t : threads) t.join();

  ASSERT_EQ(received.size(), expected);
  std::set<std::pair<int32_t, int64_t>> positions;
  std::map<std::string, int32_t> partition_of;
  std::map<std::string, int64_t> last_version;
  int per_consumer[2] = {0, 0};
  for (const Received& r : received) {
    EXPECT_TRUE(positions.insert({r.partition, r.offset}).second)
        << "duplicate at " << r.partition << "/" << r.offset;
    auto [it, fresh] = partition_of.emplace(r.record_id, r.partition);
    EXPECT_EQ(it->second, r.partition) << r.record_id << " seen on two partitions";
    auto last = last_version.find(r.record_id);
    if (last != last_version.end()) {
      EXPECT_EQ(r.modstamp, last->second + 1) << r.record_id << " out of order";
    } else {
      EXPECT_EQ(r.modstamp, 1'700'000'000'000) << r.record_id << " first version missing";
    }
    last_version[r.record_id] = r.modstamp;
    ++per_consumer[r.consumer];
  }
  EXPECT_EQ(last_version.size(), static_cast<size_t>(kRecords));
  for (const auto& [id, v] : last_version) EXPECT_EQ(v, 1'700'000'000'000 + kVersions - 1);
  EXPECT_GT(per_consumer[0], 0);
  EXPECT_GT(per_consumer[1], 0);
  // Delivery reports and consumed offsets agree.
  std::set<std::pair<int32_t, int64_t>> delivered;
  for (const auto& [t, r] : reports) delivered.insert({r.partition, r.offset});
  EXPECT_EQ(delivered, positions);
}

TEST(KafkaRecordChangeTest, AFreshTopicLoadedFirstTakesItsFirstMessagesAtOnce) {
  // As the fetcher goes: a producer that already sent to one topic (the schemas), then a topic
  // it has not seen yet (the records, just created).
  const std::string brokers = testing::KafkaBrokers();
  const std::string schemas = testing::UniqueName("sfbridge_test_load_schemas");
  const std::string topic = testing::UniqueName("sfbridge_test_load");
  ASSERT_TRUE(kafka::EnsureTopic(brokers, {.name = schemas, .partitions = 1}).ok());
  ASSERT_TRUE(kafka::EnsureTopic(brokers, {.name = topic, .partitions = 6}).ok());
  std::vector<kafka::DeliveryReport> reports;
  auto producer = kafka::Producer::Create(
      {.brokers = brokers}, [&](const kafka::DeliveryReport& r) { reports.push_back(r); });
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Produce(schemas, "Contact", "schema", 0).ok());
  ASSERT_TRUE((*producer)->Flush(30'000).ok());
  reports.clear();
  ASSERT_TRUE((*producer)->LoadTopic(topic, 10'000).ok());

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 60; ++i) ASSERT_TRUE((*producer)->Produce(topic, RecordId(i), "v", i).ok());
  ASSERT_TRUE((*producer)->Flush(30'000).ok());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(reports.size(), 60u);
  std::set<int32_t> partitions;
  for (const auto& r : reports) {
    EXPECT_TRUE(r.status.ok()) << r.status;
    partitions.insert(r.partition);
  }
  EXPECT_EQ(partitions.size(), 6u);
  // Not loaded first, they wait for librdkafka's next metadata scan: up to a second.
  EXPECT_LT(took, std::chrono::milliseconds(600));
}

TEST(KafkaRecordChangeTest, CommittedOffsetsAreWhereANewMemberResumes) {
  const std::string brokers = testing::KafkaBrokers();
  const std::string topic = testing::UniqueName("sfbridge_test_commit");
  ASSERT_TRUE(kafka::EnsureTopic(brokers, {.name = topic, .partitions = 1}).ok());
  int delivered = 0;
  auto producer =
      kafka::Producer::Create({.brokers = brokers}, [&](const kafka::DeliveryReport& r) {
        if (r.status.ok()) ++delivered;
      });
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*producer)->Produce(topic, "k", std::to_string(i), i).ok());
  }
  ASSERT_TRUE((*producer)->Flush(30000).ok());
  ASSERT_EQ(delivered, 10);

  const std::string group = testing::UniqueName("sfbridge_test_group");
  auto read = [&](int count) {
    auto consumer = kafka::Consumer::Create({.brokers = brokers, .group_id = group});
    EXPECT_TRUE(consumer.ok());
    EXPECT_TRUE((*consumer)->Subscribe({topic}).ok());
    std::vector<std::string> values;
    int64_t next = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (static_cast<int>(values.size()) < count && std::chrono::steady_clock::now() < deadline) {
      auto m = (*consumer)->Poll(200);
      if (!m.ok() || !m->has_value()) continue;
      values.emplace_back((*m)->value());
      next = (*m)->offset() + 1;
    }
    EXPECT_TRUE((*consumer)->Commit({{{topic, 0}, next}}).ok());
    return values;
  };
  EXPECT_EQ(read(4), (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(read(6), (std::vector<std::string>{"4", "5", "6", "7", "8", "9"}));
}

}  // namespace
}  // namespace sfbridge
