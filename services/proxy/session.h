#pragma once

// One client connection of the proxy and its own server connection, from the startup packet to
// the end.
//
// Startup: SSLRequest is answered 'S' and TLS accepted when a certificate is configured, else
// 'N' (a direct TLS ClientHello is accepted too); GSSENCRequest gets 'N'; CancelRequest is
// mapped through CancelKeys to the server key it stands for; a 3.x StartupMessage is forwarded
// to Postgres unchanged, and the authentication exchange is relayed byte for byte (Postgres
// judges the password; SCRAM-SHA-256-PLUS is withdrawn when TLS ends at the proxy, since the
// channel Postgres would bind to is not the client's). The client receives a cancel key of the
// proxy's own instead of the server's.
//
// Then messages flow both ways in batches. The session reads each message's type and tracks
// what it needs: the replies still owed for every message sent to the server (so it knows when
// the server has caught up), transaction status (ReadyForQuery, and BEGIN/COMMIT/ROLLBACK tags
// and errors in between), COPY-in mode (where Postgres ignores Sync), the statements and portals
// that the write path planned as mutations or refusals.
//
// Statements go to the WritePath only when their text contains one of the words INSERT,
// UPDATE, DELETE, MERGE, COPY, TRUNCATE or EXECUTE (any case): a statement without them cannot
// change a table by itself, and reads then cost no parsing. A simple Query holding a planned
// mutation or refusal is run through the extended protocol, one statement after another with
// no Sync in between and one at the end, so it keeps the simple Query's single implicit
// transaction and the client sees what a simple Query would have produced.
//
// The session is the protocol's state machine; its parts are units of their own: the sockets and
// buffers (SessionIo), the replies the server owes (PendingReplies), what the client is to
// receive and what is held from it (ClientOutput), the prepared statements and portals it
// recognises (PreparedStatements), and the ids deferred transactions committed (CommittedIds).
// Its own code is split by side: session.cpp (the client's messages), session_startup.cpp,
// session_server.cpp (the server's messages), session_intercept.cpp (mutations and refusals),
// session_held_writes.cpp (a pipeline's held writes), session_deferred.cpp (deferred
// transactions).
//
// Not thread-safe: Run() is called once, on a thread of its own.

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/metrics.h"
#include "proxy/cancel_keys.h"
#include "proxy/client_output.h"
#include "proxy/committed_ids.h"
#include "proxy/pending_replies.h"
#include "proxy/pg_wire.h"
#include "proxy/prepared_statements.h"
#include "proxy/session_io.h"
#include "proxy/statement_text.h"
#include "proxy/stream.h"
#include "proxy/write_path.h"
#include "spdlog/logger.h"

namespace sfbridge::proxy {

struct SessionOptions {
  std::string upstream_host = "127.0.0.1";  // or a Unix socket directory (starts with '/')
  uint16_t upstream_port = 5432;
  size_t max_message_size = 64 << 20;  // a client message declaring more closes the connection
  SSL_CTX* tls = nullptr;              // not owned; null: no TLS to clients
  std::chrono::milliseconds startup_timeout{60000};
  std::chrono::milliseconds connect_timeout{10000};
};

// The counters a session updates. All must be set and outlive the session.
struct SessionCounters {
  core::Counter* passthrough = nullptr;  // statements (or whole Query strings) passed through
  core::Counter* mutation = nullptr;     // statements run through WritePath::Execute
  core::Counter* refused = nullptr;      // statements refused by the write path's plan
  core::Counter* protocol_errors = nullptr;
};

class Session : private SessionIo::Handler {
 public:
  // `client` is an accepted connection. `stop_fd` becomes readable when the proxy stops.
  // `write_path`, `cancel_keys` and the counters must outlive the session.
  Session(Fd client, int stop_fd, const SessionOptions& options, WritePath& write_path,
          CancelKeys& cancel_keys, const SessionCounters& counters, uint64_t id);
  ~Session() override;

  // Serves the client until either side closes, a protocol error, or the stop signal.
  void Run();

