#pragma once

// The seam between the proxy's wire protocol (session.h) and its write path (writes/).
//
// The session speaks the protocol and owns the client's server connection. For every statement
// the client sends (each statement of a simple Query, each Parse of the extended protocol) it
// asks the write path for a StatementPlan. Statements planned kPassThrough go to Postgres
// untouched; kRefused ones are answered with the plan's error without reaching Salesforce; for
// kMutation the session, at execution time (the simple Query's turn, or Execute of a portal bound
// to that statement), calls WritePath::Execute with the bound parameters and a ServerQuerier on
// the client's own server connection, and then answers the client as the MutationOutcome says.
//
// Threading: one WritePath serves every session and is called from many threads at once.
// ServerQuerier belongs to one session and is used only during that session's Execute call.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sfbridge::proxy {

// Transaction status as the last ReadyForQuery reported it.
enum class TxStatus : char { kIdle = 'I', kInTransaction = 'T', kFailed = 'E' };

// The fields of an ErrorResponse or NoticeResponse the proxy composes itself.
struct PgError {
  std::string severity = "ERROR";  // "ERROR", "NOTICE", "WARNING"
  std::string sqlstate;            // five characters, e.g. "23502"
  std::string message;
  std::string detail;  // empty: not sent
  std::string hint;    // empty: not sent
  std::string column;  // the offending column, if one (field 'c')
  std::string table;   // field 't'
  std::string schema;  // field 's'
};

// Parameters as the client's Bind carried them: one entry per parameter, nullopt for NULL,
// `formats` per parameter (0 text, 1 binary) already expanded from Bind's 0/1/n convention,
// `type_oids` from the Parse (0 where the client left the type unspecified).
struct BoundParams {
  std::vector<std::optional<std::string>> values;
  std::vector<int16_t> formats;
  std::vector<uint32_t> type_oids;
};

// Runs a derived query on the client's own server connection, inside its current transaction,
// with its privileges; the client sees none of its messages.
class ServerQuerier {
 public:
  struct Column {
    std::string name;
    uint32_t type_oid = 0;
  };
  struct Rows {
    std::vector<Column> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;  // text format
    std::string command_tag;
  };
  virtual ~ServerQuerier() = default;
  // Parses, binds (with `params`) and executes `sql`, results in text format. A server error
  // comes back as a non-OK status whose message is the server's message and whose payload
  // (GetServerError) holds its fields; after one, the transaction is in the state Postgres left
  // it in (failed, inside an explicit transaction).
  virtual absl::StatusOr<Rows> Query(std::string_view sql, const BoundParams& params) = 0;
  // The process id of the server backend the queries run in (0 when not known).
  virtual int backend_pid() const { return 0; }
};

// Opaque to the session: what the write path needs to run one planned mutation.
struct Mutation {
  virtual ~Mutation() = default;
};

struct StatementPlan {
  enum class Kind { kPassThrough, kMutation, kRefused };
  Kind kind = Kind::kPassThrough;
  std::shared_ptr<const Mutation> mutation;  // kMutation
  PgError error;                             // kRefused
};

struct MutationOutcome {
  // Set when the statement turned out not to write a synced table: the session runs the
  // client's statement on the server as it is. Nothing else below is used then.
  bool pass_through = false;
  // Set on failure: the session makes Postgres raise this error on the client's connection
  // (DO $$ ... RAISE ... $$), so that client and server agree on the transaction state, and
  // forwards Postgres's ErrorResponse. Nothing else below is used then.
  std::optional<PgError> error;
  // Sent to the client before the result (e.g. "the Salesforce change cannot be rolled back").
  std::vector<PgError> notices;
  // "INSERT 0 3", "UPDATE 2", "DELETE 1".
  std::string command_tag;
  // RETURNING: the session runs this query on the client's connection with the result formats
  // the client asked for and forwards its rows (and, where the protocol calls for one, its
  // RowDescription) in place of the mutation's own, then sends `command_tag`.
  std::optional<std::string> returning_sql;
  BoundParams returning_params;
};

