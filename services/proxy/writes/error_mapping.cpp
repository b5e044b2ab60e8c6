#include "proxy/writes/error_mapping.h"

#include <map>
#include <optional>
#include <vector>

#include "common/core/strings.h"
#include "common/salesforce/client.h"
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
  return http_status >= 500 ? "08001" : "22000";
}

PgError TableError(std::string_view sqlstate, std::string message, const SyncedTable& table,
                   std::string detail, std::string hint) {
  PgError e = PlainError(sqlstate, std::move(message), std::move(detail), std::move(hint));
  e.table = table.table;
  e.schema = table.schema;
  return e;
}

PgError PlainError(std::string_view sqlstate, std::string message, std::string detail,
                   std::string hint) {
  PgError e;
  e.sqlstate = std::string(sqlstate);
  e.message = std::move(message);
  e.detail = std::move(detail);
  e.hint = std::move(hint);
  return e;
}

PgError ServerFailure(const absl::Status& status) {
  if (std::optional<PgError> e = GetServerError(status)) return *e;
  return PlainError("08006", StrCat("the server connection failed: ", status.message()));
}

PgError CommittedNotice() {
  PgError notice = PlainError(
      "01000",
      "the change is committed in Salesforce and cannot be rolled back with this transaction");
  notice.severity = "NOTICE";
  return notice;
}

MutationOutcome FailedWith(PgError error) {
  MutationOutcome out;
  out.error = std::move(error);
  return out;
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

namespace {

// What the detail adds when earlier chunks of the statement were accepted.
std::string Kept(size_t accepted_before) {
  if (accepted_before == 0) return "";
  return StrCat(" ", accepted_before,
                " records of this statement were accepted by earlier calls and are kept in "
                "Salesforce and in the table.");
}

}  // namespace

CallFailure MapCallFailure(const absl::Status& status, Operation operation,
                           const SyncedTable& table, size_t accepted_before) {
  const std::string_view op = OperationName(operation);
  // Sent, and no answer came (or none that could be read): it may have been applied.
  if (salesforce::OutcomeUnknown(status)) {
    return {
        .error = TableError(
            "40003", StrCat("Salesforce did not answer the ", op, ": ", status.message()), table,
            StrCat("The request reached Salesforce or may have; the ", op,
                   " may or may not have been applied there. If it was, it reaches the "
                   "table through the sync.",
                   Kept(accepted_before)),
            "Check the records before repeating the statement."),
        .outcome = "unavailable",
        .code = "NO_ANSWER"};
  }
  if (PriorityBudgetGate::IsBudgetRefusal(status)) {
    return {.error = TableError("53400", core::ToString(status.message()), table,
                                StrCat("Nothing was sent to Salesforce; nothing was changed.",
                                       Kept(accepted_before)),
                                "Retry later, or raise the org's rate in sfbridge.orgs."),
            .outcome = "unavailable",
            .code = "BUDGET_EXHAUSTED"};
  }
  if (PriorityBudgetGate::IsBudgetUnavailable(status)) {
    return {.error = TableError("57P03", core::ToString(status.message()), table,
                                StrCat("Nothing was sent to Salesforce; nothing was changed.",
                                       Kept(accepted_before)),
                                "Retry once the proxy's PostgreSQL is reachable again."),
            .outcome = "unavailable",
            .code = "BUDGET_UNAVAILABLE"};
  }
  if (std::optional<salesforce::ApiError> api = salesforce::GetApiError(status)) {
    if (api->http_status >= 500) {
      // Salesforce answered: the request failed as a whole and applied nothing.
      return {.error = TableError(
                  "08001",
                  StrCat("Salesforce could not take the ", op, " (HTTP ", api->http_status, " ",
                         api->error_code.empty() ? std::string("error") : api->error_code,
                         "): ", api->message),
                  table,
                  StrCat("Salesforce answered with an error for the whole request: nothing was "
                         "changed.",
                         Kept(accepted_before)),
                  "Retrying is safe."),
              .outcome = "unavailable",
              .code = api->error_code.empty() ? "SERVER_ERROR" : api->error_code};
    }
    return {.error = SalesforceRejection(*api, table, operation, accepted_before),
            .outcome = "salesforce_error",
            .code = api->error_code.empty() ? "UNKNOWN" : api->error_code};
  }
  // Nothing reached Salesforce: connection refused, DNS or TLS failure, no token.
  const bool refused_login = status.code() == absl::StatusCode::kUnauthenticated ||
                             status.code() == absl::StatusCode::kPermissionDenied;
  return {.error = TableError(
              "08001",
              StrCat(refused_login ? "Salesforce refused the proxy's login: "
                                   : "Salesforce could not be reached: ",
                     status.message()),
              table,
              StrCat("Nothing was sent to Salesforce; nothing was changed.", Kept(accepted_before)),
              "Retrying is safe."),
          .outcome = "unavailable",
          .code = "UNREACHABLE"};
}

}  // namespace sfbridge::proxy::writes
