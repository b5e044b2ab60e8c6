#pragma once

// A Kafka producer that never loses or duplicates what it was given: idempotent
// (enable.idempotence=true, which implies acks=all and ordered retries per partition).
//
// Delivery reports are handed to the DeliveryCallback from inside Poll() or Flush(), on the
// thread that calls them; the caller advances its cursors only from there (DESIGN.md: a cursor
// moves only after Kafka acknowledged every record before it). Not thread-safe: one owner thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/kafka/kafka_handles.h"

namespace sfbridge::kafka {

struct DeliveryReport {
  uint64_t tag = 0;  // what the caller passed to Produce
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  absl::Status status;  // OK when the broker acknowledged the message
};

using DeliveryCallback = std::function<void(const DeliveryReport&)>;

struct ProducerOptions {
  std::string brokers;  // "host:port,host:port"
  std::string client_id = "sfbridge";
  std::map<std::string, std::string> extra;  // other librdkafka settings, applied last
};

class Producer {
 public:
  // Errors: kInvalidArgument for a setting librdkafka refuses.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const ProducerOptions& options,
                                                          DeliveryCallback on_delivery);
  ~Producer();  // flushes for up to 10 s, then drops what is still queued

  // Enqueues one message; `tag` comes back in its DeliveryReport. A full local queue answers
  // kResourceExhausted: Poll() and try again.
  absl::Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                       uint64_t tag);
  // Loads `topic`'s partitions and their leaders into the producer, waiting up to `timeout_ms`
  // until every partition has a leader. Without it the first messages to a topic the producer has
  // not seen yet (one just created, above all) wait for a later metadata refresh: about a second.
  // kDeadlineExceeded when the topic has no leaders yet by then; the producer works all the same.
  absl::Status LoadTopic(const std::string& topic, int timeout_ms);
  // Serves delivery reports; waits up to `timeout_ms` for one. Returns how many were served.
  int Poll(int timeout_ms);
  // Waits until every queued message is delivered or failed. kDeadlineExceeded on timeout.
  absl::Status Flush(int timeout_ms);
  // Messages queued and not yet reported.
  int OutstandingCount() const;

 private:
  Producer(KafkaHandle handle, std::unique_ptr<DeliveryCallback> on_delivery);
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);

  std::unique_ptr<DeliveryCallback> on_delivery_;
  KafkaHandle handle_;
};

}  // namespace sfbridge::kafka
