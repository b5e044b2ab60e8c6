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
// Not thread-safe: Run() is called once, on a thread of its own.

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/metrics.h"
#include "proxy/byte_buffer.h"
#include "proxy/cancel_keys.h"
#include "proxy/pg_wire.h"
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

class Session {
 public:
  // `client` is an accepted connection. `stop_fd` becomes readable when the proxy stops.
  // `write_path`, `cancel_keys` and the counters must outlive the session.
  Session(Fd client, int stop_fd, const SessionOptions& options, WritePath& write_path,
          CancelKeys& cancel_keys, const SessionCounters& counters, uint64_t id);
  ~Session();

  // Serves the client until either side closes, a protocol error, or the stop signal.
  void Run();

 private:
  // Where a reply to a message the session sent goes.
  enum class Route : uint8_t {
    kClient,      // forwarded as it is (the client's own messages)
    kTranslated,  // a statement of a translated simple Query: results forwarded, the extended
                  // protocol's acknowledgements (ParseComplete, BindComplete, NoData...) dropped
    kRaise,       // the DO block that raises an error: the error forwarded without its context
    kResult,      // RETURNING rows: DataRow forwarded, CommandComplete kept for the session
    kCapture,     // a ServerQuerier query: everything kept for the session
  };
  // A message sent to the server whose reply has not ended yet. `msg` is the message type, 'd'
  // for Describe of a statement (ParameterDescription, then RowDescription or NoData).
  struct Expect {
    char msg;
    Route route;
  };
  struct StatementInfo {
    StatementPlan plan;
    std::vector<uint32_t> param_types;
  };
  struct PortalInfo {
    std::shared_ptr<const StatementInfo> statement;
    BoundParams params;
    std::vector<int16_t> result_formats;  // as the client's Bind sent them
  };
  struct Capture {
    std::vector<wire::FieldDescription> fields;
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::string tag;
    std::optional<PgError> error;
  };
  class Querier;

  absl::Status Startup();
  absl::Status ReadStartupPacket(wire::Frame* frame);
  void HandleCancel(const wire::StartupPacket& packet);
  absl::Status Serve();

  // Client side.
  absl::Status ProcessClientInput();
  void OnClientMessage(const wire::Frame& frame, std::string_view raw);
  void OnQuery(std::string_view sql, std::string_view raw);
  void OnParse(const wire::Frame& frame);
  void OnBind(const wire::Frame& frame);
  void OnExecute(const wire::Frame& frame, std::string_view raw, bool last_before_sync);
  void OnClose(const wire::Frame& frame);
  void ProtocolError(std::string_view message);

  // Server side.
  void ProcessServerInput();
  void OnServerMessage(const wire::Frame& frame, std::string_view raw);
  // Sends the client a RETURNING query's error `fields` as SQLSTATE 58000: the write it
  // returns for is applied.
  void AppendAppliedButReturningFailed(std::vector<std::pair<char, std::string>> fields);
  // The same, for the commit of a transaction whose held writes Salesforce accepted.
  void AppendApplied(std::vector<std::pair<char, std::string>> fields, std::string_view what_failed,
                     std::string_view detail, std::string_view hint);
  void AppendAppliedButCommitFailed(std::vector<std::pair<char, std::string>> fields);
  void OnServerError(const wire::Frame& frame, std::string_view raw, Route route);
  void OnAuthRequest(const wire::Frame& frame, std::string_view raw);
  void OnBackendKeyData(const wire::Frame& frame);
  void Deliver(Route route, const wire::Frame& frame, std::string_view raw);
  // What the client is to receive: held while writes are held (FinishHeld), else sent.
  void ToClient(std::string_view raw) {
    if (holding_) {
      held_out_.append(raw);
    } else {
      client_out_.Append(raw);
    }
  }
  std::string* ClientOut() { return holding_ ? &held_out_ : client_out_.back(); }

  // Sends `msg` (already appended to server_out_) expecting a reply routed to `route`.
  void Expecting(char msg, Route route);
  // Reads and handles server messages (writing both ways meanwhile) until every expected reply
  // has ended. False when a connection was lost or the proxy stops.
  bool Drain();

