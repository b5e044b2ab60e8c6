// ConsumerLoop, continued: the schemas topic. A schema creates or alters its table before any
// record of its object applies; one that cannot be applied is parked as a dead letter.

#include <string>
#include <utility>

#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "writer/consumer_loop.h"
#include "writer/dead_letters.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {

using core::StrCat;

absl::Status ConsumerLoop::ParkSchema(const kafka::Message& m, const std::string& reason,
                                      const std::stop_token& stop) {
  core::Logger("writer")->error("org={} schema at {}/{}@{} parked: {}", options_.org_id, m.topic(),
                                m.partition(), m.offset(), reason);
  DeadLetter letter{m.topic(), m.partition(), m.offset(), reason, std::string(m.value())};
  for (int attempt = 0; !stop.stop_requested(); ++attempt) {
    absl::Status s = conn_ == nullptr ? Connect() : absl::OkStatus();
    if (s.ok()) s = ParkMessages(*conn_, {letter});
    if (s.ok()) {
      metrics_.parked.Get().Increment();
      break;
    }
    if (!core::IsRetryable(s)) return s;
    if (s.code() == absl::StatusCode::kUnavailable) conn_.reset();
    Backoff(attempt, stop);
  }
  return absl::OkStatus();
}

absl::Status ConsumerLoop::HandleSchema(const kafka::Message& m, const std::stop_token& stop) {
  auto log = core::Logger("writer");
  v1::ObjectSchema schema;
  const std::string_view value = m.value();
  if (!schema.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      schema.name().empty()) {
    return ParkSchema(m, "undecodable ObjectSchema", stop);
  }
  if (schema.org_id().empty()) schema.set_org_id(options_.org_id);
  if (schemas_known_.Unchanged(schema)) return absl::OkStatus();
  for (int attempt = 0;; ++attempt) {
    if (stop.stop_requested()) return absl::OkStatus();
    absl::Status s = conn_ == nullptr ? Connect() : absl::OkStatus();
    if (s.ok()) {
      s = EnsureTable(*conn_, options_.schema, schema,
                      {.read_role = options_.read_role, .lock_timeout = options_.ddl_lock_timeout});
    }
    if (s.ok()) break;
    metrics_.apply_errors.Get().Increment();
    // A schema no table can be made of (a name or type Postgres refuses) is bad input: parked,
    // and its records are parked in turn.
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      return ParkSchema(m, StrCat("schema of ", schema.name(), ": ", s.message()), stop);
    }
    // An org not registered yet is waited for: its fetcher registers it before publishing.
    // A lock not granted in time (readers come first, table_schema.h) is retried.
    if (!core::IsRetryable(s) && s.code() != absl::StatusCode::kFailedPrecondition) {
      return core::Annotate(s, StrCat("ensure the table of ", schema.name()));
    }
    if (!PostgresLost(s)) {
      log->warn("org={} object={} ensuring the table failed, retrying: {}", options_.org_id,
                schema.name(), std::string(s.message()));
    }
    if (s.code() == absl::StatusCode::kUnavailable) conn_.reset();
    Backoff(attempt, stop);
  }
  log->info("org={} object={} fields={} table ensured", options_.org_id, schema.name(),
            schema.fields_size());
  tables_.erase(schema.name());
  schemas_known_.Add(std::move(schema));
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
    schemas_read_[{(*m)->topic(), (*m)->partition()}] = (*m)->offset() + 1;
  }
  return absl::OkStatus();
}

bool ConsumerLoop::SchemasCaughtUp() {
  absl::StatusOr<std::vector<kafka::TopicPartition>> assigned = schemas_->Assignment();
  if (!assigned.ok() || assigned->empty()) return false;
  for (const kafka::TopicPartition& tp : *assigned) {
    absl::StatusOr<int64_t> high = schemas_->HighWatermark(tp);
    if (!high.ok()) return false;
    auto it = schemas_read_.find(tp);
    if (*high > (it == schemas_read_.end() ? 0 : it->second)) return false;
  }
  return true;
}

}  // namespace sfbridge::writer
