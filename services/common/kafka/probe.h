#pragma once

// Whether the Kafka cluster answers: a metadata request over a client handle of its own (no
// topic, no group), for readiness and the dependency_up metric of services whose own clients
// cannot tell (a producer with nothing to send, a consumer between fetches).
//
// Thread-safe.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/kafka/kafka_handles.h"

namespace sfbridge::kafka {

class BrokerProbe {
 public:
  // Errors: kInvalidArgument for brokers librdkafka refuses. No connection is made here.
  static absl::StatusOr<std::unique_ptr<BrokerProbe>> Create(const std::string& brokers,
                                                             const std::string& client_id);

  // OK when a broker answered a metadata request within `timeout`; kUnavailable (or
  // kDeadlineExceeded) otherwise.
  absl::Status Check(std::chrono::milliseconds timeout);

 private:
  explicit BrokerProbe(KafkaHandle handle) : handle_(std::move(handle)) {}
  KafkaHandle handle_;
};

}  // namespace sfbridge::kafka
