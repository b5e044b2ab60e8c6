#include "proxy/writes/held_write_path.h"

#include <map>
#include <utility>
#include <variant>

#include "common/core/json_writer.h"
#include "common/core/logging.h"
#include "common/core/strings.h"
#include "proxy/writes/derived_query.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/write_reply.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

// The pending rows of a held statement, as sfbridge.pending_write takes them: an insert's with
// its provisional id, an update's id and new values, a delete's id.
std::string PendingRowsJson(const HeldStatement& st, const ServerQuerier::Rows& rows) {
  const size_t offset = st.write.operation == Operation::kInsert ? 0 : 1;
  core::JsonWriter json;
  json.BeginArray();
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    json.BeginObject().Member("id", st.ids[r]);
    if (st.write.operation == Operation::kInsert) json.Member("_modstamp_ms", 0);
    if (st.write.operation != Operation::kDelete) {
      for (size_t c = 0; c < st.write.columns.size(); ++c) {
        json.Key(st.write.columns[c]);
        if (const std::optional<std::string>& v = rows.rows[r][offset + c]) {
          json.String(*v);
        } else {
          json.Null();
        }
      }
    }
    json.EndObject();
  }
  return json.EndArray().Take();
}

// The rows of `by_id` (each row's JSON text) in the order of `ids`, as a JSON array (ids
// without a row left out).
std::string OrderedRows(const std::map<std::string, std::string>& by_id,
                        const std::vector<std::string>& ids) {
  core::JsonWriter json;
  json.BeginArray();
  for (const std::string& id : ids) {
    if (auto it = by_id.find(id); it != by_id.end()) json.Raw(it->second);
  }
  return json.EndArray().Take();
}

// The statement's answer with RETURNING over `rows_json`.
MutationOutcome HeldReply(const HeldStatement& st, std::string rows_json) {
  MutationOutcome out;
  out.command_tag = CommandTag(st.write.operation, st.records.size());
  if (!st.original->returning) return out;
  absl::StatusOr<DerivedQuery> q =
      BuildReturningQuery(*st.original, *st.table, st.params, std::move(rows_json));
  if (!q.ok())
    return FailedWith(TableError("XX000", core::ToString(q.status().message()), *st.table));
  out.returning_sql = std::move(q->sql);
  out.returning_params = std::move(q->params);
  return out;
}

}  // namespace

MutationOutcome HeldWritePath::Hold(const std::shared_ptr<const AnalyzedWrite>& write,
                                    const BoundParams& params, TxStatus tx_status,
                                    ServerQuerier& server, HeldUnit& unit, WriteRun& run) {
  if (write->upsert) {
    run.outcome = "refused";
    return FailedWith(PlainError(
        "0A000",
        "INSERT ... ON CONFLICT is not supported together with other writes in one pipeline or "
        "query string",
        "Nothing was changed.", "Send it on its own: its own Sync (or its own query string)."));
  }
  std::variant<MutationOutcome, PreparedWrite> prepared =
      preparation_.Prepare(*write, params, server, run, /*lock=*/true);
  if (auto* done = std::get_if<MutationOutcome>(&prepared)) return std::move(*done);
  PreparedWrite& p = std::get<PreparedWrite>(prepared);
  const SyncedTable& table = *p.table;
  absl::StatusOr<std::vector<salesforce::Fields>> records =
      ToRecords(p.trimmed ? *p.trimmed : *write, table, p.rows);
  if (!records.ok()) {
    run.outcome = "refused";
    return FailedWith(TableError("22023", core::ToString(records.status().message()), table));
  }
  HeldStatement st{.snapshot = p.snapshot,
                   .table = p.table,
                   .write = p.trimmed ? std::move(*p.trimmed) : *write,
                   .original = write,
                   .params = params,
                   .records = *std::move(records),
                   .in_transaction = tx_status == TxStatus::kInTransaction};
  for (const auto& row : p.rows.rows) {
    st.ids.push_back(st.write.operation == Operation::kInsert ? NewProvisionalId()
                                                              : row[0].value_or(""));
  }
  unit.statements.push_back(st);
  if (absl::Status fits = UnitFits(ShapeOf(unit.statements)); !fits.ok()) {
    unit.statements.pop_back();
    run.outcome = "refused";
    return FailedWith(TableError(
        "54000", StrCat("too many writes in one pipeline or query string: ", fits.message()), table,
        "The writes sent together before a Sync (or in one query string) go to Salesforce as "
        "one all-or-none request; nothing was changed.",
        "Send fewer writes before each Sync, or fewer statements per query string."));
  }
  const std::string op = st.write.operation == Operation::kInsert   ? "insert"
                         : st.write.operation == Operation::kUpdate ? "update"
                                                                    : "delete";
  absl::StatusOr<std::string> applied =
      pending_.Call(server, table, op, PendingRowsJson(st, p.rows));
  absl::StatusOr<std::map<std::string, std::string>> by_id =
      applied.ok() ? RowsById(*applied) : applied.status();
  if (!by_id.ok()) {
    unit.statements.pop_back();
    run.outcome = "refused";
    return FailedWith(ServerFailure(by_id.status()));
  }
  std::string rows_json = OrderedRows(*by_id, st.ids);
  if (st.write.operation == Operation::kDelete) unit.statements.back().deleted_rows = rows_json;
  return HeldReply(st, std::move(rows_json));
}

