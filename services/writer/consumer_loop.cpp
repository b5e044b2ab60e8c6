#include "writer/consumer_loop.h"

#include <unistd.h>

#include <algorithm>
#include <future>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>

#include "common/control/names.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "sfbridge/v1/record.pb.h"
#include "writer/applier.h"
#include "writer/dead_letters.h"
#include "writer/naming.h"
#include "writer/offsets.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;
using std::chrono::milliseconds;

// How long a batch waits at most for a schema it lacks (ConsumerLoopOptions::schema_grace), in
// case the end of the schemas topic cannot be told.
constexpr milliseconds kSchemaWaitLimit{60'000};

}  // namespace

ConsumerLoop::ConsumerLoop(ConsumerLoopOptions options, WriterMetrics& metrics, core::Clock& clock)
    : options_(std::move(options)),
      metrics_(metrics),
      clock_(clock),
      records_topic_(control::RecordsTopic(options_.org_id)),
      schemas_topic_(control::SchemasTopic(options_.org_id)),
      group_(control::WriterConsumerGroup(options_.org_id)) {
  options_.batch_size = std::max(1, options_.batch_size);
}

ConsumerLoop::~ConsumerLoop() {
  if (records_ != nullptr) records_->Close();
  if (schemas_ != nullptr) schemas_->Close();
}

absl::Status ConsumerLoop::Connect() {
  conn_.reset();
  absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
      postgres::Connection::Connect(options_.postgres_url, {.state = options_.postgres_state});
  if (!conn.ok()) return core::Annotate(conn.status(), "writer: connect to PostgreSQL");
  conn_ = *std::move(conn);
  return absl::OkStatus();
}

bool ConsumerLoop::PostgresLost(const absl::Status& s) const {
  return s.code() == absl::StatusCode::kUnavailable && options_.postgres_state != nullptr &&
         !options_.postgres_state->up();
}

void ConsumerLoop::Backoff(int attempt, const std::stop_token& stop) {
  milliseconds wait = milliseconds(100) * (1 << std::min(attempt, 6));
  wait = std::min(wait, options_.max_backoff);
  const auto until = clock_.Monotonic() + wait;
  // PostgreSQL lost: the writer's probe seeing it back ends the wait (a long backoff would
  // otherwise hold the first batch after a restart for up to max_backoff).
  const bool postgres_down = options_.postgres_state != nullptr && !options_.postgres_state->up();
  while (!stop.stop_requested() && clock_.Monotonic() < until) {
    if (postgres_down && options_.postgres_state->up()) return;
    clock_.SleepFor(
        std::min<std::chrono::nanoseconds>(until - clock_.Monotonic(), milliseconds(50)));
  }
}

std::map<kafka::TopicPartition, int64_t> ConsumerLoop::OnAssign(
    const std::vector<kafka::TopicPartition>& assigned) {
  auto log = core::Logger("writer");
  std::map<kafka::TopicPartition, int64_t> start;
  // Postgres holds the truth. When it cannot be read, the partitions start from Kafka's
  // committed offsets, which never run ahead of Postgres's (they are committed after it).
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (conn_ == nullptr && !Connect().ok()) {
      clock_.SleepFor(milliseconds(200) * (attempt + 1));
      continue;
    }
    std::map<std::string, std::map<int32_t, int64_t>> stored;
    absl::Status failed;
    for (const kafka::TopicPartition& tp : assigned) {
      if (stored.contains(tp.topic)) continue;
      absl::StatusOr<std::map<int32_t, int64_t>> offsets = LoadOffsets(*conn_, group_, tp.topic);
      if (!offsets.ok()) {
        failed = offsets.status();
        break;
      }
      stored[tp.topic] = *std::move(offsets);
    }
    if (!failed.ok()) {
      log->warn("org={} loading stored offsets failed: {}", options_.org_id,
                std::string(failed.message()));
      conn_.reset();
      clock_.SleepFor(milliseconds(200) * (attempt + 1));
      continue;
    }
    positions_.clear();
    for (const kafka::TopicPartition& tp : assigned) {
      const auto& per_topic = stored[tp.topic];
      auto it = per_topic.find(tp.partition);
      start[tp] = it == per_topic.end() ? kafka::kOffsetBeginning : it->second;
      // A partition never applied counts its lag from offset 0 (an upper bound when retention
      // has already removed its oldest messages).
      positions_[tp] = it == per_topic.end() ? 0 : it->second;
      log->info("org={} assigned {}/{} from offset {}", options_.org_id, tp.topic, tp.partition,
                it == per_topic.end() ? std::string("beginning") : std::to_string(it->second));
    }
    return start;
  }
  log->error("org={} stored offsets unreadable: starting from Kafka's committed offsets",
             options_.org_id);
  positions_.clear();
  return start;
}

