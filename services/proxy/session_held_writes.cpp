// Units of held writes: the writes of a pipeline (or of a multi-statement Query) held until its
// Sync, Flush, next Query or transaction end, then sent to Salesforce as one all-or-none
// request, their answers held from the client meanwhile (session.h).

#include <algorithm>

#include "common/core/strings.h"
#include "proxy/session.h"

namespace sfbridge::proxy {

void Session::RunHeldMutation(const Mutation& mutation, const BoundParams& params,
                              const std::vector<int16_t>& result_formats, bool simple,
                              const std::function<void()>& pass_through) {
  out_.Hold();
  Querier querier(*this);
  const size_t held_before = held_->size();
  const size_t begin = out_.AnswerBegins();
  MutationOutcome outcome = write_path_.Hold(mutation, params, tx_status_, querier, *held_);
  const bool held = held_->size() > held_before;
  provisional_answer_ = held;
  Answer(outcome, querier, result_formats, simple, pass_through);
  provisional_answer_ = false;
  if (held) out_.AnswerEnds(begin, result_formats, simple);
}

bool Session::WantsHolding(bool last_before_sync) {
  if (held_ && !held_->empty()) return true;
  if (last_before_sync) return false;  // a write alone before its Sync is a unit of its own
  if (!held_) held_ = write_path_.NewHeldWrites();
  return held_ != nullptr;
}

void Session::FinishHeld() {
  if (!out_.holding()) return;
  Drain();  // everything sent before has been answered
  const HeldOutput held = out_.Release();
  if (!held_ || held_->empty() || io_.lost()) {
    if (held_) write_path_.DiscardHeld(*held_);
    out_.Append(held.bytes);
    return;
  }
  if (replies_.server_discarding() || tx_status_ == TxStatus::kFailed) {
    // A statement after the writes failed: the transaction rolls back (or stays failed) with
    // them, and Salesforce never sees them.
    write_path_.DiscardHeld(*held_);
    out_.Append(held.bytes);
    return;
  }
  Querier querier(*this);
  HeldCommit commit = write_path_.CommitHeld(*held_, querier);
  if (io_.lost()) return;
  if (commit.error || commit.statements.size() != held.answers.size()) {
    // Nothing was applied: the answers up to the statement the refusal belongs to, then its
    // error, raised on the server so that the transaction rolls back as PostgreSQL's would.
    out_.Append(held.Before(commit.failed_statement));
    PgError error = commit.error.value_or(
        PgError{.sqlstate = "XX000", .message = "the held writes could not be sent to Salesforce"});
    if (applied_in_salesforce_) {
      // An earlier unit of this transaction (before a Flush) is in Salesforce already.
      error.message = core::StrCat(
          "the writes sent before the last Flush of this pipeline ARE applied in Salesforce; "
          "the later ones were not: ",
          error.message);
      error.sqlstate = "58000";
      error.hint = "Do not repeat the writes; read them back first.";
    }
    if (replies_.server_discarding()) {
      // The server already failed (the confirmation failed): it skips a Raise, so the client
      // hears the error from here; the transaction rolls back at the Sync.
      error.severity = "ERROR";
      wire::AppendErrorResponse(out_.Compose(), error);
    } else {
      Raise(error);
    }
    return;
  }
  // Applied: each held statement is answered again over the confirmed rows.
  committed_ids_.Remember(commit.ids);
  // Outside an explicit transaction block the Sync that follows commits the transaction.
  applied_in_salesforce_ = tx_status_ == TxStatus::kIdle;
  for (size_t i = 0; i < held.answers.size(); ++i) {
    out_.Append(held.Gap(i));
    const HeldAnswer& answer = held.answers[i];
    Answer(commit.statements[i], querier, answer.result_formats, answer.simple, [] {});
    if (io_.lost() || replies_.server_discarding()) return;  // what follows would be skipped
  }
  out_.Append(held.Tail());
}

bool Session::BeforeTransactionControl(std::string_view sql) {
  const TransactionControl control = ClassifyTransactionControl(sql);
  if (control != TransactionControl::kNone && unit_deferred_ && held_ && !held_->empty()) {
    return BeforeDeferredTransactionControl(control);
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
    case TransactionControl::kRollbackToSavepoint:
      RefuseInstead({.sqlstate = "0A000",
                     .message = "ROLLBACK TO SAVEPOINT is not supported after writes to synced "
                                "tables in the same pipeline or query string",
                     .detail = "Those writes are held until the pipeline's Sync; nothing was "
                               "changed.",
                     .hint = "Send a Sync (end the pipeline) before rolling back to a savepoint."});
      return false;
  }
  return true;
}

}  // namespace sfbridge::proxy
