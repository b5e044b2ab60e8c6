#pragma once

// The writer's Kafka side: applies sfbridge.<org>.records to Postgres (DESIGN.md invariants 3
// and 4).
//
// Schemas. Every writer reads the whole compacted sfbridge.<org>.schemas topic from its start
// (a consumer of its own that never commits: each writer needs every object's schema, whichever
// records partitions it holds) and calls EnsureTable for each ObjectSchema, keeping the latest
// per object in memory. A batch holding records of an object, or a field, that no schema received
// names waits, reading schemas, until one does, or until schema_grace (10 s) after the schemas
// topic was read to its end (60 s at most); then such changes are parked, and later batches park
// them without waiting until a newer schema of that object arrives. A schema message that does not
// decode, or that Postgres refuses as invalid, is parked too; schema DDL that cannot get its table
// lock in ddl_lock_timeout gives way to readers and is retried with backoff. A change whose
// schema_fingerprint is one of a schema received is known to hold only known fields.
//
// Records are read in consumer group sfbridge-writer-<org> and applied in batches (up to
// batch_size messages or batch_wait after the first one). One transaction per batch holds the
// rows (Applier::ApplyChanges), the dead letters and the next offset of every partition in the
// batch (StoreOffsets); only after it commits are the offsets committed to Kafka too, for lag
// tooling. On every assignment each partition is sought to its offset stored in Postgres (the
// beginning when none): Postgres is the truth, so a crash at any moment re-reads at most the batch
// it did not commit, and applying it again is harmless (versions only move forward).
//
// Undecodable messages and changes the Applier parks (unknown object, unknown field, a value that
// does not fit ...) go to sfbridge.dead_letters with their topic, partition and offset in the
// batch's transaction, are counted and logged with them, and consuming moves on. A retryable
// failure retries the same batch with backoff (reconnecting); any other failure ends Run with
// it, nothing of the batch stored.
//
// Time: the schema grace, batch_wait, backoffs and retries are measured and waited on the
// injected core::Clock, so tests run them on simulated time.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "common/core/clock.h"
#include "common/core/dependency.h"
#include "common/kafka/consumer.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/record.pb.h"
#include "sfbridge/v1/schema.pb.h"
#include "writer/applier.h"
#include "writer/dead_letters.h"
#include "writer/known_schemas.h"
#include "writer/record_view.h"
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
  // How long the group waits for a member that stopped heartbeating (a crashed writer) before
  // its partitions go to the others or to its own restart.
  std::chrono::milliseconds session_timeout{10'000};
  // How long schema DDL waits for a table lock before it lets readers go and retries.
  std::chrono::milliseconds ddl_lock_timeout{2000};
  // How long a batch waits for the schema of an object or a field it holds that no schema
  // received names, counted once the schemas topic has been read to its end (the fetcher
  // publishes a schema before the records read with it, so by then it is normally there).
  std::chrono::milliseconds schema_grace{10'000};
  // Told whether PostgreSQL answers (not owned; may be null). While it does not, retries are
  // not logged one by one: the state logs the loss, reminders and the return.
  core::DependencyState* postgres_state = nullptr;
};

class ConsumerLoop {
 public:
  // `clock` (not owned) must outlive the loop.
  ConsumerLoop(ConsumerLoopOptions options, WriterMetrics& metrics,
               core::Clock& clock = core::SystemClock::Instance());
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
  absl::Status ParkSchema(const kafka::Message& m, const std::string& reason,
                          const std::stop_token& stop);
  // True once every partition of the schemas topic has been read up to its high watermark.
  bool SchemasCaughtUp();
  // A batch read from Kafka and decoded; Apply stores it on a thread of its own while the next
  // one is read, Finish waits for it and does what follows a commit.
  struct Batch {
    std::vector<Pending> pending;
    // Decoded in place (record_view.h): `changes` read from `pending` and `fields`.
    std::vector<FieldEntry> fields;
    std::vector<ChangeView> changes;
    std::vector<size_t> source;  // changes[i] came from pending[source[i]]
    std::vector<DeadLetter> undecodable;
    std::map<kafka::TopicPartition, int64_t> next;  // next offset per partition
    // Set by Apply once committed.
    bool applied = false;
    ApplyStats stats;
    std::vector<DeadLetter> letters;
  };
  // Decodes pending_ into a batch, waits for the schemas it needs, and hands it to Apply after
  // the batch before it has finished.
  absl::Status Flush(const std::stop_token& stop);
  // On the applying thread: the batch, its dead letters and offsets in one transaction, retried
  // while retryable (over apply_conn_, which only this thread touches).
  absl::Status Apply(Batch& batch, const std::stop_token& stop);
  // Waits for the batch in flight, if any; then metrics, positions, the Kafka commit.
  absl::Status Finish();
  // Finish in two: the batch in flight once done (null when none), and what follows its commit.
  absl::StatusOr<std::unique_ptr<Batch>> WaitApplied();
  void AfterApplied(std::unique_ptr<Batch> batch);
  std::map<kafka::TopicPartition, int64_t> OnAssign(
      const std::vector<kafka::TopicPartition>& assigned);
  void UpdateLag();
  std::string TableLabel(const std::string& object);
  void Backoff(int attempt, const std::stop_token& stop);
  // Whether `s` is PostgreSQL being unreachable, which postgres_state logs already.
  bool PostgresLost(const absl::Status& s) const;

  ConsumerLoopOptions options_;
  WriterMetrics& metrics_;
  core::Clock& clock_;
  Applier applier_;  // remembers tables and their layouts, checked by every batch
  const std::string records_topic_;
  const std::string schemas_topic_;
  const std::string group_;
  std::unique_ptr<postgres::Connection> conn_;
  std::unique_ptr<kafka::Consumer> records_;
  std::unique_ptr<kafka::Consumer> schemas_;
  KnownSchemas schemas_known_;                 // the schemas ensured, and names given up
  std::map<std::string, std::string> tables_;  // object -> table (metric label)
  std::map<kafka::TopicPartition, int64_t> schemas_read_;  // next schema offset, per partition
  std::vector<Pending> pending_;
  std::unique_ptr<postgres::Connection> apply_conn_;  // the applying thread's
  std::unique_ptr<Batch> in_flight_;
  std::future<absl::Status> in_flight_done_;  // destroyed first: waits for the applying thread
  absl::Status revoke_failure_;
  core::Clock::MonoTime batch_started_;
  std::map<kafka::TopicPartition, int64_t> positions_;  // next offset to apply, per partition
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> messages_{0};
  std::atomic<bool> running_{false};
};

}  // namespace sfbridge::writer