// The writes of one unit of work a client sends together (the statements of a pipeline up to its
// Sync, of a multi-statement simple Query), held until the unit ends and then sent to
// Salesforce as ONE all-or-none request (WritePath::Hold, CommitHeld). Opaque to the session;
// belongs to one session.
class HeldWrites {
 public:
  virtual ~HeldWrites() = default;
  // Statements held so far.
  virtual size_t size() const = 0;
  bool empty() const { return size() == 0; }
};

// The end of a unit of held writes.
struct HeldCommit {
  // Salesforce accepted every record: the answers of the held statements, in order, in place of
  // what Hold answered (the same tag; RETURNING over the confirmed rows; notices).
  std::vector<MutationOutcome> statements;
  // The ids the records inserted by the unit got in place of their provisional ones
  // (provisional, Salesforce's).
  std::vector<std::pair<std::string, std::string>> ids;
  // Otherwise nothing was applied anywhere: the statement (index into the held ones) whose
  // record Salesforce refused, or the first when the refusal belongs to none (a failed call),
  // and the error it gets. The session raises it on the client's connection, which rolls the
  // client's transaction back (or, in an explicit one, leaves it failed).
  size_t failed_statement = 0;
  std::optional<PgError> error;
};

class WritePath {
 public:
  virtual ~WritePath() = default;
  // The statements of a simple Query string, in order, each as its own SQL text. Errors:
  // kInvalidArgument when it does not parse (the session then passes the whole string through
  // and lets Postgres report the syntax error).
  virtual absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) = 0;
  // Plans one statement from its text alone (no server round trip; the session may call it while
  // a pipeline is in flight). A table name that matches a synced table's name in any synced
  // schema plans kMutation; Execute then resolves the name on the client's connection (its
  // search_path) and answers pass_through when it is not a synced table after all.
  virtual StatementPlan Plan(std::string_view statement_sql) = 0;
  // Runs a kMutation plan. The session calls it only when the transaction is not failed (in
  // state kFailed it passes the statement through and Postgres answers 25P02).
  virtual MutationOutcome Execute(const Mutation& mutation, const BoundParams& params,
                                  TxStatus tx_status, ServerQuerier& server) = 0;

  // A new, empty unit of held writes; nullptr when this write path does not hold writes (every
  // write is then Executed on its own).
  virtual std::unique_ptr<HeldWrites> NewHeldWrites() { return nullptr; }
  // Like Execute, but the write is held in `held` (made by NewHeldWrites) instead of being sent:
  // the rows change in the client's transaction only (read by its later statements, locked
  // against other writers, invisible to other sessions), and nothing reaches Salesforce before
  // CommitHeld. The outcome answers the statement for now: its tag and RETURNING over the
  // rows as the transaction holds them (an INSERT's id is a provisional one until CommitHeld).
  // An error means the statement is not held (and changed nothing).
  virtual MutationOutcome Hold(const Mutation& mutation, const BoundParams& params,
                               TxStatus tx_status, ServerQuerier& server, HeldWrites& held) {
    (void)held;
    return Execute(mutation, params, tx_status, server);
  }
  // Sends every write held in `held` to Salesforce in one all-or-none request and, when it is
  // accepted, puts the confirmed versions in their place in the client's transaction. `held` is
  // empty afterwards, whatever the outcome.
  virtual HeldCommit CommitHeld(HeldWrites& held, ServerQuerier& server) {
    (void)held;
    (void)server;
    return {};
  }
  // Forgets what `held` holds without sending it (the client's transaction is rolled back).
  virtual void DiscardHeld(HeldWrites& held) { (void)held; }
};

// The server's ErrorResponse carried by a status ServerQuerier::Query returned, or nullopt when
// the status carries none (e.g. the connection was lost). ServerErrorStatus builds such a status:
// code kFailedPrecondition, message the server's message, the fields as payload.
std::optional<PgError> GetServerError(const absl::Status& status);
absl::Status ServerErrorStatus(const PgError& error);

// A WritePath that passes everything through: the proxy without an org to write to.
std::unique_ptr<WritePath> MakePassThroughWritePath();

}  // namespace sfbridge::proxy
