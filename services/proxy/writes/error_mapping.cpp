#include "proxy/writes/error_mapping.h"

#include <map>
#include <optional>
#include <vector>

#include "common/core/strings.h"
#include "proxy/writes/priority_budget_gate.h"

namespace sfbridge::proxy::writes {

using core::StrCat;

std::string_view SqlStateFor(std::string_view error_code, int http_status) {
  static const std::map<std::string_view, std::string_view> kStates = {
      {"REQUIRED_FIELD_MISSING", "23502"},
      {"DUPLICATE_VALUE", "23505"},
      {"FIELD_CUSTOM_VALIDATION_EXCEPTION", "23514"},
      {"INVALID_CROSS_REFERENCE_KEY", "23503"},
      {"STRING_TOO_LONG", "22001"},
      {"NUMBER_OUTSIDE_VALID_RANGE", "22003"},
      {"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "22023"},
      {"INVALID_EMAIL_ADDRESS", "22023"},
      {"MALFORMED_ID", "22P02"},
      {"JSON_PARSER_ERROR", "22P02"},
      {"INSUFFICIENT_ACCESS_OR_READONLY", "42501"},
      {"INVALID_FIELD_FOR_INSERT_UPDATE", "42501"},
      {"INVALID_FIELD", "42703"},
      {"ENTITY_IS_DELETED", "40001"},
      {"NOT_FOUND", "40001"},
      {"UNABLE_TO_LOCK_ROW", "55P03"},
      {"REQUEST_LIMIT_EXCEEDED", "53400"},
  };
  auto it = kStates.find(error_code);
  if (it != kStates.end()) return it->second;
  return http_status >= 500 ? "58000" : "22000";
}

PgError TableError(std::string_view sqlstate, std::string message, const SyncedTable& table,
                   std::string detail, std::string hint) {
  PgError e;
  e.sqlstate = std::string(sqlstate);
  e.message = std::move(message);
  e.detail = std::move(detail);
  e.hint = std::move(hint);
  e.table = table.table;
  e.schema = table.schema;
  return e;
}

PgError SalesforceRejection(const salesforce::ApiError& error, const SyncedTable& table,
                            Operation operation, size_t records_before) {
  std::vector<std::string> columns;
  for (const std::string& field : error.fields) {
    const SyncedField* f = table.FindField(field);
    columns.push_back(f != nullptr ? StrCat(field, " (column ", f->column, ")") : field);
  }
  std::string detail =
      StrCat("Salesforce refused the ", OperationName(operation), " on ", table.object, ": ",
             error.error_code.empty() ? std::string("error") : error.error_code);
  if (!columns.empty()) core::StrAppend(&detail, "; fields: ", core::StrJoin(columns, ", "));
  core::StrAppend(&detail, ".");
  if (records_before > 0) {
    core::StrAppend(&detail, " ", records_before,
                    " records of this statement were accepted by earlier calls and are kept in "
                    "Salesforce and in the table.");
  } else {
    core::StrAppend(&detail, " Nothing was changed.");
  }
  PgError e =
      TableError(SqlStateFor(error.error_code, error.http_status),
                 error.message.empty() ? StrCat("Salesforce: ", error.error_code) : error.message,
                 table, std::move(detail));
  for (const std::string& field : error.fields) {
    if (const SyncedField* f = table.FindField(field)) {
      e.column = f->column;
      break;
    }
  }
  return e;
}

CallFailure MapCallFailure(const absl::Status& status, Operation operation,
                           const SyncedTable& table, size_t accepted_before) {
  if (PriorityBudgetGate::IsBudgetRefusal(status)) {
    return {.error = TableError("53400", core::ToString(status.message()), table,
                                accepted_before == 0 ? "Nothing was sent to Salesforce." : "",
                                "Retry later, or raise the org's rate in sfbridge.orgs."),
            .outcome = "unavailable",
            .code = "BUDGET_EXHAUSTED"};
  }
  if (PriorityBudgetGate::IsBudgetUnavailable(status)) {
    return {.error = TableError("57P03", core::ToString(status.message()), table,
                                accepted_before == 0 ? "Nothing was sent to Salesforce." : "",
                                "Retry once the proxy's PostgreSQL is reachable again."),
            .outcome = "unavailable",
            .code = "BUDGET_UNAVAILABLE"};
  }
  if (std::optional<salesforce::ApiError> api = salesforce::GetApiError(status)) {
    return {.error = SalesforceRejection(*api, table, operation, accepted_before),
            .outcome = "salesforce_error",
            .code = api->error_code.empty() ? "UNKNOWN" : api->error_code};
  }
  if (operation == Operation::kInsert && (status.code() == absl::StatusCode::kUnavailable ||
                                          status.code() == absl::StatusCode::kDeadlineExceeded)) {
    return {.error = TableError(
                "40003", StrCat("Salesforce did not confirm the insert: ", status.message()), table,
                "The records may or may not have been created in Salesforce; if they were, they "
                "reach the table through the sync.",
                "Check before inserting again."),
            .outcome = "unavailable",
            .code = "UNREACHABLE"};
  }
  return {
      .error = TableError("08001", StrCat("Salesforce is unreachable: ", status.message()), table,
                          "The change was not confirmed by Salesforce; if it was applied, "
                          "it reaches the table through the sync.",
                          "Retry later."),
      .outcome = "unavailable",
      .code = "UNREACHABLE"};
}

}  // namespace sfbridge::proxy::writes