std::string ConsumerLoop::TableLabel(const std::string& object) {
  auto it = tables_.find(object);
  if (it != tables_.end()) return it->second;
  std::string table = SnakeCaseName(object);
  if (conn_ != nullptr) {
    auto r = conn_->Exec(
        "SELECT table_name FROM sfbridge.synced_tables WHERE org_id = $1 AND object_name = $2",
        {options_.org_id, object});
    if (r.ok() && !r->rows.empty() && r->rows[0][0].has_value()) table = *r->rows[0][0];
  }
  tables_[object] = table;
  return table;
}

void ConsumerLoop::UpdateLag() {
  for (const auto& [tp, position] : positions_) {
    absl::StatusOr<int64_t> high = records_->HighWatermark(tp);
    if (!high.ok()) continue;
    metrics_.consumer_lag.WithLabels({tp.topic, std::to_string(tp.partition)})
        .Set(static_cast<double>(std::max<int64_t>(0, *high - position)));
  }
}

absl::Status ConsumerLoop::Flush(const std::stop_token& stop) {
  auto log = core::Logger("writer");
  if (pending_.empty()) return absl::OkStatus();

  // Decode in place: views into the messages, the fields of the whole batch in one list, no
  // allocation per change or field. What cannot be decoded is parked with the batch.
  auto batch = std::make_unique<Batch>();
  batch->pending = std::move(pending_);
  pending_.clear();
  std::vector<ChangeView>& changes = batch->changes;
  changes.reserve(batch->pending.size());
  batch->source.reserve(batch->pending.size());
  for (size_t i = 0; i < batch->pending.size(); ++i) {
    const Pending& p = batch->pending[i];
    ChangeView change;
    if (!DecodeRecordChange(p.value, batch->fields, change) || change.object_name().empty()) {
      batch->undecodable.push_back(
          {p.topic, p.partition, p.offset, "undecodable RecordChange", p.value});
      continue;
    }
    if (change.org_id().empty()) change.set_org_id(options_.org_id);
    changes.push_back(change);
    batch->source.push_back(i);
  }

  // Records wait for the schema of their object and of every field they hold; what is still
  // unknown after the grace is parked by the Applier, and later batches do not wait for it again
  // until a newer schema of that object arrives.
  const auto wait_started = clock_.Monotonic();
  std::optional<core::Clock::MonoTime> caught_up;
  bool logged = false;
  for (std::set<std::string> unknown = schemas_known_.Missing(changes, false); !unknown.empty();
       unknown = schemas_known_.Missing(changes, false)) {
    if (stop.stop_requested()) return absl::OkStatus();
    if (!logged) {
      log->info("org={} records wait for the schema of {}", options_.org_id, *unknown.begin());
      logged = true;
    }
    if (!caught_up && SchemasCaughtUp()) caught_up = clock_.Monotonic();
    const auto now = clock_.Monotonic();
    if ((caught_up && now - *caught_up >= options_.schema_grace) ||
        now - wait_started >= std::max(kSchemaWaitLimit, options_.schema_grace)) {
      for (const std::string& name : schemas_known_.Missing(changes, true)) {
        log->warn("org={} {} is in no schema received: its records are parked", options_.org_id,
                  name);
        schemas_known_.GiveUp(name);
      }
      break;
    }
    if (absl::Status s = PollSchemas(200, stop); !s.ok()) return s;
  }

  for (const Pending& p : batch->pending) {
    int64_t& n = batch->next[{p.topic, p.partition}];
    n = std::max(n, p.offset + 1);
  }
  // One batch is applied while the next is read and decoded: wait for the one before, hand this
  // one over, then do what follows the commit of the one before (a Kafka round trip among it).
  absl::StatusOr<std::unique_ptr<Batch>> before = WaitApplied();
  if (!before.ok()) return before.status();
  Batch* handed = batch.get();
  in_flight_ = std::move(batch);
  in_flight_done_ =
      std::async(std::launch::async, [this, handed, stop] { return Apply(*handed, stop); });
  AfterApplied(std::move(*before));
  return absl::OkStatus();
}

