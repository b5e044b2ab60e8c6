// Deferred transactions (sfbridge.transactions = deferred): the writes of an explicit
// transaction held until its COMMIT, sent to Salesforce then; when Salesforce refuses them the
// COMMIT fails as PostgreSQL's would and the transaction is rolled back (session.h).

#include "common/core/strings.h"
#include "proxy/session.h"

namespace sfbridge::proxy {

absl::StatusOr<bool> Session::DeferredTransaction() {
  if (tx_status_ != TxStatus::kInTransaction) return false;
  if (tx_mode_ == TxMode::kUnknown) {
    Querier querier(*this);
    absl::StatusOr<ServerQuerier::Rows> r =
        querier.Query("SELECT current_setting('sfbridge.transactions', true)", BoundParams{});
    if (!r.ok()) {
      if (!io_.lost() && !replies_.server_discarding()) {
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
      e.message =
          core::StrCat("invalid value for parameter \"sfbridge.transactions\": \"", value, "\"");
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

bool Session::BeforeDeferredTransactionControl(TransactionControl control) {
  Drain();
  if (control == TransactionControl::kCommit && tx_status_ == TxStatus::kInTransaction) {
    return CommitDeferred();
  }
  if (control == TransactionControl::kRollbackToSavepoint) {
    RefuseInstead({.sqlstate = "0A000",
                   .message = "ROLLBACK TO SAVEPOINT is not supported after writes to synced "
                              "tables in a deferred transaction",
                   .detail = "Nothing was sent to Salesforce; the transaction is aborted.",
                   .hint = "Roll the whole transaction back and run it again."});
    return false;
  }
  // ROLLBACK, or the end of a failed transaction: Salesforce never sees the writes.
  write_path_.DiscardHeld(*held_);
  unit_deferred_ = false;
  return true;
}

bool Session::CommitDeferred() {
  Querier querier(*this);
  HeldCommit commit = write_path_.CommitHeld(*held_, querier);
  unit_deferred_ = false;
  if (io_.lost()) return false;
  if (!commit.error) {
    committed_ids_.Remember(commit.ids);
    applied_in_salesforce_ = true;
    return true;
  }
  // As PostgreSQL answers a COMMIT that fails: the error, and the transaction is over.
  PgError error = *commit.error;
  error.severity = "ERROR";
  wire::AppendErrorResponse(out_.Compose(), error);
  EndTransactionSilently();
  skip_until_sync_ = true;
  return false;
}

void Session::EndTransactionSilently() {
  if (replies_.server_discarding()) {
    // The server skips everything up to a Sync: one of the session's own, answer kept.
    wire::AppendSync(ServerOut());
    Expecting(Request::kSync, Route::kRaise);
    Drain();
  }
  RunOwnStatement("ROLLBACK", Route::kRaise);
}

}  // namespace sfbridge::proxy