 private:
  // What a kCapture query returned (Querier).
  struct Capture {
    std::vector<wire::FieldDescription> fields;
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::string tag;
    std::optional<PgError> error;
  };
  // The write path's ServerQuerier: the session's own statement, routed kCapture.
  class Querier final : public ServerQuerier {
   public:
    explicit Querier(Session& session) : s_(session) {}
    absl::StatusOr<Rows> Query(std::string_view sql, const BoundParams& params) override;
    int backend_pid() const override { return s_.server_pid_; }
    // The last error a query of this querier got from the server.
    const std::optional<PgError>& last_error() const { return last_error_; }

   private:
    Session& s_;
    std::optional<PgError> last_error_;
  };

  // Startup (session_startup.cpp).
  absl::Status Startup();
  absl::Status ReadStartupPacket(wire::Frame* frame);
  void HandleCancel(const wire::StartupPacket& packet);
  void OnAuthRequest(const wire::Frame& frame, std::string_view raw);
  void OnBackendKeyData(const wire::Frame& frame);

  // SessionIo::Handler.
  void OnClientInput() override;
  void OnServerInput() override;
  void OnClientClosed(bool inside_message) override;
  bool AwaitingServer() const override { return !replies_.empty(); }

  // Client side (session.cpp).
  void OnClientMessage(const wire::Frame& frame, std::string_view raw);
  void OnQuery(std::string_view sql, std::string_view raw);
  void OnParse(const wire::Frame& frame, std::string_view raw);
  void OnBind(const wire::Frame& frame, std::string_view raw);
  void OnExecute(const wire::Frame& frame, std::string_view raw, bool last_before_sync);
  void ProtocolError(std::string_view message);

  // Server side (session_server.cpp).
  void OnServerMessage(const wire::Frame& frame, std::string_view raw);
  void OnReadyForQuery(const wire::Frame& frame, std::string_view raw);
  // Sends the client a RETURNING query's error `fields` as SQLSTATE 58000: the write it
  // returns for is applied.
  void AppendAppliedButReturningFailed(std::vector<std::pair<char, std::string>> fields);
  // The same, for the commit of a transaction whose held writes Salesforce accepted.
  void AppendApplied(std::vector<std::pair<char, std::string>> fields, std::string_view what_failed,
                     std::string_view detail, std::string_view hint);
  void AppendAppliedButCommitFailed(std::vector<std::pair<char, std::string>> fields);
  void OnServerError(const wire::Frame& frame, std::string_view raw, Route route);
  void Deliver(Route route, const wire::Frame& frame, std::string_view raw);

  // Sends `request` (already appended to server_out()) expecting a reply routed to `route`.
  void Expecting(Request request, Route route) { replies_.Sent(request, route); }
  // Reads and handles server messages (writing both ways meanwhile) until every expected reply
  // has ended. False when a connection was lost or the proxy stops.
  bool Drain();
  std::string* ServerOut() { return io_.server_out().back(); }

  // Interception (session_intercept.cpp).
  // `last_before_sync`: the client's next message, already received, is a Sync.
  void InterceptExecute(const PreparedPortal& portal, std::string_view raw_execute,
                        bool last_before_sync);
  void RunTranslatedQuery(const std::vector<std::string>& statements,
                          const std::vector<StatementPlan>& plans);
  void RunPassThroughStatement(const std::string& sql);
  // Answers a planned mutation per its outcome. `result_formats` empty: the simple protocol
  // (RowDescription sent for RETURNING rows).
  void RunMutation(const Mutation& mutation, const BoundParams& params,
                   const std::vector<int16_t>& result_formats, bool simple,
                   const std::function<void()>& pass_through);
  void Answer(const MutationOutcome& outcome, const Querier& querier,
              const std::vector<int16_t>& result_formats, bool simple,
              const std::function<void()>& pass_through);
  // Answers the client's statement with `error` in place of running it: raised on the server,
  // or, in a transaction that already failed, sent from here with the rest skipped to the Sync.
  void RefuseInstead(const PgError& error);
  void Raise(const PgError& error);
  // Runs `sql` without parameters as the session's own statement, its replies routed to `route`.
  void RunOwnStatement(std::string_view sql, Route route);
  // Closes the session's own statement and portal ahead of their reuse.
  void CloseReserved(Route route);