HeldCommit HeldWritePath::Commit(const std::vector<HeldStatement>& statements,
                                 ServerQuerier& server, WriteRun& run) {
  HeldCommit out;
  absl::StatusOr<UnitRequest> request =
      BuildUnitRequest(statements, batcher_.NextReferencePrefix());
  if (!request.ok()) {
    run.outcome = "refused";
    out.error =
        TableError("54000", core::ToString(request.status().message()), *statements.front().table);
    return out;
  }
  salesforce::Reservation reservation;
  const auto start = clock_.Monotonic();
  absl::StatusOr<std::vector<salesforce::CompositeSubresponse>> replies = client_.Composite(
      request->subrequests, /*all_or_none=*/true, salesforce::Priority::kHigh, &reservation);
  run.salesforce += clock_.Monotonic() - start - reservation.waited;
  UnitOutcome unit;
  if (!replies.ok()) {
    unit.failure = replies.status();
  } else {
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count();
    unit = ReadUnitReply(*request, statements, *replies, org_id_, now_ms);
  }
  if (!unit.failure.ok()) {
    const HeldStatement& failed = statements[unit.failed_statement];
    out.failed_statement = unit.failed_statement;
    out.error =
        metrics_.CountCallFailure(unit.failure, failed.write.operation, *failed.table, 0, run);
    return out;
  }

  // Accepted: the confirmed versions take the pending rows' places in the transaction.
  std::map<std::string, std::string> real_id;  // provisional -> Salesforce's
  for (size_t p = 0; p < request->parts.size(); ++p) {
    const UnitPart& part = request->parts[p];
    if (part.operation != Operation::kInsert) continue;
    for (size_t i = 0; i < part.members.size() && i < unit.parts[p].accepted.size(); ++i) {
      const auto& [s, r] = part.members[i];
      real_id[statements[s].ids[r]] = unit.parts[p].accepted[i];
    }
  }
  std::map<std::string, std::string> replaced;  // Salesforce's id -> the provisional one
  for (const auto& [provisional, real] : real_id) replaced[real] = provisional;
  out.ids.assign(real_id.begin(), real_id.end());
  std::map<std::string, std::string> confirmed;  // id -> the row as the table holds it
  absl::Status applied;
  for (size_t p = 0; p < request->parts.size() && applied.ok(); ++p) {
    const UnitPart& part = request->parts[p];
    if (!unit.parts[p].changes.ok()) {
      applied = unit.parts[p].changes.status();
      break;
    }
    if (unit.parts[p].changes->empty()) continue;
    core::JsonWriter json;
    json.BeginArray();
    for (const v1::RecordChange& change : *unit.parts[p].changes) {
      json.BeginObject();
      WriteConfirmedRowMembers(json, *part.table, change);
      if (auto it = replaced.find(change.record_id()); it != replaced.end()) {
        json.Member("_replaces", it->second);
      }
      json.EndObject();
    }
    json.EndArray();
    const bool deleted = part.operation == Operation::kDelete;
    absl::StatusOr<std::string> rows =
        pending_.Call(server, *part.table, deleted ? "tombstone" : "confirm", json.Take());
    absl::StatusOr<std::map<std::string, std::string>> by_id =
        rows.ok() ? RowsById(*rows) : rows.status();
    if (!by_id.ok()) {
      applied = by_id.status();
      break;
    }
    for (auto& [id, row] : *by_id) confirmed[id] = std::move(row);
  }
  if (applied.ok()) {
    applied = pending_.Call(server, *statements.front().table, "resolved", "[]").status();
  }
  if (!applied.ok()) {
    core::Logger("proxy")->warn(
        "org={} {} held writes applied in Salesforce, not yet in the table: {}", org_id_,
        statements.size(), core::ToString(applied.message()));
    run.outcome = "unavailable";
    out.error = TableError(
        "58000",
        StrCat("the ", statements.size(),
               " writes of this pipeline or query string ARE applied in Salesforce, but the "
               "tables are not updated yet: ",
               applied.message()),
        *statements.front().table,
        "Nothing is lost: the changes reach the tables through the sync within its polling "
        "interval.",
        "Do not repeat the statements.");
    return out;
  }
  for (const HeldStatement& st : statements) {
    std::string rows_json;
    if (st.write.operation == Operation::kDelete) {
      rows_json = st.deleted_rows;
    } else {
      std::vector<std::string> ids;
      for (const std::string& id : st.ids) {
        auto it = real_id.find(id);
        ids.push_back(it == real_id.end() ? id : it->second);
      }
      rows_json = OrderedRows(confirmed, ids);
    }
    MutationOutcome reply = HeldReply(st, std::move(rows_json));
    if (st.in_transaction) reply.notices.push_back(CommittedNotice());
    out.statements.push_back(std::move(reply));
  }
  return out;
}

}  // namespace sfbridge::proxy::writes
