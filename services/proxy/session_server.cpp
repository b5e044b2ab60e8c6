// The server's side of the session: each server message tracked against the replies owed
// (PendingReplies) and delivered where its route says (session.h).

#include <algorithm>

#include "common/core/strings.h"
#include "proxy/pg_message_types.h"
#include "proxy/session.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;
namespace be = wire::backend;
namespace field = wire::field;

// Server messages are trusted but still framed; Postgres never sends more than 1 GB in one.
constexpr size_t kMaxServerMessage = size_t{1} << 31;

TxStatus FromReadyForQuery(char status) {
  switch (status) {
    case static_cast<char>(TxStatus::kInTransaction):
      return TxStatus::kInTransaction;
    case static_cast<char>(TxStatus::kFailed):
      return TxStatus::kFailed;
    default:
      return TxStatus::kIdle;
  }
}

}  // namespace

void Session::OnServerInput() {
  InputBuffer& in = io_.server_in();
  while (true) {
    wire::Frame frame;
    wire::DecodeResult r = wire::DecodeFrame(in.view(), kMaxServerMessage, &frame);
    if (r == wire::DecodeResult::kNeedMore) return;
    if (r != wire::DecodeResult::kFrame) {
      log_->error("session={} the server sent a malformed message", id_);
      io_.MarkLost();
      return;
    }
    OnServerMessage(frame, in.view().substr(0, frame.size));
    in.Consume(frame.size);
  }
}

void Session::OnServerMessage(const wire::Frame& frame, std::string_view raw) {
  const Route route = replies_.route();
  switch (frame.type) {
    case be::kParameterStatus:
    case be::kNotificationResponse:
      out_.Append(raw);
      return;
    case be::kNoticeResponse:  // the client's, not those of the session's own queries
      if (route == Route::kClient || route == Route::kTranslated) out_.Append(raw);
      return;
    case be::kAuthentication:
      OnAuthRequest(frame, raw);
      return;
    case be::kBackendKeyData:
      OnBackendKeyData(frame);
      return;
    case be::kReadyForQuery:
      OnReadyForQuery(frame, raw);
      return;
    case be::kErrorResponse:
      OnServerError(frame, raw, route);
      return;
    case be::kCopyInResponse:
    case be::kCopyBothResponse:
      replies_.OnCopyIn();
      if (translating_) {
        // The client is not being read while a translated Query runs.
        wire::Writer(ServerOut())
            .Begin(wire::frontend::kCopyFail)
            .CString(
                "COPY FROM STDIN is not supported in a query string that writes a synced "
                "table")
            .End();
        replies_.OnCopyEnd();
        return;
      }
      break;
    case be::kCommandComplete: {
      absl::StatusOr<std::string_view> tag = wire::ReadCommandComplete(frame.body);
      if (tag.ok()) {
        if (*tag == "BEGIN" || *tag == "START TRANSACTION") {
          tx_status_ = TxStatus::kInTransaction;
        } else if (*tag == "COMMIT" || *tag == "ROLLBACK" || *tag == "PREPARE TRANSACTION") {
          tx_status_ = TxStatus::kIdle;
          applied_in_salesforce_ = false;  // that transaction is over, committed or not
        }
      }
      break;
    }
    default:
      break;
  }
  Deliver(route, frame, raw);
  replies_.OnMessage(frame.type);
}

void Session::OnReadyForQuery(const wire::Frame& frame, std::string_view raw) {
  absl::StatusOr<char> status = wire::ReadReadyForQuery(frame.body);
  if (status.ok()) tx_status_ = FromReadyForQuery(*status);
  // A Sync of the session's own (EndTransactionSilently): the client does not hear it.
  if (replies_.OnReadyForQuery()) return;
  if (tx_status_ == TxStatus::kIdle) {  // portals end with their transaction
    prepared_.OnTransactionEnd();
    tx_mode_ = TxMode::kUnknown;
    applied_in_salesforce_ = false;
    if (unit_deferred_ && held_) write_path_.DiscardHeld(*held_);  // it ended without us
    unit_deferred_ = false;
  }
  out_.Append(raw);
}

