#pragma once

// The gRPC sfbridge.v1.Writer service: the proxy's confirmed record versions applied through the
// same guarded path as the Kafka stream (applier.h), all of one request in one transaction.
// Each change answers APPLIED or STALE with the modstamp the record holds afterwards. A change
// that would be parked (no table for its object, a field with no column, a value that does not
// fit ...) fails the whole request with INVALID_ARGUMENT naming the record and the reason;
// nothing of it is applied. Retryable database failures are retried a few times (waiting on the
// injected clock between tries), then answered UNAVAILABLE.
//
// Thread-safe: requests borrow a connection from a small pool (one request per connection).

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/writer.grpc.pb.h"
#include "writer/applier.h"
#include "writer/writer_metrics.h"

namespace sfbridge::writer {

// At most `size` connections, opened on first use; a broken one is replaced (and a pooled one
// whose server restarted reconnects by itself on its next use, postgres/connection.h).
class ConnectionPool {
 public:
  // `state` (not owned, may be null) is told whether PostgreSQL answers.
  ConnectionPool(std::string url, int size, core::DependencyState* state = nullptr)
      : url_(std::move(url)), size_(size), state_(state) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<postgres::Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Return(std::move(conn_));
    }
    postgres::Connection& operator*() { return *conn_; }
    postgres::Connection* operator->() { return conn_.get(); }
    // Closes the connection instead of returning it (after a connection failure).
    void Discard() { conn_.reset(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<postgres::Connection> conn_;
  };

  absl::StatusOr<Lease> Acquire();

 private:
  void Return(std::unique_ptr<postgres::Connection> conn);

  const std::string url_;
  const int size_;
  core::DependencyState* const state_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<postgres::Connection>> idle_;
  int open_ = 0;
};

class WriterGrpcService final : public v1::Writer::Service {
 public:
  // `clock` (not owned) must outlive the service.
  WriterGrpcService(std::string postgres_url, std::string schema, WriterMetrics* metrics,
                    int connections = 4, core::DependencyState* postgres_state = nullptr,
                    core::Clock& clock = core::SystemClock::Instance());

  grpc::Status Apply(grpc::ServerContext* context, const v1::ApplyRequest* request,
                     v1::ApplyResponse* response) override;

 private:
  ConnectionPool pool_;
  const std::string schema_;
  WriterMetrics* const metrics_;
  core::Clock& clock_;
  Applier applier_;
};

}  // namespace sfbridge::writer
