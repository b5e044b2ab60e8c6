#include "proxy/writes/write_preparation.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/core/strings.h"
#include "proxy/writes/derived_query.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/sql_tree.h"
#include "proxy/writes/write_checks.h"
#include "proxy/writes/write_reply.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

void DeduplicateById(ServerQuerier::Rows& rows) {
  std::set<std::string> seen;
  std::vector<std::vector<std::optional<std::string>>> kept;
  for (auto& row : rows.rows) {
    if (row.empty() || !row[0] || !seen.insert(*row[0]).second) continue;
    kept.push_back(std::move(row));
  }
  rows.rows = std::move(kept);
}

}  // namespace

absl::StatusOr<const SyncedTable*> WritePreparation::Resolve(
    const AnalyzedWrite& write, ServerQuerier& server,
    std::shared_ptr<const CatalogSnapshot>& snap) {
  std::string schema = write.schema, table = write.relation;
  if (schema.empty()) {
    BoundParams p;
    p.values.push_back(QuoteIdentifier(table));
    p.formats.push_back(0);
    p.type_oids.push_back(25);
    absl::StatusOr<ServerQuerier::Rows> r = server.Query(
        "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = pg_catalog.to_regclass($1)",
        p);
    if (!r.ok()) return r.status();
    if (r->rows.empty() || !r->rows[0][0] || !r->rows[0][1]) return nullptr;
    schema = *r->rows[0][0];
    table = *r->rows[0][1];
  }
  if (const SyncedTable* t = snap->Find(schema, table)) return t;
  // Perhaps synced since the catalog was loaded.
  if (absl::Status s = catalog_.Refresh(); !s.ok()) return nullptr;
  snap = catalog_.Get();
  return snap->Find(schema, table);
}

std::variant<MutationOutcome, PreparedWrite> WritePreparation::Prepare(const AnalyzedWrite& write,
                                                                       const BoundParams& params,
                                                                       ServerQuerier& server,
                                                                       WriteRun& run, bool lock) {
  std::shared_ptr<const CatalogSnapshot> snapshot = catalog_.Get();
  absl::StatusOr<const SyncedTable*> resolved = Resolve(write, server, snapshot);
  if (!resolved.ok()) {
    run.outcome = "refused";
    return FailedWith(ServerFailure(resolved.status()));
  }
  if (*resolved == nullptr) {
    MutationOutcome out;
    out.pass_through = true;
    return out;
  }
  const SyncedTable& table = **resolved;
  run.table = table.table;
  ColumnPlan plan;
  if (std::optional<PgError> refused = PlanColumns(write, table, &plan)) {
    run.outcome = "refused";
    return FailedWith(*std::move(refused));
  }

  // The affected rows and their new values, from Postgres.
  ServerQuerier::Rows rows;
  DerivedQuery derived;
  if (write.default_values) {
    rows.rows.emplace_back();
  } else {
    absl::StatusOr<DerivedQuery> q = BuildAffectedRowsQuery(write, table, params, &plan);
    if (!q.ok()) {
      run.outcome = "refused";
      return FailedWith(
          TableError(q.status().code() == absl::StatusCode::kNotFound ? "42703" : "42601",
                     core::ToString(q.status().message()), table));
    }
    derived = *std::move(q);
    absl::StatusOr<ServerQuerier::Rows> r = server.Query(derived.sql, derived.params);
    if (r.ok() && lock && write.operation != Operation::kInsert && !r->rows.empty()) {
      absl::Status locked =
          pending_.Call(server, table, "lock", PendingWriteClient::IdRowsJson(*r)).status();
      r = locked.ok() ? server.Query(derived.sql, derived.params) : locked;
    }
    if (!r.ok()) {
      run.outcome = "refused";
      return FailedWith(ServerFailure(r.status()));
    }
    rows = *std::move(r);
  }
  if (std::optional<PgError> refused =
          CheckServerSetValues(write, table, plan, rows, derived.current_at)) {
    run.outcome = "refused";
    return FailedWith(*std::move(refused));
  }
  if (write.operation != Operation::kInsert) DeduplicateById(rows);
  if (rows.rows.size() > static_cast<size_t>(max_rows_)) {
    run.outcome = "refused";
    return FailedWith(TableError(
        "54000",
        StrCat(OperationName(write.operation), " of ", rows.rows.size(), " rows of synced table \"",
               table.table, "\": at most ", max_rows_, " rows per statement"),
        table,
        "A statement of up to 200 rows is one all-or-none Salesforce call; nothing was changed.",
        "Change fewer rows per statement (e.g. add a condition on id)."));
  }
  if (rows.rows.empty()) return BuildReply(write, table, params, {}, rows);
  if (write.default_values && write.returning) {
    // RETURNING is checked before Salesforce is called (the derived query does it for the
    // other forms): here on a row Salesforce alone fills.
    absl::StatusOr<DerivedQuery> check = BuildReturningQuery(write, table, params, "[{}]");
    absl::Status checked =
        check.ok() ? server.Query(check->sql, check->params).status() : check.status();
    if (!checked.ok()) {
      run.outcome = "refused";
      if (GetServerError(checked)) return FailedWith(ServerFailure(checked));
      return FailedWith(TableError("42601", core::ToString(checked.message()), table));
    }
  }
  PreparedWrite prepared{.snapshot = std::move(snapshot), .table = &table};
  // Without the columns Salesforce sets or defaults.
  if (!plan.SendsAll()) {
    prepared.trimmed = write;
    KeepSentColumns(plan, &*prepared.trimmed, &rows);
  }
  prepared.rows = std::move(rows);
  return prepared;
}

}  // namespace sfbridge::proxy::writes