void Session::Deliver(Route route, const wire::Frame& frame, std::string_view raw) {
  switch (route) {
    case Route::kClient:
      out_.Append(raw);
      return;
    case Route::kRaise:
      return;  // its error goes through OnServerError; nothing else reaches the client
    case Route::kTranslated:
      // The extended protocol's acknowledgements have no simple-Query counterpart.
      if (frame.type == be::kParseComplete || frame.type == be::kBindComplete ||
          frame.type == be::kCloseComplete || frame.type == be::kNoData ||
          frame.type == be::kParameterDescription) {
        return;
      }
      out_.Append(raw);
      return;
    case Route::kResult:
      if (frame.type == be::kDataRow) {
        out_.Append(raw);
      } else if (frame.type == be::kCommandComplete) {
        absl::StatusOr<std::string_view> tag = wire::ReadCommandComplete(frame.body);
        capture_.tag = tag.ok() ? std::string(*tag) : "";
      }
      return;
    case Route::kCapture:
      if (frame.type == be::kRowDescription) {
        absl::StatusOr<std::vector<wire::FieldDescription>> fields =
            wire::ReadRowDescription(frame.body);
        if (fields.ok()) capture_.fields = *std::move(fields);
      } else if (frame.type == be::kDataRow) {
        absl::StatusOr<std::vector<std::optional<std::string>>> row = wire::ReadDataRow(frame.body);
        if (row.ok()) capture_.rows.push_back(*std::move(row));
      } else if (frame.type == be::kCommandComplete) {
        absl::StatusOr<std::string_view> tag = wire::ReadCommandComplete(frame.body);
        capture_.tag = tag.ok() ? std::string(*tag) : "";
      }
      return;
  }
}

void Session::AppendApplied(std::vector<std::pair<char, std::string>> fields,
                            std::string_view what_failed, std::string_view detail,
                            std::string_view hint) {
  std::string code = "XX000", message;
  for (const auto& [type, value] : fields) {
    if (type == field::kSqlState) code = value;
    if (type == field::kMessage) message = value;
  }
  std::erase_if(fields, [](const auto& f) {
    return f.first == field::kSqlState || f.first == field::kMessage || f.first == field::kDetail ||
           f.first == field::kHint;
  });
  fields.emplace_back(field::kSqlState, "58000");
  fields.emplace_back(field::kMessage, StrCat(what_failed, message));
  fields.emplace_back(field::kDetail, StrCat(detail, " (SQLSTATE ", code, ")."));
  fields.emplace_back(field::kHint, std::string(hint));
  wire::AppendFields(out_.Compose(), be::kErrorResponse, fields);
}

void Session::AppendAppliedButReturningFailed(std::vector<std::pair<char, std::string>> fields) {
  AppendApplied(std::move(fields),
                "the write IS applied in Salesforce and in the table, but its RETURNING failed: ",
                "RETURNING failed on the values Salesforce confirmed",
                "Do not repeat the statement; read the rows back with a SELECT.");
}

void Session::AppendAppliedButCommitFailed(std::vector<std::pair<char, std::string>> fields) {
  AppendApplied(std::move(fields),
                "the writes to synced tables ARE applied in Salesforce, but the transaction "
                "failed to commit: ",
                "PostgreSQL refused the commit after Salesforce accepted the writes; they reach "
                "the tables through the sync",
                "Do not repeat the writes to synced tables; read them back first.");
}

void Session::OnServerError(const wire::Frame& frame, std::string_view raw, Route route) {
  if (tx_status_ == TxStatus::kInTransaction) tx_status_ = TxStatus::kFailed;
  absl::StatusOr<std::vector<std::pair<char, std::string>>> fields = wire::ReadFields(frame.body);
  if (route == Route::kCapture) {
    capture_.error = fields.ok() ? wire::ToPgError(*fields) : PgError{.sqlstate = "XX000"};
    if (!fields.ok()) capture_.error->message = "malformed error from the server";
  } else if (route == Route::kRaise && fields.ok()) {
    // The error is the proxy's: the DO block's context and source location are noise.
    std::erase_if(*fields, [](const auto& f) {
      return f.first == field::kWhere || f.first == field::kFile || f.first == field::kLine ||
             f.first == field::kRoutine;
    });
    wire::AppendFields(out_.Compose(), be::kErrorResponse, *fields);
  } else if ((route == Route::kClient || route == Route::kTranslated) && fields.ok() &&
             applied_in_salesforce_) {
    // The commit that was to follow Salesforce's acceptance failed: say what did happen.
    applied_in_salesforce_ = false;
    AppendAppliedButCommitFailed(*fields);
  } else if (route == Route::kResult && fields.ok() && !provisional_answer_) {
    // RETURNING failed after the write was made (its check before Salesforce passed on the
    // expected rows): the error must not read as "nothing changed".
    AppendAppliedButReturningFailed(*fields);
  } else {
    out_.Append(raw);
  }
  replies_.OnError();
}

}  // namespace sfbridge::proxy