absl::Status ConsumerLoop::Apply(Batch& batch, const std::stop_token& stop) {
  auto log = core::Logger("writer");
  std::vector<OffsetUpdate> offsets;
  for (const auto& [tp, offset] : batch.next) {
    offsets.push_back({group_, tp.topic, tp.partition, offset});
  }
  for (int attempt = 0;; ++attempt) {
    if (stop.stop_requested()) return absl::OkStatus();
    const auto started = clock_.Monotonic();
    absl::Status s = absl::OkStatus();
    if (apply_conn_ == nullptr) {
      absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
          postgres::Connection::Connect(options_.postgres_url, {.state = options_.postgres_state});
      if (conn.ok()) {
        apply_conn_ = *std::move(conn);
      } else {
        s = core::Annotate(conn.status(), "writer: connect to PostgreSQL");
      }
    }
    if (s.ok()) {
      s = apply_conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
        absl::StatusOr<ApplyStats> applied =
            applier_.ApplyChanges(tx, options_.schema, batch.changes);
        if (!applied.ok()) return applied.status();
        batch.stats = *std::move(applied);
        batch.letters = batch.undecodable;
        for (size_t index : batch.stats.parked) {
          const Pending& p = batch.pending[batch.source[index]];
          batch.letters.push_back(
              {p.topic, p.partition, p.offset, batch.stats.outcomes[index].reason, p.value});
        }
        if (!batch.letters.empty()) {
          if (absl::Status ps = ParkMessages(tx, batch.letters); !ps.ok()) return ps;
        }
        return StoreOffsets(tx, offsets);
      });
    }
    if (s.ok()) {
      metrics_.batch_seconds.Get().Observe(
          std::chrono::duration<double>(clock_.Monotonic() - started).count());
      batch.applied = true;
      return absl::OkStatus();
    }
    metrics_.apply_errors.Get().Increment();
    if (!core::IsRetryable(s)) {
      return core::Annotate(s, StrCat("apply a batch of ", batch.pending.size(), " messages"));
    }
    if (!PostgresLost(s)) {
      log->warn("org={} batch of {} failed, retrying: {}", options_.org_id, batch.pending.size(),
                std::string(s.message()));
    }
    if (s.code() == absl::StatusCode::kUnavailable) apply_conn_.reset();
    Backoff(attempt, stop);
  }
}