  // Interception.
  // `last_before_sync`: the client's next message, already received, is a Sync.
  void InterceptExecute(const PortalInfo& portal, std::string_view raw_execute,
                        bool last_before_sync);
  void RunTranslatedQuery(const std::vector<std::string>& statements,
                          const std::vector<StatementPlan>& plans);
  void RunPassThroughStatement(const std::string& sql);
  // Answers a planned mutation per its outcome. `result_formats` empty: the simple protocol
  // (RowDescription sent for RETURNING rows).
  void RunMutation(const Mutation& mutation, const BoundParams& params,
                   const std::vector<int16_t>& result_formats, bool simple,
                   const std::function<void()>& pass_through);
  // The same, the write held in held_ (WritePath::Hold) and its answer kept in held_out_.
  void RunHeldMutation(const Mutation& mutation, const BoundParams& params,
                       const std::vector<int16_t>& result_formats, bool simple,
                       const std::function<void()>& pass_through);
  void Answer(const MutationOutcome& outcome, const Querier& querier,
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
  void RememberCommittedIds(const std::vector<std::pair<std::string, std::string>>& ids);
  // Rolls the server's transaction back, its answers kept from the client, whatever state it is
  // in (a Sync of the session's own first when the server skips to one).
  void EndTransactionSilently();
  // Runs `sql` on the server, its answer kept from the client (errors excepted).
  void RunSilently(std::string_view sql);
  // Runs `sql` without parameters as the session's own statement, its replies routed to `route`.
  void RunOwnStatement(std::string_view sql, Route route);
  // `sql` with the provisional ids of committed_ids_ replaced (nullopt: none in it).
  std::optional<std::string> WithCommittedIds(std::string_view sql) const;
  // A Bind whose text parameters name provisional ids of committed_ids_, rebuilt with
  // Salesforce's ids (nullopt: none).
  std::optional<std::string> BindWithCommittedIds(std::string_view body) const;
  // Whether a COMMIT, ROLLBACK or ROLLBACK TO must be seen before it runs.
  bool WatchingTransactionControl() const {
    return holding_ || (unit_deferred_ && held_ != nullptr && !held_->empty());
  }
  // Answers the client's statement with `error` in place of running it: raised on the server,
  // or, in a transaction that already failed, sent from here with the rest skipped to the Sync.
  void RefuseInstead(const PgError& error);
  void Raise(const PgError& error);
  // Closes the session's own statement and portal ahead of their reuse.
  void CloseReserved(Route route);
  TxStatus CurrentTxStatus() const;

  Fd client_fd_;
  int stop_fd_;
  const SessionOptions& options_;
  WritePath& write_path_;
  CancelKeys& cancel_keys_;
  SessionCounters counters_;
  uint64_t id_;
  std::shared_ptr<spdlog::logger> log_;

  std::unique_ptr<Stream> client_;
  std::unique_ptr<Stream> server_;
  InputBuffer client_in_, server_in_;
  ByteBuffer client_out_, server_out_;

  bool closing_ = false;  // the client sent Terminate or a fatal error was sent
  bool lost_ = false;     // a connection failed
  std::optional<wire::BackendKey> proxy_key_;
  int server_pid_ = 0;  // the server backend's process id (BackendKeyData)

  std::deque<Expect> expects_;
  bool server_discarding_ = false;  // the server skips messages until Sync after an error
  bool copy_in_ = false;            // the server is in COPY-in mode (ignores Sync and Flush)
  bool translating_ = false;        // a translated simple Query is running
  char tx_status_ = 'I';
  std::unordered_map<std::string, std::shared_ptr<const StatementInfo>> statements_;
  std::unordered_map<std::string, PortalInfo> portals_;
  // Statements and portals that end a transaction or roll back to a savepoint, by name: their
  // text (BeforeTransactionControl).
  std::unordered_map<std::string, std::string> tx_statements_;
  std::unordered_map<std::string, std::string> tx_portals_;
  Capture capture_;

  // Held writes (WritePath::Hold): the unit, and while it lasts the client's output.
  struct HeldAnswer {
    size_t begin = 0, end = 0;  // the statement's answer in held_out_
    std::vector<int16_t> result_formats;
    bool simple = false;
  };
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
  // Ids of records inserted in deferred transactions: provisional -> Salesforce's. A client that
  // names a provisional id after the COMMIT (an ORM re-reading the row it inserted) gets the row.
  std::unordered_map<std::string, std::string> committed_ids_;
  bool holding_ = false;
  bool provisional_answer_ = false;  // answering a held statement (nothing applied yet)
  std::string held_out_;
  std::vector<HeldAnswer> held_answers_;
};

}  // namespace sfbridge::proxy
