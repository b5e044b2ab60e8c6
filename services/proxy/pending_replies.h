#pragma once

// The replies the server still owes for the messages a session sent it, in order, and where
// each goes (the client, or the session itself). From this queue the session knows when the
// server has caught up, which reply a server message belongs to, and what Postgres skips: after
// an error in the extended protocol everything up to the next Sync, and every Sync while COPY-in
// lasts. Pure bookkeeping over message types: no I/O.
//
// Not thread-safe: belongs to one session.

#include <cstdint>
#include <deque>

namespace sfbridge::proxy {

// Where the reply to a message the session sent goes.
enum class Route : uint8_t {
  kClient,      // forwarded as it is (the client's own messages)
  kTranslated,  // a statement of a translated simple Query: results forwarded, the extended
                // protocol's acknowledgements (ParseComplete, BindComplete, NoData...) dropped
  kRaise,       // the DO block that raises an error: the error forwarded without its context
  kResult,      // RETURNING rows: DataRow forwarded, CommandComplete kept for the session
  kCapture,     // a ServerQuerier query: everything kept for the session
};

// A message sent to the server, as far as its reply is concerned.
enum class Request : uint8_t {
  kParse,              // ends with ParseComplete
  kBind,               // BindComplete
  kDescribe,           // of a portal: RowDescription or NoData
  kDescribeStatement,  // ParameterDescription, then RowDescription or NoData
  kExecute,            // CommandComplete, PortalSuspended or EmptyQueryResponse
  kClose,              // CloseComplete
  kFunctionCall,       // FunctionCallResponse
  kSync,               // ReadyForQuery
  kQuery,              // a simple Query: ReadyForQuery
};

class PendingReplies {
 public:
  struct Pending {
    Request request;
    Route route;
  };

  // `request` was sent to the server, its reply to go to `route`. Nothing is owed for what
  // the server will skip: any message but Sync while it discards after an error, a Sync in
  // COPY-in mode. A Sync ends the discarding.
  void Sent(Request request, Route route);

  bool empty() const { return pending_.empty(); }
  // The reply the next server message belongs to; nullptr when none is owed.
  const Pending* front() const { return pending_.empty() ? nullptr : &pending_.front(); }
  // front()'s route; kClient when none is owed (messages the server sends by itself).
  Route route() const { return pending_.empty() ? Route::kClient : pending_.front().route; }

  // The server sent a message of `type` that belongs to front() (any but ReadyForQuery,
  // ErrorResponse and CopyIn/CopyBothResponse, which have their own calls below): ends
  // front()'s reply when it is the last message of it.
  void OnMessage(char type);
  // ReadyForQuery: ends the reply to a Sync or Query at the front. True when that was a Sync the
  // session sent for itself (routed kRaise), whose ReadyForQuery the client must not see; else
  // COPY-in mode is over.
  bool OnReadyForQuery();
  // ErrorResponse: COPY-in mode is over; in the extended protocol the server now skips
  // everything up to the next Sync, so the replies owed before that Sync are dropped.
  void OnError();
  // CopyInResponse or CopyBothResponse: COPY-in mode, in which Postgres ignores Sync, so no
  // ReadyForQuery is owed for the Syncs sent behind the COPY.
  void OnCopyIn();
  // The COPY ended (CopyDone or CopyFail sent).
  void OnCopyEnd() { copy_in_ = false; }

  // The server skips messages until a Sync after an error.
  bool server_discarding() const { return server_discarding_; }
  // The server is in COPY-in mode (ignores Sync and Flush).
  bool copy_in() const { return copy_in_; }

 private:
  std::deque<Pending> pending_;
  bool server_discarding_ = false;
  bool copy_in_ = false;
};

}  // namespace sfbridge::proxy
