// The session's interception: planned mutations and refusals, run on the client's own server
// connection (session.h).

#include "common/core/strings.h"
#include "proxy/session.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;

// The statement and portal name the session uses for its own queries. Closed before each use,
// so a leftover from a failed query never collides; clients do not use it.
constexpr std::string_view kReserved = "__sfbridge_proxy__";

}  // namespace

class Session::Querier final : public ServerQuerier {
 public:
  explicit Querier(Session& session) : s_(session) {}

  absl::StatusOr<Rows> Query(std::string_view sql, const BoundParams& params) override {
    if (s_.lost_) return absl::UnavailableError("the connection to the database was lost");
    if (s_.server_discarding_) {
      // An earlier query failed: Postgres ignores everything until the client's Sync.
      PgError e;
      e.sqlstate = "25P02";
      e.message = "current transaction is aborted, commands ignored until end of transaction block";
      return ServerErrorStatus(last_error_ ? *last_error_ : e);
    }
    s_.capture_ = {};
    std::string* out = s_.server_out_.back();
    s_.CloseReserved(Route::kCapture);
    wire::AppendParse(out, kReserved, sql, params.type_oids);
    s_.Expecting('P', Route::kCapture);
    wire::AppendBind(out, kReserved, kReserved, params, {});
    s_.Expecting('B', Route::kCapture);
    wire::AppendDescribe(out, 'P', kReserved);
    s_.Expecting('D', Route::kCapture);
    wire::AppendExecute(out, kReserved, 0);
    s_.Expecting('E', Route::kCapture);
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

  const std::optional<PgError>& last_error() const { return last_error_; }

 private:
  Session& s_;
  std::optional<PgError> last_error_;
};

void Session::CloseReserved(Route route) {
  // Both: a portal of a completed query outlives its statement's Close until the transaction
  // ends.
  wire::AppendClose(server_out_.back(), 'P', kReserved);
  Expecting('C', route);
  wire::AppendClose(server_out_.back(), 'S', kReserved);
  Expecting('C', route);
}

TxStatus Session::CurrentTxStatus() const {
  switch (tx_status_) {
    case 'T':
      return TxStatus::kInTransaction;
    case 'E':
      return TxStatus::kFailed;
    default:
      return TxStatus::kIdle;
  }
}

void Session::OnQuery(std::string_view sql, std::string_view raw) {
  // A simple Query drops the unnamed statement and portal.
  if (!statements_.empty()) statements_.erase("");
  if (!portals_.empty()) portals_.erase("");
  auto forward = [&](int statements) {
    counters_.passthrough->Increment(statements);
    server_out_.Append(raw);
    Expecting('Q', Route::kClient);
  };
  if (server_discarding_ || copy_in_ || !MayWrite(sql)) return forward(1);
  absl::StatusOr<std::vector<std::string>> statements = write_path_.Split(sql);
  if (!statements.ok() || statements->empty()) return forward(1);  // Postgres reports it
  std::vector<StatementPlan> plans;
  plans.reserve(statements->size());
  bool intercept = false;
  for (const auto& statement : *statements) {
    plans.push_back(MayWrite(statement) ? write_path_.Plan(statement) : StatementPlan{});
    intercept |= plans.back().kind != StatementPlan::Kind::kPassThrough;
  }
  if (!intercept) return forward(static_cast<int>(statements->size()));
  translating_ = true;
  if (Drain()) {
    if (server_discarding_) {
      server_out_.Append(raw);  // Postgres skips it, as it would have without the proxy
    } else {
      RunTranslatedQuery(*statements, plans);
    }
  }
  translating_ = false;
}

void Session::RunTranslatedQuery(const std::vector<std::string>& statements,
                                 const std::vector<StatementPlan>& plans) {
  for (size_t i = 0; i < statements.size() && !server_discarding_ && !lost_; ++i) {
    const StatementPlan& plan = plans[i];
    // In a failed transaction the statement goes to Postgres, which answers 25P02.
    if (plan.kind == StatementPlan::Kind::kPassThrough || tx_status_ == 'E') {
      counters_.passthrough->Increment();
      RunPassThroughStatement(statements[i]);
    } else if (plan.kind == StatementPlan::Kind::kRefused) {
      counters_.refused->Increment();
      Raise(plan.error);
    } else {
      counters_.mutation->Increment();
      RunMutation(*plan.mutation, BoundParams{}, {}, /*simple=*/true,
                  [&] { RunPassThroughStatement(statements[i]); });
    }
  }
  if (lost_) return;
  wire::AppendSync(server_out_.back());
  Expecting('S', Route::kClient);  // its ReadyForQuery is the Query's one
}

void Session::RunPassThroughStatement(const std::string& sql) {
  std::string* out = server_out_.back();
  wire::AppendParse(out, "", sql, {});
  Expecting('P', Route::kTranslated);
  wire::AppendBind(out, "", "", BoundParams{}, {});
  Expecting('B', Route::kTranslated);
  wire::AppendDescribe(out, 'P', "");
  Expecting('D', Route::kTranslated);
  wire::AppendExecute(out, "", 0);
  Expecting('E', Route::kTranslated);
  wire::AppendFlush(out);
  Drain();
}

void Session::InterceptExecute(const PortalInfo& portal, std::string_view raw_execute) {
  if (!Drain()) return;
  auto forward = [&] {
    counters_.passthrough->Increment();
    server_out_.Append(raw_execute);
    Expecting('E', Route::kClient);
  };
  if (server_discarding_) {
    server_out_.Append(raw_execute);  // Postgres skips it until the Sync
    return;
  }
  const StatementPlan& plan = portal.statement->plan;
  if (tx_status_ == 'E') return forward();  // Postgres answers 25P02
  if (plan.kind == StatementPlan::Kind::kRefused) {
    counters_.refused->Increment();
    Raise(plan.error);
    return;
  }
  counters_.mutation->Increment();
  RunMutation(*plan.mutation, portal.params, portal.result_formats, /*simple=*/false, forward);
}

void Session::RunMutation(const Mutation& mutation, const BoundParams& params,
                          const std::vector<int16_t>& result_formats, bool simple,
                          const std::function<void()>& pass_through) {
  Querier querier(*this);
  MutationOutcome outcome = write_path_.Execute(mutation, params, CurrentTxStatus(), querier);
  if (lost_) return;
  if (server_discarding_) {
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
    wire::AppendErrorResponse(client_out_.back(), e);
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
    wire::AppendNotice(client_out_.back(), notice);
  }
  if (outcome.returning_sql) {
    capture_ = {};
    std::string* out = server_out_.back();
    CloseReserved(Route::kResult);
    wire::AppendParse(out, kReserved, *outcome.returning_sql, outcome.returning_params.type_oids);
    Expecting('P', Route::kResult);
    wire::AppendBind(out, kReserved, kReserved, outcome.returning_params, result_formats);
    Expecting('B', Route::kResult);
    if (simple) {
      // The simple protocol announces rows with a RowDescription; after the extended
      // protocol's Describe the client already has it.
      wire::AppendDescribe(out, 'P', kReserved);
      Expecting('D', Route::kTranslated);
    }
    wire::AppendExecute(out, kReserved, 0);
    Expecting('E', Route::kResult);
    wire::AppendFlush(out);
    if (!Drain() || server_discarding_) return;  // the error went to the client
  }
  wire::AppendCommandComplete(client_out_.back(), outcome.command_tag);
}

void Session::Raise(const PgError& error) {
  std::string* out = server_out_.back();
  CloseReserved(Route::kRaise);
  wire::AppendParse(out, kReserved, RaiseSql(error), {});
  Expecting('P', Route::kRaise);
  wire::AppendBind(out, kReserved, kReserved, BoundParams{}, {});
  Expecting('B', Route::kRaise);
  wire::AppendExecute(out, kReserved, 0);
  Expecting('E', Route::kRaise);
  wire::AppendFlush(out);
  Drain();
}

}  // namespace sfbridge::proxy
