#pragma once

// The writer's gRPC Writer.Apply, as the write path calls it: the Salesforce-confirmed record
// versions of one statement in one request (one database transaction on the writer's side).
// Errors: kUnavailable when the writer cannot be reached or did not answer within `timeout`;
// otherwise the writer's status (kInvalidArgument for a change it cannot apply). Thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sfbridge/v1/record.pb.h"
#include "sfbridge/v1/writer.pb.h"

namespace sfbridge::proxy::writes {

class WriterClient {
 public:
  // `address`: host:port of the writer's gRPC server (plaintext).
  WriterClient(const std::string& address, std::chrono::milliseconds timeout);
  ~WriterClient();

  absl::StatusOr<v1::ApplyResponse> Apply(const std::string& org_id,
                                          const std::vector<v1::RecordChange>& changes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfbridge::proxy::writes