  // Units of held writes: a pipeline's up to its Sync (session_held_writes.cpp).
  // The same as RunMutation, the write held in held_ (WritePath::Hold) and its answer kept
  // from the client (ClientOutput::Hold).
  void RunHeldMutation(const Mutation& mutation, const BoundParams& params,
                       const std::vector<int16_t>& result_formats, bool simple,
                       const std::function<void()>& pass_through);
  // Whether the write about to run joins a unit of held writes (starting one when the client
  // has more to send before its Sync).
  bool WantsHolding(bool last_before_sync);
  // Ends the unit of held writes, if any: sends it to Salesforce (WritePath::CommitHeld) and
  // gives the client the held answers, or the refused statement's error; discards it when the
  // transaction failed after the writes. Before a Sync, a Flush, a Query, or a statement that
  // ends the transaction.
  void FinishHeld();
  // Before the client's transaction-control statement `sql` runs while writes are held: COMMIT
  // and the like end the unit first, ROLLBACK discards it. False when the statement must not
  // run (ROLLBACK TO SAVEPOINT: refused with an error raised in its place).
  bool BeforeTransactionControl(std::string_view sql);
  // Whether a COMMIT, ROLLBACK or ROLLBACK TO must be seen before it runs.
  bool WatchingTransactionControl() const {
    return out_.holding() || (unit_deferred_ && held_ != nullptr && !held_->empty());
  }

  // Deferred transactions: an explicit transaction's writes held until its COMMIT
  // (session_deferred.cpp).
  // Whether the current explicit transaction holds its writes until COMMIT; an error (22023)
  // when sfbridge.transactions has a value other than immediate or deferred.
  absl::StatusOr<bool> DeferredTransaction();
  void RunDeferredMutation(const Mutation& mutation, const BoundParams& params,
                           const std::vector<int16_t>& result_formats, bool simple,
                           const std::function<void()>& pass_through);
  // At the COMMIT of a deferred transaction: sends its writes. True when the COMMIT is to run;
  // false when Salesforce refused them: the client has the error and the transaction is rolled
  // back (the COMMIT must not run).
  bool CommitDeferred();
  // Before a ROLLBACK, ROLLBACK TO or a COMMIT of a deferred transaction whose writes are held
  // (BeforeTransactionControl). False when the statement must not run.
  bool BeforeDeferredTransactionControl(TransactionControl control);
  // Rolls the server's transaction back, its answers kept from the client, whatever state it is
  // in (a Sync of the session's own first when the server skips to one).
  void EndTransactionSilently();

  const SessionOptions& options_;
  WritePath& write_path_;
  CancelKeys& cancel_keys_;
  SessionCounters counters_;
  uint64_t id_;
  std::shared_ptr<spdlog::logger> log_;

  SessionIo io_;
  PendingReplies replies_;
  ClientOutput out_{io_.client_out()};
  PreparedStatements prepared_;

  std::optional<wire::BackendKey> proxy_key_;
  int server_pid_ = 0;  // the server backend's process id (BackendKeyData)

  bool translating_ = false;  // a translated simple Query is running
  // As the last ReadyForQuery reported it, followed through BEGIN/COMMIT/ROLLBACK tags and
  // errors since.
  TxStatus tx_status_ = TxStatus::kIdle;
  Capture capture_;

  // Held writes (WritePath::Hold): the unit, pipelined or deferred.
  std::unique_ptr<HeldWrites> held_;
  // held_ holds the writes of an explicit transaction in deferred mode (sfbridge.transactions),
  // until its COMMIT; their answers are not held.
  bool unit_deferred_ = false;
  enum class TxMode : uint8_t { kUnknown, kImmediate, kDeferred };
  TxMode tx_mode_ = TxMode::kUnknown;  // of the current explicit transaction, once asked
  // A deferred COMMIT Salesforce refused: the client's messages up to its Sync are skipped, as
  // PostgreSQL skips them after an error.
  bool skip_until_sync_ = false;
  // Held writes Salesforce accepted wait for the client's transaction to commit (the Sync that
  // ends a pipeline, the COMMIT of a deferred transaction): an error of the server until the
  // transaction ends is answered 58000, "applied in Salesforce".
  bool applied_in_salesforce_ = false;
  CommittedIds committed_ids_;
  bool provisional_answer_ = false;  // answering a held statement (nothing applied yet)
};

}  // namespace sfbridge::proxy