absl::Status ConsumerLoop::Finish() {
  absl::StatusOr<std::unique_ptr<Batch>> batch = WaitApplied();
  if (!batch.ok()) return batch.status();
  AfterApplied(std::move(*batch));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ConsumerLoop::Batch>> ConsumerLoop::WaitApplied() {
  if (in_flight_ == nullptr) return nullptr;
  absl::Status s = in_flight_done_.get();
  std::unique_ptr<Batch> batch = std::move(in_flight_);
  if (!s.ok()) return s;
  return batch;
}

void ConsumerLoop::AfterApplied(std::unique_ptr<Batch> batch) {
  if (batch == nullptr || !batch->applied) return;  // stopped before it was stored: read again
  auto log = core::Logger("writer");
  for (const auto& [object, o] : batch->stats.objects) {
    const double rows = static_cast<double>(o.applied + o.deleted);
    if (rows > 0) {
      metrics_.rows_applied.WithLabels({options_.org_id, TableLabel(object)}).Increment(rows);
    }
  }
  if (!batch->letters.empty()) {
    metrics_.parked.Get().Increment(static_cast<double>(batch->letters.size()));
    for (const DeadLetter& l : batch->letters) {
      log->warn("org={} parked {}/{}@{}: {}", options_.org_id, l.topic, l.partition, l.offset,
                l.reason);
    }
  }
  for (const auto& [tp, offset] : batch->next) positions_[tp] = offset;
  UpdateLag();  // from the watermarks librdkafka already holds: no round trip
  messages_.fetch_add(static_cast<int64_t>(batch->pending.size()));
  batches_.fetch_add(1);
  // For lag tooling only: Postgres already holds these offsets.
  if (absl::Status c = records_->Commit(batch->next); !c.ok()) {
    log->debug("org={} kafka commit failed: {}", options_.org_id, std::string(c.message()));
  }
}

absl::Status ConsumerLoop::Run(std::stop_token stop) {
  auto log = core::Logger("writer");
  for (int attempt = 0; conn_ == nullptr; ++attempt) {
    absl::Status s = Connect();
    if (s.ok()) break;
    if (!core::IsRetryable(s)) return s;
    if (stop.stop_requested()) return absl::OkStatus();
    Backoff(attempt, stop);
  }

  std::random_device rd;
  absl::StatusOr<std::unique_ptr<kafka::Consumer>> schemas = kafka::Consumer::Create({
      .brokers = options_.kafka_brokers,
      .group_id = StrCat(group_, "-schemas-", static_cast<int64_t>(getpid()), "-", rd()),
      .client_id = StrCat(group_, "-schemas"),
      .auto_offset_reset = "earliest",
  });
  if (!schemas.ok()) return schemas.status();
  schemas_ = *std::move(schemas);
  if (absl::Status s = schemas_->Subscribe({schemas_topic_}); !s.ok()) return s;

  absl::StatusOr<std::unique_ptr<kafka::Consumer>> records = kafka::Consumer::Create({
      .brokers = options_.kafka_brokers,
      .group_id = group_,
      .client_id = group_,
      .auto_offset_reset = "earliest",
      // Prefetching is bounded to ~8 batches (40,000 messages or 32 MiB waiting in all), so
      // memory does not grow with the backlog; refill_check keeps it flowing once the queue has
      // been full (see ConsumerOptions). Measured with writer_kafka_benchmark: a larger queue
      // (100,000 / 64 MiB) took 50 MB more and was no faster.
      .extra = {{"topic.metadata.refresh.interval.ms", "5000"},
                {"session.timeout.ms", std::to_string(options_.session_timeout.count())},
                {"queued.min.messages", "40000"},
                {"queued.max.messages.kbytes", "32768"}},
      .on_assign =
          [this](const std::vector<kafka::TopicPartition>& assigned) { return OnAssign(assigned); },
      .on_revoke =
          [this](const std::vector<kafka::TopicPartition>&) {
            // The batch being applied is finished first; what is not applied yet is left for the
            // next owner, which reads it again from Postgres's offsets.
            if (absl::Status s = Finish(); !s.ok() && revoke_failure_.ok()) revoke_failure_ = s;
            pending_.clear();
            positions_.clear();
          },
      .refill_check = milliseconds(20),
  });
  if (!records.ok()) return records.status();
  records_ = *std::move(records);
  if (absl::Status s = records_->Subscribe({records_topic_}); !s.ok()) return s;
  running_.store(true);
  log->info("org={} consuming {} in group {}", options_.org_id, records_topic_, group_);

  absl::Status result;
  auto next_lag = clock_.Monotonic(), next_schemas = clock_.Monotonic();
  while (!stop.stop_requested()) {
    if (!revoke_failure_.ok()) {
      result = revoke_failure_;
      break;
    }
    if (clock_.Monotonic() >= next_schemas) {
      if (absl::Status s = PollSchemas(0, stop); !s.ok()) {
        result = s;
        break;
      }
      next_schemas = clock_.Monotonic() + milliseconds(50);
    }
    if (in_flight_ != nullptr &&
        in_flight_done_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      if (absl::Status s = Finish(); !s.ok()) {
        result = s;
        break;
      }
    }
    int timeout_ms = 100;
    if (!pending_.empty()) {
      const auto left = options_.batch_wait - std::chrono::duration_cast<milliseconds>(
                                                  clock_.Monotonic() - batch_started_);
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 100));
    }
    absl::StatusOr<std::optional<kafka::Message>> m = records_->Poll(timeout_ms);
    if (!m.ok()) {
      log->warn("org={} records: {}", options_.org_id, std::string(m.status().message()));
    } else if (m->has_value()) {
      const kafka::Message& msg = **m;
      if (pending_.empty()) batch_started_ = clock_.Monotonic();
      pending_.push_back({msg.topic(), msg.partition(), msg.offset(), std::string(msg.value())});
    }
    const bool full = static_cast<int>(pending_.size()) >= options_.batch_size;
    const bool due =
        !pending_.empty() && clock_.Monotonic() - batch_started_ >= options_.batch_wait;
    if (full || due) {
      if (absl::Status s = Flush(stop); !s.ok()) {
        result = s;
        break;
      }
    }
    if (clock_.Monotonic() >= next_lag) {
      UpdateLag();
      next_lag = clock_.Monotonic() + milliseconds(1000);
    }
  }
  // The batch in flight ends (stored, or left for the next run when stopping) before leaving.
  if (absl::Status s = Finish(); !s.ok() && result.ok()) result = s;
  running_.store(false);
  log->info("org={} consumer loop stopping", options_.org_id);
  records_->Close();
  schemas_->Close();
  return result;
}

}  // namespace sfbridge::writer
