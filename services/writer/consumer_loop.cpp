#include "writer/consumer_loop.h"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <thread>
#include <utility>

#include "common/control/names.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "sfbridge/v1/record.pb.h"
#include "writer/apply.h"
#include "writer/dead_letters.h"
#include "writer/naming.h"
#include "writer/offsets.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// How long a batch waits for the schema of a field it holds that no known schema has.
constexpr milliseconds kNewFieldGrace{10'000};

}  // namespace

ConsumerLoop::ConsumerLoop(ConsumerLoopOptions options, WriterMetrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
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
      postgres::Connection::Connect(options_.postgres_url);
  if (!conn.ok()) return core::Annotate(conn.status(), "writer: connect to PostgreSQL");
  conn_ = *std::move(conn);
  return absl::OkStatus();
}

void ConsumerLoop::Backoff(int attempt, const std::stop_token& stop) {
  milliseconds wait = milliseconds(100) * (1 << std::min(attempt, 6));
  wait = std::min(wait, options_.max_backoff);
  const auto until = Clock::now() + wait;
  while (!stop.stop_requested() && Clock::now() < until) {
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), milliseconds(50)));
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
      std::this_thread::sleep_for(milliseconds(200) * (attempt + 1));
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
      std::this_thread::sleep_for(milliseconds(200) * (attempt + 1));
      continue;
    }
    positions_.clear();
    for (const kafka::TopicPartition& tp : assigned) {
      const auto& per_topic = stored[tp.topic];
      auto it = per_topic.find(tp.partition);
      start[tp] = it == per_topic.end() ? kafka::kOffsetBeginning : it->second;
      if (it != per_topic.end()) positions_[tp] = it->second;
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

absl::Status ConsumerLoop::HandleSchema(const kafka::Message& m, const std::stop_token& stop) {
  auto log = core::Logger("writer");
  v1::ObjectSchema schema;
  const std::string_view value = m.value();
  if (!schema.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      schema.name().empty()) {
    log->error("org={} undecodable schema at {}/{}@{}: parked", options_.org_id, m.topic(),
               m.partition(), m.offset());
    DeadLetter letter{m.topic(), m.partition(), m.offset(), "undecodable ObjectSchema",
                      std::string(value)};
    for (int attempt = 0; !stop.stop_requested(); ++attempt) {
      if (conn_ == nullptr) {
        if (absl::Status s = Connect(); !s.ok()) {
          Backoff(attempt, stop);
          continue;
        }
      }
      absl::Status s = ParkMessages(*conn_, {letter});
      if (s.ok()) {
        metrics_.parked.Get().Increment();
        break;
      }
      if (!core::IsRetryable(s)) return s;
      conn_.reset();
      Backoff(attempt, stop);
    }
    return absl::OkStatus();
  }
  if (schema.org_id().empty()) schema.set_org_id(options_.org_id);
  auto known = latest_.find(schema.name());
  if (known != latest_.end() && known->second.fingerprint() == schema.fingerprint() &&
      known->second.fields_size() == schema.fields_size()) {
    return absl::OkStatus();
  }
  for (int attempt = 0;; ++attempt) {
    if (stop.stop_requested()) return absl::OkStatus();
    absl::Status s = conn_ == nullptr ? Connect() : absl::OkStatus();
    if (s.ok()) {
      s = EnsureTable(*conn_, options_.schema, schema, {.read_role = options_.read_role});
    }
    if (s.ok()) break;
    metrics_.apply_errors.Get().Increment();
    // An org not registered yet is waited for: its fetcher registers it before publishing.
    if (!core::IsRetryable(s) && s.code() != absl::StatusCode::kFailedPrecondition) {
      return core::Annotate(s, StrCat("ensure the table of ", schema.name()));
    }
    log->warn("org={} object={} ensuring the table failed, retrying: {}", options_.org_id,
              schema.name(), std::string(s.message()));
    if (core::IsRetryable(s)) conn_.reset();
    Backoff(attempt, stop);
  }
  log->info("org={} object={} fields={} table ensured", options_.org_id, schema.name(),
            schema.fields_size());
  tables_.erase(schema.name());
  std::set<std::string>& fields = fields_[schema.name()];
  for (const v1::FieldSchema& f : schema.fields()) fields.insert(f.name());
  latest_[schema.name()] = std::move(schema);
  return absl::OkStatus();
}

absl::Status ConsumerLoop::PollSchemas(int timeout_ms, const std::stop_token& stop) {
  for (int i = 0; i < 1000 && !stop.stop_requested(); ++i) {
    absl::StatusOr<std::optional<kafka::Message>> m = schemas_->Poll(i == 0 ? timeout_ms : 0);
    if (!m.ok()) {
      core::Logger("writer")->warn("org={} schemas: {}", options_.org_id,
                                   std::string(m.status().message()));
      return absl::OkStatus();
    }
    if (!m->has_value()) return absl::OkStatus();
    if (absl::Status s = HandleSchema(**m, stop); !s.ok()) return s;
  }
  return absl::OkStatus();
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

  // Decode; what cannot be decoded is parked with the batch.
  std::vector<v1::RecordChange> changes;
  std::vector<size_t> source;  // changes[i] came from pending_[source[i]]
  std::vector<DeadLetter> undecodable;
  changes.reserve(pending_.size());
  source.reserve(pending_.size());
  std::set<std::string> objects;
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Pending& p = pending_[i];
    v1::RecordChange change;
    if (!change.ParseFromString(p.value) || change.object_name().empty()) {
      undecodable.push_back({p.topic, p.partition, p.offset, "undecodable RecordChange", p.value});
      continue;
    }
    if (change.org_id().empty()) change.set_org_id(options_.org_id);
    objects.insert(change.object_name());
    changes.push_back(std::move(change));
    source.push_back(i);
  }

  // Records wait for their object's schema.
  for (const std::string& object : objects) {
    bool logged = false;
    while (!latest_.contains(object)) {
      if (stop.stop_requested()) return absl::OkStatus();
      if (!logged) {
        log->info("org={} object={} records wait for the schema", options_.org_id, object);
        logged = true;
      }
      if (absl::Status s = PollSchemas(200, stop); !s.ok()) return s;
    }
  }
  // A field the known schema lacks: a newer schema is likely on its way (the fetcher publishes
  // it before the records read with it). Give it a moment before such changes get parked.
  auto unknown_field = [&]() -> std::string {
    for (const v1::RecordChange& c : changes) {
      const std::set<std::string>& known = fields_[c.object_name()];
      for (const auto& [field, value] : c.fields()) {
        if (field != "Id" && !known.contains(field)) return StrCat(c.object_name(), ".", field);
      }
    }
    return "";
  };
  const auto grace_until = Clock::now() + kNewFieldGrace;
  for (std::string field = unknown_field(); !field.empty(); field = unknown_field()) {
    if (stop.stop_requested()) return absl::OkStatus();
    if (Clock::now() >= grace_until) {
      log->warn("org={} field {} is in no schema received", options_.org_id, field);
      break;
    }
    if (absl::Status s = PollSchemas(200, stop); !s.ok()) return s;
  }

  std::map<kafka::TopicPartition, int64_t> next;
  for (const Pending& p : pending_) {
    int64_t& n = next[{p.topic, p.partition}];
    n = std::max(n, p.offset + 1);
  }
  std::vector<OffsetUpdate> offsets;
  for (const auto& [tp, offset] : next) {
    offsets.push_back({group_, tp.topic, tp.partition, offset});
  }

  ApplyStats stats;
  std::vector<DeadLetter> letters;
  for (int attempt = 0;; ++attempt) {
    if (stop.stop_requested()) return absl::OkStatus();
    const auto started = Clock::now();
    absl::Status s = conn_ == nullptr ? Connect() : absl::OkStatus();
    if (s.ok()) {
      s = conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
        absl::StatusOr<ApplyStats> applied = ApplyChanges(tx, options_.schema, changes);
        if (!applied.ok()) return applied.status();
        stats = *std::move(applied);
        letters = undecodable;
        for (size_t index : stats.parked) {
          const Pending& p = pending_[source[index]];
          letters.push_back(
              {p.topic, p.partition, p.offset, stats.outcomes[index].reason, p.value});
        }
        if (!letters.empty()) {
          if (absl::Status ps = ParkMessages(tx, letters); !ps.ok()) return ps;
        }
        return StoreOffsets(tx, offsets);
      });
    }
    if (s.ok()) {
      metrics_.batch_seconds.Get().Observe(
          std::chrono::duration<double>(Clock::now() - started).count());
      break;
    }
    metrics_.apply_errors.Get().Increment();
    if (!core::IsRetryable(s)) {
      return core::Annotate(s, StrCat("apply a batch of ", pending_.size(), " messages"));
    }
    log->warn("org={} batch of {} failed, retrying: {}", options_.org_id, pending_.size(),
              std::string(s.message()));
    if (s.code() == absl::StatusCode::kUnavailable) conn_.reset();
    Backoff(attempt, stop);
  }

  for (const auto& [object, o] : stats.objects) {
    const double rows = static_cast<double>(o.applied + o.deleted);
    if (rows > 0) {
      metrics_.rows_applied.WithLabels({options_.org_id, TableLabel(object)}).Increment(rows);
    }
  }
  if (!letters.empty()) {
    metrics_.parked.Get().Increment(static_cast<double>(letters.size()));
    for (const DeadLetter& l : letters) {
      log->warn("org={} parked {}/{}@{}: {}", options_.org_id, l.topic, l.partition, l.offset,
                l.reason);
    }
  }
  for (const auto& [tp, offset] : next) positions_[tp] = offset;
  messages_.fetch_add(static_cast<int64_t>(pending_.size()));
  batches_.fetch_add(1);
  pending_.clear();
  // For lag tooling only: Postgres already holds these offsets.
  if (absl::Status s = records_->Commit(next); !s.ok()) {
    log->debug("org={} kafka commit failed: {}", options_.org_id, std::string(s.message()));
  }
  return absl::OkStatus();
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
      .extra = {{"topic.metadata.refresh.interval.ms", "5000"}},
      .on_assign =
          [this](const std::vector<kafka::TopicPartition>& assigned) { return OnAssign(assigned); },
      .on_revoke =
          [this](const std::vector<kafka::TopicPartition>&) {
            // Not applied, not stored: the next owner reads them again from Postgres's offsets.
            pending_.clear();
            positions_.clear();
          },
  });
  if (!records.ok()) return records.status();
  records_ = *std::move(records);
  if (absl::Status s = records_->Subscribe({records_topic_}); !s.ok()) return s;
  running_.store(true);
  log->info("org={} consuming {} in group {}", options_.org_id, records_topic_, group_);

  absl::Status result;
  auto next_lag = Clock::now();
  while (!stop.stop_requested()) {
    if (absl::Status s = PollSchemas(0, stop); !s.ok()) {
      result = s;
      break;
    }
    int timeout_ms = 100;
    if (!pending_.empty()) {
      const auto left = options_.batch_wait -
                        std::chrono::duration_cast<milliseconds>(Clock::now() - batch_started_);
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 100));
    }
    absl::StatusOr<std::optional<kafka::Message>> m = records_->Poll(timeout_ms);
    if (!m.ok()) {
      log->warn("org={} records: {}", options_.org_id, std::string(m.status().message()));
    } else if (m->has_value()) {
      const kafka::Message& msg = **m;
      if (pending_.empty()) batch_started_ = Clock::now();
      pending_.push_back({msg.topic(), msg.partition(), msg.offset(), std::string(msg.value())});
    }
    const bool full = static_cast<int>(pending_.size()) >= options_.batch_size;
    const bool due = !pending_.empty() && Clock::now() - batch_started_ >= options_.batch_wait;
    if (full || due) {
      if (absl::Status s = Flush(stop); !s.ok()) {
        result = s;
        break;
      }
    }
    if (Clock::now() >= next_lag) {
      UpdateLag();
      next_lag = Clock::now() + milliseconds(1000);
    }
  }
  running_.store(false);
  log->info("org={} consumer loop stopping", options_.org_id);
  records_->Close();
  schemas_->Close();
  return result;
}

}  // namespace sfbridge::writer
