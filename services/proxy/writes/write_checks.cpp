#include "proxy/writes/write_checks.h"

#include <algorithm>
#include <set>
#include <string>

#include "common/core/strings.h"
#include "proxy/writes/error_mapping.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

constexpr std::string_view kGeneratedAlways = "428C9";

bool IsSystemField(std::string_view field) {
  static const std::set<std::string_view> kSystem = {
      "IsDeleted",        "CreatedDate",    "CreatedById",    "LastModifiedDate",
      "LastModifiedById", "SystemModstamp", "LastViewedDate", "LastReferencedDate",
  };
  return kSystem.contains(field);
}

PgError ColumnError(std::string_view sqlstate, const SyncedTable& table, const std::string& column,
                    std::string message, std::string hint = {}) {
  PgError e = TableError(sqlstate, std::move(message), table, {}, std::move(hint));
  e.column = column;
  return e;
}

// Why `column` is set by Salesforce or sfbridge rather than by the client; "" when the client
// sets it.
std::string ServerSetReason(const std::string& column, const SyncedField& field, bool insert) {
  if (column == "id") return "Salesforce assigns the record Id";
  if (field.field.empty()) return "it is kept by sfbridge";
  if (IsSystemField(field.field)) return StrCat(field.field, " is a Salesforce system field");
  if (field.calculated.value_or(false)) return StrCat(field.field, " is a formula field");
  if (insert && !field.createable.value_or(true)) {
    return StrCat(field.field, " is read-only in Salesforce (not createable)");
  }
  if (!insert && !field.updateable.value_or(true)) {
    return StrCat(field.field, " is read-only in Salesforce (not updateable)");
  }
  return "";
}

std::optional<PgError> CheckUpsert(const AnalyzedWrite& write, const SyncedTable& table,
                                   const ColumnPlan& plan) {
  const AnalyzedWrite::Upsert& upsert = *write.upsert;
  auto at = std::find(write.columns.begin(), write.columns.end(), upsert.column);
  const SyncedField* key = table.FindColumn(upsert.column);
  if (at == write.columns.end() || key == nullptr || !key->external_id.value_or(false) ||
      plan.roles[at - write.columns.begin()] != ColumnRole::kSent) {
    return ColumnError(
        "42P10", table, upsert.column,
        StrCat("ON CONFLICT (", upsert.column, ") on synced table \"", table.table,
               "\": Salesforce can upsert only by an external-id field the INSERT gives"),
        "Name a column of an external-id field of the object, and give its value in every row.");
  }
  if (upsert.do_nothing) return std::nullopt;
  std::set<std::string> sent, set;
  for (size_t i = 0; i < write.columns.size(); ++i) {
    if (plan.roles[i] == ColumnRole::kSent && write.columns[i] != upsert.column) {
      sent.insert(write.columns[i]);
    }
  }
  for (const std::string& c : upsert.set_columns) {
    auto it = std::find(write.columns.begin(), write.columns.end(), c);
    if (it == write.columns.end() || plan.roles[it - write.columns.begin()] == ColumnRole::kSent) {
      set.insert(c);  // a server-set column set to EXCLUDED's NULL changes nothing
    }
  }
  if (sent != set) {
    return TableError(
        "0A000",
        StrCat("INSERT ... ON CONFLICT (", upsert.column, ") DO UPDATE on synced table \"",
               table.table, "\" must set every other inserted column to its EXCLUDED value"),
        table, "A Salesforce upsert writes the same fields whether it creates or updates a record.",
        StrCat("Use DO UPDATE SET ",
               core::StrJoin(std::vector<std::string>(sent.begin(), sent.end()), ", "),
               " (each = EXCLUDED.same), or insert fewer columns."));
  }
  return std::nullopt;
}

}  // namespace

bool ColumnPlan::SendsAll() const {
  return std::all_of(roles.begin(), roles.end(),
                     [](ColumnRole r) { return r == ColumnRole::kSent; });
}

