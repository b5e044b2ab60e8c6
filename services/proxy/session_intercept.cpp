// The session's interception: planned mutations and refusals, run on the client's own server
// connection (session.h).

#include <algorithm>

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

  int backend_pid() const override { return s_.server_pid_; }

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
  const bool watch = WatchingTransactionControl();
  if (server_discarding_ || copy_in_ || (!watch && !MayWrite(sql))) return forward(1);
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
  // Two writes or more: one unit, all or none.
  const bool hold = std::count_if(plans.begin(), plans.end(),
                                  [](const StatementPlan& p) {
                                    return p.kind == StatementPlan::Kind::kMutation;
                                  }) > 1 &&
                    WantsHolding(false);
  for (size_t i = 0; i < statements.size() && !server_discarding_ && !skip_until_sync_ && !lost_;
       ++i) {
    const StatementPlan& plan = plans[i];
    // In a failed transaction the statement goes to Postgres, which answers 25P02.
    if (plan.kind == StatementPlan::Kind::kPassThrough || tx_status_ == 'E') {
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

void Session::InterceptExecute(const PortalInfo& portal, std::string_view raw_execute,
                               bool last_before_sync) {
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

bool Session::BeforeTransactionControl(std::string_view sql) {
  const TransactionControl control = ClassifyTransactionControl(sql);
  if (control != TransactionControl::kNone && unit_deferred_ && held_ && !held_->empty()) {
    Drain();
    if (control == TransactionControl::kCommit && tx_status_ == 'T') return CommitDeferred();
    if (control == TransactionControl::kRollbackToSavepoint) {
      PgError e;
      e.sqlstate = "0A000";
      e.message =
          "ROLLBACK TO SAVEPOINT is not supported after writes to synced tables in a deferred "
          "transaction";
      e.detail = "Nothing was sent to Salesforce; the transaction is aborted.";
      e.hint = "Roll the whole transaction back and run it again.";
      RefuseInstead(e);
      return false;
    }
    // ROLLBACK, or the end of a failed transaction: Salesforce never sees the writes.
    write_path_.DiscardHeld(*held_);
    unit_deferred_ = false;
    return true;
  }
  switch (control) {
    case TransactionControl::kNone:
      return true;
    case TransactionControl::kCommit:
      FinishHeld();
      return true;
    case TransactionControl::kRollback:
      Drain();
      if (held_) write_path_.DiscardHeld(*held_);
      FinishHeld();  // nothing held now: the answers kept so far go out
      return true;
    case TransactionControl::kRollbackToSavepoint: {
      PgError e;
      e.sqlstate = "0A000";
      e.message =
          "ROLLBACK TO SAVEPOINT is not supported after writes to synced tables in the same "
          "pipeline or query string";
      e.detail = "Those writes are held until the pipeline's Sync; nothing was changed.";
      e.hint = "Send a Sync (end the pipeline) before rolling back to a savepoint.";
      RefuseInstead(e);
      return false;
    }
  }
  return true;
}

void Session::RunMutation(const Mutation& mutation, const BoundParams& params,
                          const std::vector<int16_t>& result_formats, bool simple,
                          const std::function<void()>& pass_through) {
  Querier querier(*this);
  MutationOutcome outcome = write_path_.Execute(mutation, params, CurrentTxStatus(), querier);
  Answer(outcome, querier, result_formats, simple, pass_through);
}

void Session::RunHeldMutation(const Mutation& mutation, const BoundParams& params,
                              const std::vector<int16_t>& result_formats, bool simple,
                              const std::function<void()>& pass_through) {
  if (!holding_) {
    holding_ = true;
    held_out_.clear();
    held_answers_.clear();
  }
  Querier querier(*this);
  const size_t held_before = held_->size();
  const size_t begin = held_out_.size();
  MutationOutcome outcome = write_path_.Hold(mutation, params, CurrentTxStatus(), querier, *held_);
  const bool held = held_->size() > held_before;
  provisional_answer_ = held;
  Answer(outcome, querier, result_formats, simple, pass_through);
  provisional_answer_ = false;
  if (held) held_answers_.push_back({begin, held_out_.size(), result_formats, simple});
}

void Session::Answer(const MutationOutcome& outcome, const Querier& querier,
                     const std::vector<int16_t>& result_formats, bool simple,
                     const std::function<void()>& pass_through) {
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
    wire::AppendErrorResponse(ClientOut(), e);
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
    wire::AppendNotice(ClientOut(), notice);
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
  wire::AppendCommandComplete(ClientOut(), outcome.command_tag);
}

bool Session::WantsHolding(bool last_before_sync) {
  if (held_ && !held_->empty()) return true;
  if (last_before_sync) return false;  // a write alone before its Sync is a unit of its own
  if (!held_) held_ = write_path_.NewHeldWrites();
  return held_ != nullptr;
}

void Session::FinishHeld() {
  if (!holding_) return;
  Drain();  // everything sent before has been answered
  holding_ = false;
  std::string held = std::move(held_out_);
  std::vector<HeldAnswer> answers = std::move(held_answers_);
  held_out_.clear();
  held_answers_.clear();
  if (!held_ || held_->empty() || lost_) {
    if (held_) write_path_.DiscardHeld(*held_);
    ToClient(held);
    return;
  }
  if (server_discarding_ || tx_status_ == 'E') {
    // A statement after the writes failed: the transaction rolls back (or stays failed) with
    // them, and Salesforce never sees them.
    write_path_.DiscardHeld(*held_);
    ToClient(held);
    return;
  }
  Querier querier(*this);
  HeldCommit commit = write_path_.CommitHeld(*held_, querier);
  if (lost_) return;
  if (commit.error || commit.statements.size() != answers.size()) {
    // Nothing was applied: the answers up to the statement the refusal belongs to, then its
    // error, raised on the server so that the transaction rolls back as PostgreSQL's would.
    const size_t cut = answers.empty()
                           ? held.size()
                           : answers[std::min(commit.failed_statement, answers.size() - 1)].begin;
    ToClient(std::string_view(held).substr(0, cut));
    PgError error = commit.error.value_or(
        PgError{.sqlstate = "XX000", .message = "the held writes could not be sent to Salesforce"});
    if (applied_in_salesforce_) {
      // An earlier unit of this transaction (before a Flush) is in Salesforce already.
      error.message = StrCat(
          "the writes sent before the last Flush of this pipeline ARE applied in Salesforce; "
          "the later ones were not: ",
          error.message);
      error.sqlstate = "58000";
      error.hint = "Do not repeat the writes; read them back first.";
    }
    if (server_discarding_) {
      // The server already failed (the confirmation failed): it skips a Raise, so the client
      // hears the error from here; the transaction rolls back at the Sync.
      error.severity = "ERROR";
      wire::AppendErrorResponse(ClientOut(), error);
    } else {
      Raise(error);
    }
    return;
  }
  // Applied: each held statement is answered again over the confirmed rows.
  RememberCommittedIds(commit.ids);
  // Outside an explicit transaction block the Sync that follows commits the transaction.
  applied_in_salesforce_ = tx_status_ == 'I';
  size_t at = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    ToClient(std::string_view(held).substr(at, answers[i].begin - at));
    Answer(commit.statements[i], querier, answers[i].result_formats, answers[i].simple, [] {});
    if (lost_ || server_discarding_) return;  // what follows would have been skipped
    at = answers[i].end;
  }
  ToClient(std::string_view(held).substr(at));
}

absl::StatusOr<bool> Session::DeferredTransaction() {
  if (tx_status_ != 'T') return false;
  if (tx_mode_ == TxMode::kUnknown) {
    Querier querier(*this);
    absl::StatusOr<ServerQuerier::Rows> r =
        querier.Query("SELECT current_setting('sfbridge.transactions', true)", BoundParams{});
    if (!r.ok()) {
      if (!lost_ && !server_discarding_) {
        Raise(GetServerError(r.status())
                  .value_or(
                      PgError{.sqlstate = "08006", .message = std::string(r.status().message())}));
      }
      return r.status();
    }
    const std::string value =
        r->rows.empty() || r->rows[0].empty() ? "" : r->rows[0][0].value_or("");
    if (value.empty() || value == "immediate") {
      tx_mode_ = TxMode::kImmediate;
    } else if (value == "deferred") {
      tx_mode_ = TxMode::kDeferred;
    } else {
      PgError e;
      e.sqlstate = "22023";
      e.message = StrCat("invalid value for parameter \"sfbridge.transactions\": \"", value, "\"");
      e.hint = "Available values: immediate, deferred.";
      Raise(e);
      return absl::InvalidArgumentError(e.message);
    }
  }
  return tx_mode_ == TxMode::kDeferred;
}

void Session::RunDeferredMutation(const Mutation& mutation, const BoundParams& params,
                                  const std::vector<int16_t>& result_formats, bool simple,
                                  const std::function<void()>& pass_through) {
  if (!held_) held_ = write_path_.NewHeldWrites();
  if (!held_) {
    RunMutation(mutation, params, result_formats, simple, pass_through);
    return;
  }
  unit_deferred_ = true;
  Querier querier(*this);
  const size_t held_before = held_->size();
  MutationOutcome outcome =
      write_path_.Hold(mutation, params, TxStatus::kInTransaction, querier, *held_);
  provisional_answer_ = held_->size() > held_before;
  Answer(outcome, querier, result_formats, simple, pass_through);
  provisional_answer_ = false;
}

bool Session::CommitDeferred() {
  Querier querier(*this);
  HeldCommit commit = write_path_.CommitHeld(*held_, querier);
  unit_deferred_ = false;
  if (lost_) return false;
  if (!commit.error) {
    RememberCommittedIds(commit.ids);
    applied_in_salesforce_ = true;
    return true;
  }
  // As PostgreSQL answers a COMMIT that fails: the error, and the transaction is over.
  PgError error = *commit.error;
  error.severity = "ERROR";
  wire::AppendErrorResponse(ClientOut(), error);
  EndTransactionSilently();
  skip_until_sync_ = true;
  return false;
}

void Session::RememberCommittedIds(const std::vector<std::pair<std::string, std::string>>& ids) {
  constexpr size_t kMaxRemembered = 100'000;
  if (committed_ids_.size() + ids.size() > kMaxRemembered) committed_ids_.clear();
  for (const auto& [provisional, real] : ids) committed_ids_[provisional] = real;
}

void Session::EndTransactionSilently() {
  if (server_discarding_) {
    // The server skips everything up to a Sync: one of the session's own, answer kept.
    wire::AppendSync(server_out_.back());
    Expecting('S', Route::kRaise);
    Drain();
  }
  RunSilently("ROLLBACK");
}

void Session::RunSilently(std::string_view sql) { RunOwnStatement(sql, Route::kRaise); }

void Session::RunOwnStatement(std::string_view sql, Route route) {
  std::string* out = server_out_.back();
  CloseReserved(route);
  wire::AppendParse(out, kReserved, sql, {});
  Expecting('P', route);
  wire::AppendBind(out, kReserved, kReserved, BoundParams{}, {});
  Expecting('B', route);
  wire::AppendExecute(out, kReserved, 0);
  Expecting('E', route);
  wire::AppendFlush(out);
  Drain();
}

std::optional<std::string> Session::WithCommittedIds(std::string_view sql) const {
  if (committed_ids_.empty() || sql.find("000p") == std::string_view::npos) return std::nullopt;
  std::string out;
  bool replaced = false;
  size_t at = 0;
  for (size_t found; (found = sql.find("000p", at)) != std::string_view::npos;) {
    auto it = committed_ids_.find(std::string(sql.substr(found, 18)));
    if (it == committed_ids_.end()) {
      out.append(sql.substr(at, found + 4 - at));
      at = found + 4;
      continue;
    }
    out.append(sql.substr(at, found - at));
    out.append(it->second);
    at = found + 18;
    replaced = true;
  }
  if (!replaced) return std::nullopt;
  out.append(sql.substr(at));
  return out;
}

std::optional<std::string> Session::BindWithCommittedIds(std::string_view body) const {
  if (committed_ids_.empty()) return std::nullopt;
  absl::StatusOr<wire::BindMsg> bind = wire::ReadBind(body);
  if (!bind.ok()) return std::nullopt;
  absl::StatusOr<std::vector<int16_t>> formats =
      wire::ExpandFormats(bind->param_formats, bind->values.size());
  if (!formats.ok()) return std::nullopt;
  BoundParams params;
  params.formats = *formats;
  bool replaced = false;
  for (size_t i = 0; i < bind->values.size(); ++i) {
    const std::optional<std::string_view>& v = bind->values[i];
    if (!v) {
      params.values.emplace_back(std::nullopt);
      continue;
    }
    auto it = (*formats)[i] == 0 && v->size() == 18 ? committed_ids_.find(std::string(*v))
                                                    : committed_ids_.end();
    replaced |= it != committed_ids_.end();
    params.values.emplace_back(it != committed_ids_.end() ? it->second : std::string(*v));
  }
  if (!replaced) return std::nullopt;
  std::string out;
  wire::AppendBind(&out, bind->portal, bind->statement, params, bind->result_formats);
  return out;
}

void Session::RefuseInstead(const PgError& error) {
  if (tx_status_ != 'E' && !server_discarding_) {
    Raise(error);
    return;
  }
  // Already failed: the server would skip a Raise. The statement is not run, and what the
  // client sends up to its Sync is skipped, as after any error.
  PgError e = error;
  e.severity = "ERROR";
  wire::AppendErrorResponse(ClientOut(), e);
  skip_until_sync_ = true;
}

void Session::Raise(const PgError& error) { RunOwnStatement(RaiseSql(error), Route::kRaise); }

}  // namespace sfbridge::proxy
