// The session's interception: planned mutations and refusals, run on the client's own server
// connection, and the session's own statements there (session.h).

#include <algorithm>

#include "proxy/pg_message_types.h"
#include "proxy/session.h"

namespace sfbridge::proxy {
namespace {

// The statement and portal name the session uses for its own queries. Closed before each use,
// so a leftover from a failed query never collides; clients do not use it.
constexpr std::string_view kReserved = "__sfbridge_proxy__";

}  // namespace

absl::StatusOr<ServerQuerier::Rows> Session::Querier::Query(std::string_view sql,
                                                            const BoundParams& params) {
  if (s_.io_.lost()) return absl::UnavailableError("the connection to the database was lost");
  if (s_.replies_.server_discarding()) {
    // An earlier query failed: Postgres ignores everything until the client's Sync.
    PgError e;
    e.sqlstate = "25P02";
    e.message = "current transaction is aborted, commands ignored until end of transaction block";
    return ServerErrorStatus(last_error_ ? *last_error_ : e);
  }
  s_.capture_ = {};
  std::string* out = s_.ServerOut();
  s_.CloseReserved(Route::kCapture);
  wire::AppendParse(out, kReserved, sql, params.type_oids);
  s_.Expecting(Request::kParse, Route::kCapture);
  wire::AppendBind(out, kReserved, kReserved, params, {});
  s_.Expecting(Request::kBind, Route::kCapture);
  wire::AppendDescribe(out, wire::kPortal, kReserved);
  s_.Expecting(Request::kDescribe, Route::kCapture);
  wire::AppendExecute(out, kReserved, 0);
  s_.Expecting(Request::kExecute, Route::kCapture);
  wire::AppendFlush(out);  // not Sync: that would end the client's implicit transaction
  if (!s_.Drain()) return absl::UnavailableError("the connection to the database was lost");
  if (s_.capture_.error) {
    last_error_ = s_.capture_.error;
    return ServerErrorStatus(*s_.capture_.error);
  }
  Rows rows;
  rows.columns.reserve(s_.capture_.fields.size());
  for (const auto& f : s_.capture_.fields) rows.columns.push_back({f.name, f.type_oid});
  rows.rows = std::move(s_.capture_.rows);
  rows.command_tag = std::move(s_.capture_.tag);
  return rows;
}

void Session::CloseReserved(Route route) {
  // Both: a portal of a completed query outlives its statement's Close until the transaction
  // ends.
  wire::AppendClose(ServerOut(), wire::kPortal, kReserved);
  Expecting(Request::kClose, route);
  wire::AppendClose(ServerOut(), wire::kStatement, kReserved);
  Expecting(Request::kClose, route);
}

void Session::OnQuery(std::string_view sql, std::string_view raw) {
  prepared_.OnQuery();
  auto forward = [&](int statements) {
    counters_.passthrough->Increment(statements);
    io_.server_out().Append(raw);
    Expecting(Request::kQuery, Route::kClient);
  };
  const bool watch = WatchingTransactionControl();
  if (replies_.server_discarding() || replies_.copy_in() || (!watch && !MayWrite(sql))) {
    return forward(1);
  }
  absl::StatusOr<std::vector<std::string>> statements = write_path_.Split(sql);
  if (!statements.ok() || statements->empty()) return forward(1);  // Postgres reports it
  std::vector<StatementPlan> plans;
  plans.reserve(statements->size());
  bool intercept = false;
  for (const auto& statement : *statements) {
    plans.push_back(MayWrite(statement) ? write_path_.Plan(statement) : StatementPlan{});
    intercept |= plans.back().kind != StatementPlan::Kind::kPassThrough ||
                 (watch && ClassifyTransactionControl(statement) != TransactionControl::kNone);
  }
  if (!intercept) return forward(static_cast<int>(statements->size()));
  translating_ = true;
  if (Drain()) {
    if (replies_.server_discarding()) {
      io_.server_out().Append(raw);  // Postgres skips it, as it would have without the proxy
    } else {
      RunTranslatedQuery(*statements, plans);
    }
  }
  translating_ = false;
}

void Session::RunTranslatedQuery(const std::vector<std::string>& statements,
                                 const std::vector<StatementPlan>& plans) {
  // Two writes or more: one unit, all or none.
  const bool hold = std::count_if(plans.begin(), plans.end(),
                                  [](const StatementPlan& p) {
                                    return p.kind == StatementPlan::Kind::kMutation;
                                  }) > 1 &&
                    WantsHolding(false);
  for (size_t i = 0;
       i < statements.size() && !replies_.server_discarding() && !skip_until_sync_ && !io_.lost();
       ++i) {
    const StatementPlan& plan = plans[i];
    // In a failed transaction the statement goes to Postgres, which answers 25P02.
    if (plan.kind == StatementPlan::Kind::kPassThrough || tx_status_ == TxStatus::kFailed) {
      if (WatchingTransactionControl() &&
          ClassifyTransactionControl(statements[i]) != TransactionControl::kNone &&
          !BeforeTransactionControl(statements[i])) {
        continue;
      }
      counters_.passthrough->Increment();
      RunPassThroughStatement(statements[i]);
    } else if (plan.kind == StatementPlan::Kind::kRefused) {
      counters_.refused->Increment();
      Raise(plan.error);
    } else {
      counters_.mutation->Increment();
      auto pass_through = [&] { RunPassThroughStatement(statements[i]); };
      absl::StatusOr<bool> deferred = DeferredTransaction();
      if (!deferred.ok()) continue;  // the error is raised; the rest is skipped
      if (*deferred) {
        RunDeferredMutation(*plan.mutation, BoundParams{}, {}, /*simple=*/true, pass_through);
      } else if (hold) {
        RunHeldMutation(*plan.mutation, BoundParams{}, {}, /*simple=*/true, pass_through);
      } else {
        RunMutation(*plan.mutation, BoundParams{}, {}, /*simple=*/true, pass_through);
      }
    }
  }
  FinishHeld();
  skip_until_sync_ = false;  // the Sync below ends what a refused COMMIT skipped
  if (io_.lost()) return;
  wire::AppendSync(ServerOut());
  Expecting(Request::kSync, Route::kClient);  // its ReadyForQuery is the Query's one
}

void Session::RunPassThroughStatement(const std::string& sql) {
  std::string* out = ServerOut();
  wire::AppendParse(out, "", sql, {});
  Expecting(Request::kParse, Route::kTranslated);
  wire::AppendBind(out, "", "", BoundParams{}, {});
  Expecting(Request::kBind, Route::kTranslated);
  wire::AppendDescribe(out, wire::kPortal, "");
  Expecting(Request::kDescribe, Route::kTranslated);
  wire::AppendExecute(out, "", 0);
  Expecting(Request::kExecute, Route::kTranslated);
  wire::AppendFlush(out);
  Drain();
}

void Session::InterceptExecute(const PreparedPortal& portal, std::string_view raw_execute,
                               bool last_before_sync) {
  if (!Drain()) return;
  auto forward = [&] {
    counters_.passthrough->Increment();
    io_.server_out().Append(raw_execute);
    Expecting(Request::kExecute, Route::kClient);
  };
  if (replies_.server_discarding()) {
    io_.server_out().Append(raw_execute);  // Postgres skips it until the Sync
    return;
  }
  const StatementPlan& plan = portal.statement->plan;
  if (tx_status_ == TxStatus::kFailed) return forward();  // Postgres answers 25P02
  if (plan.kind == StatementPlan::Kind::kRefused) {
    counters_.refused->Increment();
    Raise(plan.error);
    return;
  }
  counters_.mutation->Increment();
  absl::StatusOr<bool> deferred = DeferredTransaction();
  if (!deferred.ok()) return;  // the error is raised
  if (*deferred) {
    RunDeferredMutation(*plan.mutation, portal.params, portal.result_formats, /*simple=*/false,
                        forward);
  } else if (WantsHolding(last_before_sync)) {
    RunHeldMutation(*plan.mutation, portal.params, portal.result_formats, /*simple=*/false,
                    forward);
  } else {
    RunMutation(*plan.mutation, portal.params, portal.result_formats, /*simple=*/false, forward);
  }
}

void Session::RunMutation(const Mutation& mutation, const BoundParams& params,
                          const std::vector<int16_t>& result_formats, bool simple,
                          const std::function<void()>& pass_through) {
  Querier querier(*this);
  MutationOutcome outcome = write_path_.Execute(mutation, params, tx_status_, querier);
  Answer(outcome, querier, result_formats, simple, pass_through);
}

void Session::Answer(const MutationOutcome& outcome, const Querier& querier,
                     const std::vector<int16_t>& result_formats, bool simple,
                     const std::function<void()>& pass_through) {
  if (io_.lost()) return;
  if (replies_.server_discarding()) {
    // A derived query failed: Postgres already skips to the Sync and the transaction is in
    // the state it left it in; only the client still needs to hear the error.
    PgError e;
    if (outcome.error) {
      e = *outcome.error;
    } else if (querier.last_error()) {
      e = *querier.last_error();
    } else {
      e.sqlstate = "XX000";
      e.message = "the write could not be completed";
    }
    e.severity = "ERROR";
    wire::AppendErrorResponse(out_.Compose(), e);
    return;
  }
  if (outcome.pass_through) {
    pass_through();
    return;
  }
  if (outcome.error) {
    Raise(*outcome.error);
    return;
  }
  for (PgError notice : outcome.notices) {
    if (notice.severity.empty() || notice.severity == "ERROR") notice.severity = "NOTICE";
    if (notice.sqlstate.empty()) notice.sqlstate = "00000";
    wire::AppendNotice(out_.Compose(), notice);
  }
  if (outcome.returning_sql) {
    capture_ = {};
    std::string* out = ServerOut();
    CloseReserved(Route::kResult);
    wire::AppendParse(out, kReserved, *outcome.returning_sql, outcome.returning_params.type_oids);
    Expecting(Request::kParse, Route::kResult);
    wire::AppendBind(out, kReserved, kReserved, outcome.returning_params, result_formats);
    Expecting(Request::kBind, Route::kResult);
    if (simple) {
      // The simple protocol announces rows with a RowDescription; after the extended
      // protocol's Describe the client already has it.
      wire::AppendDescribe(out, wire::kPortal, kReserved);
      Expecting(Request::kDescribe, Route::kTranslated);
    }
    wire::AppendExecute(out, kReserved, 0);
    Expecting(Request::kExecute, Route::kResult);
    wire::AppendFlush(out);
    if (!Drain() || replies_.server_discarding()) return;  // the error went to the client
  }
  wire::AppendCommandComplete(out_.Compose(), outcome.command_tag);
}

void Session::RefuseInstead(const PgError& error) {
  if (tx_status_ != TxStatus::kFailed && !replies_.server_discarding()) {
    Raise(error);
    return;
  }
  // Already failed: the server would skip a Raise. The statement is not run, and what the
  // client sends up to its Sync is skipped, as after any error.
  PgError e = error;
  e.severity = "ERROR";
  wire::AppendErrorResponse(out_.Compose(), e);
  skip_until_sync_ = true;
}

void Session::Raise(const PgError& error) { RunOwnStatement(RaiseSql(error), Route::kRaise); }

void Session::RunOwnStatement(std::string_view sql, Route route) {
  std::string* out = ServerOut();
  CloseReserved(route);
  wire::AppendParse(out, kReserved, sql, {});
  Expecting(Request::kParse, route);
  wire::AppendBind(out, kReserved, kReserved, BoundParams{}, {});
  Expecting(Request::kBind, route);
  wire::AppendExecute(out, kReserved, 0);
  Expecting(Request::kExecute, route);
  wire::AppendFlush(out);
  Drain();
}

}  // namespace sfbridge::proxy