const SyncedField* ColumnOf(const SyncedTable& table, std::string_view column) {
  static const SyncedField kSyncedAt{.column = "_synced_at",
                                     .column_type = "timestamp with time zone"};
  static const SyncedField kModstamp{.column = "_modstamp_ms", .column_type = "bigint"};
  static const SyncedField kId{.field = "Id", .column = "id", .column_type = "text"};
  if (const SyncedField* f = table.FindColumn(column)) return f;
  if (column == kSyncedAt.column) return &kSyncedAt;
  if (column == kModstamp.column) return &kModstamp;
  if (column == kId.column) return &kId;
  return nullptr;
}

std::optional<PgError> PlanColumns(const AnalyzedWrite& write, const SyncedTable& table,
                                   ColumnPlan* plan) {
  const bool insert = write.operation == Operation::kInsert;
  plan->roles.assign(write.columns.size(), ColumnRole::kSent);
  plan->why.assign(write.columns.size(), "");
  for (size_t i = 0; i < write.columns.size(); ++i) {
    const std::string& column = write.columns[i];
    const SyncedField* field = ColumnOf(table, column);
    if (field == nullptr) {
      return ColumnError(
          "42703", table, column,
          StrCat("column \"", column, "\" of relation \"", table.table, "\" does not exist"));
    }
    plan->why[i] = ServerSetReason(column, *field, insert);
    if (!plan->why[i].empty()) {
      plan->roles[i] = ColumnRole::kServerSet;
    } else if (write.AllDefault(i) && insert) {
      plan->roles[i] = ColumnRole::kDefaulted;
    } else if (write.AnyDefault(i)) {
      return ColumnError(
          "0A000", table, column,
          insert ? StrCat("DEFAULT for column \"", column, "\" of synced table \"", table.table,
                          "\" in some rows but not in others is not supported")
                 : StrCat("SET \"", column, "\" = DEFAULT on synced table \"", table.table,
                          "\" is not supported"),
          insert ? "Insert the rows that use Salesforce's default in a statement of their own."
                 : "Set the value itself, or NULL.");
    }
  }
  if (write.upsert) return CheckUpsert(write, table, *plan);
  return std::nullopt;
}

std::optional<PgError> CheckServerSetValues(const AnalyzedWrite& write, const SyncedTable& table,
                                            const ColumnPlan& plan, const ServerQuerier::Rows& rows,
                                            int current_at) {
  const bool insert = write.operation == Operation::kInsert;
  const size_t offset = insert ? 0 : 1;
  size_t k = 0;  // the server-set column's place among the current values
  for (size_t i = 0; i < plan.roles.size(); ++i) {
    if (plan.roles[i] != ColumnRole::kServerSet) continue;
    for (const auto& row : rows.rows) {
      const std::optional<std::string>& value = row.at(offset + i);
      if (!value) continue;
      if (!insert && current_at >= 0 && row.at(current_at + k) == value) continue;
      const std::string& column = write.columns[i];
      return ColumnError(
          kGeneratedAlways, table, column,
          StrCat("column \"", column, "\" of synced table \"", table.table,
                 "\" cannot be written: ", plan.why[i]),
          insert ? StrCat("Leave ", column, " out, or give NULL or DEFAULT: Salesforce sets it.")
                 : StrCat("Leave ", column,
                          " out of SET, or set it to NULL or its current value "
                          "(both leave it as it is)."));
    }
    ++k;
  }
  return std::nullopt;
}

void KeepSentColumns(const ColumnPlan& plan, AnalyzedWrite* write, ServerQuerier::Rows* rows) {
  const size_t offset = write->operation == Operation::kInsert ? 0 : 1;
  std::vector<std::string> columns;
  std::vector<size_t> kept;
  for (size_t i = 0; i < plan.roles.size(); ++i) {
    if (plan.roles[i] != ColumnRole::kSent) continue;
    columns.push_back(write->columns[i]);
    kept.push_back(i);
  }
  for (auto& row : rows->rows) {
    std::vector<std::optional<std::string>> out;
    out.reserve(offset + kept.size());
    if (offset == 1) out.push_back(std::move(row.at(0)));
    for (size_t i : kept) out.push_back(std::move(row.at(offset + i)));
    row = std::move(out);
  }
  write->columns = std::move(columns);
  write->defaults.clear();
}

}  // namespace sfbridge::proxy::writes
