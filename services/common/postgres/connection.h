#pragma once

// A PostgreSQL connection (libpqxx underneath) whose failures come back as statuses.
//
// SQLSTATEs map to codes through core::SqlStateToCode, so callers can tell a retryable failure
// (connection lost, serialization failure, deadlock) from a permanent one; the message carries
// the server's own text and the SQLSTATE. Not thread-safe: one connection per thread.
//
// A lost connection (the server restarted, failed over, or the network broke) comes back by
// itself: the failing call returns kUnavailable, and a later call opens a new connection first,
// LISTENs again on the channels it listened to and prepares its statements again when next used.
// Between failed attempts it waits with backoff (ReconnectOptions), answering kUnavailable at
// once without touching the network, so a caller retrying in a loop does not hammer the server.
// What a transaction had done when the connection was lost is rolled back by the server (a
// commit whose outcome is unknown comes back as kUnknown). Notifications sent while the
// connection was down are lost.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/core/dependency.h"

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace sfbridge::postgres {

using Value = std::optional<std::string>;  // text form; nullopt is SQL NULL
using Params = std::vector<Value>;         // $1, $2, ...

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  int64_t affected_rows = 0;  // INSERT/UPDATE/DELETE/COPY counts
};

// A NOTIFY received on a channel the connection listens to.
struct Notification {
  std::string channel;
  std::string payload;
};

class Transaction {
 public:
  // Runs one statement with parameters bound as text. Without parameters `sql` goes as one
  // simple query, which may hold several statements (one round trip; the last one's result).
  absl::StatusOr<QueryResult> Exec(std::string_view sql, const Params& params = {});
  // COPY `table` (`columns`) FROM STDIN in text format. `data` is whole lines, each ending in
  // '\n', in COPY text format (copy_format.h). Streams in ~8 KiB chunks.
  absl::Status CopyIn(const std::string& table, const std::vector<std::string>& columns,
                      std::string_view data);
  // The same, streamed: `next` is called until it returns false, each time filling `chunk` with
  // whole lines (the last newline may be left out; an empty chunk sends nothing), which are sent
  // while the next ones are being made.
  absl::Status CopyIn(const std::string& table, const std::vector<std::string>& columns,
                      const std::function<bool(std::string& chunk)>& next);
  // ROLLBACK TO SAVEPOINT `name`, then RELEASE it: what failed since the savepoint is undone, and
  // the transaction is sound again.
  absl::Status RollbackToSavepoint(std::string_view name);
  // The identifier quoted for SQL ("Weird Name" -> "\"Weird Name\"").
  std::string QuoteName(std::string_view identifier) const;
  // The text as a string literal for SQL, escaped for the connection's settings.
  std::string QuoteLiteral(std::string_view text) const;

 private:
  friend class Connection;
  Transaction(pqxx::transaction_base& tx, bool begin_pending) : tx_(tx), begin_(begin_pending) {}
  // Sends BEGIN if it is still pending: with `sql` (a simple query) when given, else alone.
  std::string Begin(std::string_view sql);
  absl::StatusOr<QueryResult> Send(std::string_view sql, const Params& params);
  pqxx::transaction_base& tx_;
  bool begin_;           // BEGIN not sent yet
  bool failed_ = false;  // a statement failed (CopyIn included)
};

// How a lost connection is opened again (see the top of this file).
struct ReconnectOptions {
  // The first wait after a failed attempt, doubling with each failure in a row up to the max.
  // The first attempt after a loss is made at once.
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{5'000};
  core::Clock* clock = nullptr;  // null: the system clock; not owned
  // Told whether each call reached the server (not owned; may be shared by several connections
  // to the same server). Calls answered during a backoff wait report nothing.
  core::DependencyState* state = nullptr;
};

class Connection {
 public:
  // `conninfo`: a libpq connection string or URI. Errors: kUnavailable when the server cannot be
  // reached, kPermissionDenied for refused credentials. The message never contains the password.
  // Only the first connection is made here: a server unreachable at start-up is an error (told
  // to `reconnect.state` as well).
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& conninfo,
                                                             ReconnectOptions reconnect = {});
  ~Connection();

  // One statement in its own transaction.
  absl::StatusOr<QueryResult> Exec(std::string_view sql, const Params& params = {});
  // The same through a statement prepared on this connection the first time `sql` is run, so
  // that a statement run over and over is parsed and planned once (the server's plan cache).
  absl::StatusOr<QueryResult> ExecPrepared(const std::string& sql, const Params& params);
  // Runs `body` in a transaction: committed when `body` returns OK, rolled back otherwise (and
  // when anything in it throws). The status of `body` or of the commit comes back.
  absl::Status InTransaction(const std::function<absl::Status(Transaction&)>& body);
  // The same, with BEGIN sent together with the body's first statement when that one has no
  // parameters (one simple query), instead of on a round trip of its own: for short transactions
  // where the round trip counts.
  absl::Status InTransactionBegunByFirstStatement(
      const std::function<absl::Status(Transaction&)>& body);
  // LISTEN `channel`; notifications sent on it from now on are kept for WaitForNotifications.
  // Not inside InTransaction.
  absl::Status Listen(const std::string& channel);
  // The notifications received so far, oldest first; when there are none, waits up to `timeout`
  // for one. Empty after the timeout.
  absl::StatusOr<std::vector<Notification>> WaitForNotifications(std::chrono::milliseconds timeout);
  // Server version as a number, e.g. 150018 (of the last connection made).
  int ServerVersion() const;
  // Whether the last call found the connection working (false from a loss until a reconnect).
  bool connected() const;
  // Connections opened again after a loss, so far.
  int reconnects() const;
  // As Transaction's, for statements built outside a transaction.
  std::string QuoteName(std::string_view identifier) const;
  std::string QuoteLiteral(std::string_view text) const;

 private:
  struct Impl;  // keeps libpqxx's headers out of every includer
  explicit Connection(std::unique_ptr<Impl> impl);
  // OK when the connection works or was opened again; kUnavailable otherwise (see the top).
  absl::Status EnsureConnected();
  // After a call failed with `error`: notes a lost connection. Returns `error`.
  absl::Status Failed(absl::Status error);
  void Succeeded();
  std::unique_ptr<Impl> impl_;
};

// conninfo with any password replaced by "***", for messages and logs.
std::string RedactConninfo(std::string_view conninfo);

}  // namespace sfbridge::postgres
