#pragma once

// The writer's Kafka side: applies sfbridge.<org>.records to Postgres (DESIGN.md invariants 3
// and 4).
//
// Schemas. Every writer reads the whole compacted sfbridge.<org>.schemas topic from its start
// (a consumer of its own that never commits: each writer needs every object's schema, whichever
// records partitions it holds) and calls EnsureTable for each ObjectSchema, keeping the latest
// per object in memory. A batch holding records of an object whose schema has not arrived yet
// waits, reading schemas, until it has; a batch holding a field no schema received yet waits up
// to 10 s for a newer schema before such changes are parked.
//
// Records are read in consumer group sfbridge-writer-<org> and applied in batches (up to
// batch_size messages or batch_wait after the first one). One transaction per batch holds the
// rows (ApplyChanges), the dead letters and the next offset of every partition in the batch
// (StoreOffsets); only after it commits are the offsets committed to Kafka too, for lag tooling.
// On every assignment each partition is sought to its offset stored in Postgres (the beginning
// when none): Postgres is the truth, so a crash at any moment re-reads at most the batch it
// did not commit, and applying it again is harmless (versions only move forward).
//
// Undecodable messages and changes ApplyChanges parks go to sfbridge.dead_letters with their
// topic, partition and offset in the batch's transaction, and consuming moves on. A retryable
// failure retries the same batch with backoff (reconnecting); any other failure ends Run with
// it, nothing of the batch stored.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/kafka/consumer.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/schema.pb.h"
#include "writer/writer_metrics.h"

namespace sfbridge::writer {

struct ConsumerLoopOptions {
  std::string postgres_url;
  std::string kafka_brokers;
  std::string org_id;
  std::string schema = "salesforce";
  std::string read_role = "sfbridge_read";
  int batch_size = 5000;
  std::chrono::milliseconds batch_wait{200};
  std::chrono::milliseconds max_backoff{5000};
};

class ConsumerLoop {
 public:
  ConsumerLoop(ConsumerLoopOptions options, WriterMetrics& metrics);
  ~ConsumerLoop();  // leaves the group while the rebalance hooks' state is still alive

  // Runs until `stop` is requested (OK; a batch not yet committed is left for the next run) or a
  // failure retrying cannot cure.
  absl::Status Run(std::stop_token stop);

  // Progress, readable from any thread.
  int64_t batches_applied() const { return batches_.load(); }
  int64_t messages_applied() const { return messages_.load(); }
  bool running() const { return running_.load(); }

 private:
  struct Pending {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    std::string value;
  };

  absl::Status Connect();
  // Reads schema messages for up to `timeout_ms` (0: only what is already there).
  absl::Status PollSchemas(int timeout_ms, const std::stop_token& stop);
  absl::Status HandleSchema(const kafka::Message& m, const std::stop_token& stop);
  absl::Status Flush(const std::stop_token& stop);
  std::map<kafka::TopicPartition, int64_t> OnAssign(
      const std::vector<kafka::TopicPartition>& assigned);
  void UpdateLag();
  std::string TableLabel(const std::string& object);
  void Backoff(int attempt, const std::stop_token& stop);

  ConsumerLoopOptions options_;
  WriterMetrics& metrics_;
  const std::string records_topic_;
  const std::string schemas_topic_;
  const std::string group_;
  std::unique_ptr<postgres::Connection> conn_;
  std::unique_ptr<kafka::Consumer> records_;
  std::unique_ptr<kafka::Consumer> schemas_;
  std::map<std::string, v1::ObjectSchema> latest_;  // object -> last schema ensured
  std::map<std::string, std::string> tables_;       // object -> table (metric label)
  // object -> every field any schema received named (removed fields keep their columns)
  std::map<std::string, std::set<std::string>> fields_;
  std::vector<Pending> pending_;
  std::chrono::steady_clock::time_point batch_started_;
  std::map<kafka::TopicPartition, int64_t> positions_;  // next offset to apply, per partition
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> messages_{0};
  std::atomic<bool> running_{false};
};

}  // namespace sfbridge::writer
