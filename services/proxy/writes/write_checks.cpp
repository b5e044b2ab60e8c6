#include "proxy/writes/write_checks.h"

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

PgError ReadOnly(const SyncedTable& table, const std::string& column, std::string why,
                 std::string hint = {}) {
  PgError e = TableError(kGeneratedAlways,
                         StrCat("column \"", column, "\" of synced table \"", table.table,
                                "\" cannot be written: ", why),
                         table, {}, std::move(hint));
  e.column = column;
  return e;
}

}  // namespace

std::optional<PgError> CheckWritableColumns(const AnalyzedWrite& write, const SyncedTable& table) {
  const bool insert = write.operation == Operation::kInsert;
  for (const std::string& column : write.columns) {
    if (column == "id") {
      return ReadOnly(table, column, "Salesforce assigns the record Id",
                      insert ? "Leave id out: the new row gets Salesforce's Id."
                             : "Delete the record and insert another instead.");
    }
    if (column == "_synced_at" || column == "_modstamp_ms") {
      return ReadOnly(table, column, "it is kept by sfbridge");
    }
    const SyncedField* field = table.FindColumn(column);
    if (field == nullptr) {
      PgError e = TableError(
          "42703",
          StrCat("column \"", column, "\" of relation \"", table.table, "\" does not exist"),
          table);
      e.column = column;
      return e;
    }
    if (IsSystemField(field->field)) {
      return ReadOnly(table, column, StrCat(field->field, " is a Salesforce system field"));
    }
    if (field->calculated.value_or(false)) {
      return ReadOnly(table, column, StrCat(field->field, " is a formula field"));
    }
    if (insert && !field->createable.value_or(true)) {
      return ReadOnly(table, column,
                      StrCat(field->field, " is read-only in Salesforce (not createable)"));
    }
    if (!insert && !field->updateable.value_or(true)) {
      return ReadOnly(table, column,
                      StrCat(field->field, " is read-only in Salesforce (not updateable)"));
    }
  }
  return std::nullopt;
}

}  // namespace sfbridge::proxy::writes
