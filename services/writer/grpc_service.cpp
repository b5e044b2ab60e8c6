#include "writer/grpc_service.h"

#include <chrono>
#include <utility>

#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "writer/applier.h"
#include "writer/naming.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;

grpc::Status ToGrpc(const absl::Status& s) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case absl::StatusCode::kFailedPrecondition:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case absl::StatusCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case absl::StatusCode::kAborted:
      code = grpc::StatusCode::ABORTED;
      break;
    case absl::StatusCode::kDeadlineExceeded:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    case absl::StatusCode::kResourceExhausted:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    default:
      break;
  }
  return grpc::Status(code, std::string(s.message()));
}

}  // namespace

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    std::unique_ptr<postgres::Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
      postgres::Connection::Connect(url_, {.state = state_});
  if (!conn.ok()) {
    Return(nullptr);
    return conn.status();
  }
  return Lease(this, *std::move(conn));
}

void ConnectionPool::Return(std::unique_ptr<postgres::Connection> conn) {
  {
    std::lock_guard lock(mu_);
    if (conn != nullptr) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
}

WriterGrpcService::WriterGrpcService(std::string postgres_url, std::string schema,
                                     WriterMetrics* metrics, int connections,
                                     core::DependencyState* postgres_state, core::Clock& clock)
    : pool_(std::move(postgres_url), connections, postgres_state),
      schema_(std::move(schema)),
      metrics_(metrics),
      clock_(clock) {}

grpc::Status WriterGrpcService::Apply(grpc::ServerContext*, const v1::ApplyRequest* request,
                                      v1::ApplyResponse* response) {
  if (request->org_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "org_id is required");
  }
  std::vector<v1::RecordChange> changes(request->changes().begin(), request->changes().end());
  for (v1::RecordChange& c : changes) {
    if (c.org_id().empty()) c.set_org_id(request->org_id());
    if (c.org_id() != request->org_id()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          StrCat("record ", c.record_id(), " belongs to org ", c.org_id(), ", not ",
                                 request->org_id()));
    }
  }
  if (changes.empty()) return grpc::Status::OK;

  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) clock_.SleepFor(std::chrono::milliseconds(50 << attempt));
    absl::StatusOr<ConnectionPool::Lease> conn = pool_.Acquire();
    if (!conn.ok()) {
      last = conn.status();
      if (!core::IsRetryable(last)) break;
      continue;
    }
    ApplyStats stats;
    std::string parked;
    // The common case in one round trip; anything else (and the first call for an object, which
    // fills the layout cache) in a transaction.
    std::optional<ApplyStats> quick = applier_.ApplyInOneRoundTrip(**conn, schema_, changes);
    if (quick) stats = *std::move(quick);
    absl::Status s =
        quick ? absl::OkStatus()
              : (*conn)->InTransactionBegunByFirstStatement(
                    [&](postgres::Transaction& tx) -> absl::Status {
                      absl::StatusOr<ApplyStats> applied =
                          applier_.ApplyChanges(tx, schema_, changes);
                      if (!applied.ok()) return applied.status();
                      stats = *std::move(applied);
                      if (!stats.parked.empty()) {
                        const size_t i = stats.parked.front();
                        parked = StrCat("record ", changes[i].record_id(), " of ",
                                        changes[i].object_name(),
                                        " cannot be applied: ", stats.outcomes[i].reason);
                        return absl::InvalidArgumentError(parked);  // rolls the request back
                      }
                      return absl::OkStatus();
                    });
    if (!parked.empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, parked);
    }
    if (s.ok()) {
      for (size_t i = 0; i < changes.size(); ++i) {
        const RecordOutcome& o = stats.outcomes[i];
        v1::ApplyResult* r = response->add_results();
        r->set_record_id(changes[i].record_id());
        r->set_outcome(o.outcome == Outcome::kApplied ? v1::ApplyResult::OUTCOME_APPLIED
                                                      : v1::ApplyResult::OUTCOME_STALE);
        r->set_stored_modstamp_ms(o.stored_modstamp_ms);
      }
      if (metrics_ != nullptr) {
        for (const auto& [object, o] : stats.objects) {
          const double rows = static_cast<double>(o.applied + o.deleted);
          if (rows > 0) {
            metrics_->rows_applied.WithLabels({request->org_id(), SnakeCaseName(object)})
                .Increment(rows);
          }
        }
      }
      return grpc::Status::OK;
    }
    last = s;
    if (metrics_ != nullptr) metrics_->apply_errors.Get().Increment();
    if (s.code() == absl::StatusCode::kUnavailable) conn->Discard();
    if (!core::IsRetryable(s)) break;
    core::Logger("writer")->warn("org={} Apply failed, retrying: {}", request->org_id(),
                                 std::string(s.message()));
  }
  return ToGrpc(last);
}

}  // namespace sfbridge::writer
