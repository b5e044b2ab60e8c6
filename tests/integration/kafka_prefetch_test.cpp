// Consuming a backlog through a small prefetch queue, at a steady pace the way the writer does:
// with the refill on, messages keep coming; without it, librdkafka 2.0 leaves the queue empty
// until its broker thread's next 1 s tick (what ConsumerOptions::refill_check is there for).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "tests/harness/test_env.h"

namespace sfbridge {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kMessages = 3'000;
constexpr int kQueued = 500;  // queued.min.messages: the queue is full after a few fetches

struct Drain {
  double seconds = 0;
  int long_waits = 0;  // between two messages, over 400 ms
  milliseconds longest_wait{0};
  int64_t refill_rounds = 0;       // after the last message
  int64_t refill_rounds_idle = 0;  // 300 ms later, nothing left to read
  bool in_order = true;            // every partition's offsets 0, 1, 2, ... and no other
};

// Reads every message of `topic`, taking ~0.1 ms per message (a full queue lasts ~50 ms).
Drain ReadAll(const std::string& topic, milliseconds refill_check) {
  auto consumer = kafka::Consumer::Create({
      .brokers = testing::KafkaBrokers(),
      .group_id = testing::UniqueName("sfbridge_test_prefetch"),
      .extra = {{"queued.min.messages", std::to_string(kQueued)},
                {"max.partition.fetch.bytes", "16384"}},
      .refill_check = refill_check,
  });
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  if (!consumer.ok()) return {};
  EXPECT_TRUE((*consumer)->Subscribe({topic}).ok());
  Drain d;
  int read = 0;
  std::map<int32_t, int64_t> next_offset;
  Clock::time_point start, last;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (read < kMessages && Clock::now() < deadline) {
    auto m = (*consumer)->Poll(100);
    if (!m.ok() || !m->has_value()) continue;
    const auto now = Clock::now();
    if (read == 0) {
      start = now;
    } else {
      const auto wait = std::chrono::duration_cast<milliseconds>(now - last);
      d.longest_wait = std::max(d.longest_wait, wait);
      if (wait > milliseconds(400)) ++d.long_waits;
    }
    if ((*m)->offset() != next_offset[(*m)->partition()]++) d.in_order = false;
    ++read;
    if (read % 10 == 0) std::this_thread::sleep_for(std::chrono::microseconds(1'000));
    last = Clock::now();
  }
  EXPECT_EQ(read, kMessages);
  d.seconds = std::chrono::duration<double>(last - start).count();
  d.refill_rounds = (*consumer)->RefillRounds();
  std::this_thread::sleep_for(milliseconds(300));
  d.refill_rounds_idle = (*consumer)->RefillRounds();
  return d;
}

TEST(KafkaPrefetchTest, RefillKeepsABacklogFlowingThroughASmallQueue) {
  const std::string brokers = testing::KafkaBrokers();
  const std::string topic = testing::UniqueName("sfbridge_test_prefetch");
  ASSERT_TRUE(kafka::EnsureTopic(brokers, {.name = topic, .partitions = 2}).ok());
  // Small record batches, so that fetches (16 KiB per partition) fill the queue a bit at a time.
  auto producer = kafka::Producer::Create({.brokers = brokers, .extra = {{"batch.size", "4096"}}},
                                          [](const kafka::DeliveryReport&) {});
  ASSERT_TRUE(producer.ok());
  const std::string value(100, 'x');
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE((*producer)->Produce(topic, std::to_string(i), value, i).ok());
  }
  ASSERT_TRUE((*producer)->Flush(30'000).ok());

  const Drain with = ReadAll(topic, milliseconds(10));
  const Drain without = ReadAll(topic, milliseconds(0));
  std::printf("refill on:  %.2f s, longest wait %lld ms, %lld refill rounds\n", with.seconds,
              static_cast<long long>(with.longest_wait.count()),
              static_cast<long long>(with.refill_rounds));
  std::printf("refill off: %.2f s, longest wait %lld ms, %d waits over 400 ms\n", without.seconds,
              static_cast<long long>(without.longest_wait.count()), without.long_waits);

  EXPECT_TRUE(with.in_order) << "a refill never changes what is delivered";
  EXPECT_TRUE(without.in_order);
  EXPECT_GT(with.refill_rounds, 0);
  EXPECT_EQ(with.refill_rounds_idle, with.refill_rounds) << "nothing is sent once caught up";
  EXPECT_EQ(without.refill_rounds, 0);
  // Pacing alone takes ~0.3 s; each wait for a fetch round trip adds a few ms. One long wait is
  // allowed for a machine that stalls the test or the broker now and then.
  EXPECT_LE(with.long_waits, 1);
  EXPECT_LT(with.seconds, without.seconds);
  if (rd_kafka_version() < 0x020100ff) {
    // What the refill works around: the queue empties every ~50 ms and is not refilled until the
    // broker thread's timer, up to a second later. Newer librdkafka has fetch.queue.backoff.ms.
    EXPECT_GE(without.long_waits, 1);
  }
}

}  // namespace
}  // namespace sfbridge
