#pragma once

// Sends batches of Kafka messages and tells when the broker acknowledged every one of them
// (DESIGN.md invariant 4: a cursor moves only after that). Over kafka::Producer (idempotent,
// acks=all), so the messages of batches started one after another keep their order within each
// partition. Several batches may be in flight at once: Start returns as soon as the messages
// are queued, Outcome says (or waits until) they were all acknowledged. Reports of a batch that
// was abandoned (timed out, or forgotten) are ignored when they arrive late.
//
// Not thread-safe: one owner thread (the producer serves delivery reports on it).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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
  using Ticket = uint64_t;

  // Errors: the producer's (a setting librdkafka refuses).
  static absl::StatusOr<std::unique_ptr<AckedProducer>> Create(
      const kafka::ProducerOptions& options,
      std::chrono::milliseconds ack_timeout = std::chrono::seconds(60));
  // Flushes what is still queued (up to 10 s) while the report bookkeeping is still alive.
  ~AckedProducer() { producer_.reset(); }
  AckedProducer(const AckedProducer&) = delete;
  AckedProducer& operator=(const AckedProducer&) = delete;

  // Queues every message for `topic` (copying them) and returns the batch's ticket; waits only
  // while the producer's local queue is full. Whatever goes wrong is the batch's outcome.
  Ticket Start(const std::string& topic, const std::vector<OutgoingMessage>& messages);
  // The batch's outcome once every delivery report arrived: OK when all were acknowledged,
  // otherwise the first failure, and any subset may have been written. nullopt while reports
  // are still to come and `wait` is false. With `wait`, waits until the ack timeout (counted
  // from Start) passed, then answers kDeadlineExceeded. Once an outcome is returned the ticket
  // is forgotten (kNotFound after that, as for a ticket never issued).
  std::optional<absl::Status> Outcome(Ticket ticket, bool wait);
  // Abandons a batch whose outcome is no longer wanted.
  void Forget(Ticket ticket) { batches_.erase(ticket); }

  // kafka::Producer::LoadTopic: so that the first batch to `topic` does not wait for metadata.
  absl::Status LoadTopic(const std::string& topic, int timeout_ms) {
    return producer_->LoadTopic(topic, timeout_ms);
  }

  // Start, then Outcome with wait.
  absl::Status SendAll(const std::string& topic, const std::vector<OutgoingMessage>& messages);

 private:
  struct Batch {
    std::string topic;
    size_t size = 0;
    int64_t pending = 0;  // reports still to come
    absl::Status first_failure;
    std::chrono::steady_clock::time_point deadline;
  };

  AckedProducer() = default;
  void OnDelivery(const kafka::DeliveryReport& report);

  std::unique_ptr<kafka::Producer> producer_;
  std::chrono::milliseconds ack_timeout_{60'000};
  Ticket next_ticket_ = 1;
  std::unordered_map<Ticket, Batch> batches_;  // the tag of every message is its batch's ticket
};

}  // namespace sfbridge::fetcher
