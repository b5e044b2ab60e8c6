#pragma once

// Sends batches of Kafka messages and waits until the broker acknowledged every one of them
// (DESIGN.md invariant 4: a cursor moves only after that). Over kafka::Producer (idempotent,
// acks=all). Reports of an earlier batch that timed out are ignored when they arrive late.
//
// Not thread-safe: one owner thread (the producer serves delivery reports on it).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/kafka/producer.h"

namespace sfbridge::fetcher {

struct OutgoingMessage {
  std::string_view key;
  std::string_view value;
};

class AckedProducer {
 public:
  // Errors: the producer's (a setting librdkafka refuses).
  static absl::StatusOr<std::unique_ptr<AckedProducer>> Create(
      const kafka::ProducerOptions& options,
      std::chrono::milliseconds ack_timeout = std::chrono::seconds(60));
  // Flushes what is still queued (up to 10 s) while the report bookkeeping is still alive.
  ~AckedProducer() { producer_.reset(); }
  AckedProducer(const AckedProducer&) = delete;
  AckedProducer& operator=(const AckedProducer&) = delete;

  // Produces every message to `topic` and waits for their delivery reports. OK only when all
  // were acknowledged; otherwise the first failure (kDeadlineExceeded when reports did not all
  // arrive within the ack timeout), and any subset may have been written.
  absl::Status SendAll(const std::string& topic, const std::vector<OutgoingMessage>& messages);

 private:
  AckedProducer() = default;
  void OnDelivery(const kafka::DeliveryReport& report);

  std::unique_ptr<kafka::Producer> producer_;
  std::chrono::milliseconds ack_timeout_{60'000};
  uint64_t next_tag_ = 1;
  uint64_t batch_first_tag_ = 1;  // reports with a smaller tag belong to an abandoned batch
  int64_t pending_ = 0;           // reports of the current batch still to come
  absl::Status first_failure_;
};

}  // namespace sfbridge::fetcher
