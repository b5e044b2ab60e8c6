#pragma once

// Salesforce's verdicts as Postgres errors (DESIGN.md invariant 6): a fitting SQLSTATE,
// Salesforce's own message, and the offending fields mapped back to the table's columns (in the
// detail, and the first one in the error's column field).
//
//   REQUIRED_FIELD_MISSING                    23502 not_null_violation
//   DUPLICATE_VALUE                           23505 unique_violation
//   FIELD_CUSTOM_VALIDATION_EXCEPTION         23514 check_violation
//   INVALID_CROSS_REFERENCE_KEY               23503 foreign_key_violation
//   STRING_TOO_LONG                           22001 string_data_right_truncation
//   NUMBER_OUTSIDE_VALID_RANGE                22003 numeric_value_out_of_range
//   INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
//   INVALID_EMAIL_ADDRESS                     22023 invalid_parameter_value
//   MALFORMED_ID, JSON_PARSER_ERROR           22P02 invalid_text_representation
//   INSUFFICIENT_ACCESS_OR_READONLY,
//   INVALID_FIELD_FOR_INSERT_UPDATE           42501 insufficient_privilege
//   INVALID_FIELD                             42703 undefined_column
//   ENTITY_IS_DELETED, NOT_FOUND              40001 serialization_failure (the record changed
//                                             in Salesforce meanwhile: retry)
//   UNABLE_TO_LOCK_ROW                        55P03 lock_not_available
//   REQUEST_LIMIT_EXCEEDED                    53400 configuration_limit_exceeded
//   any other code of a 4xx reply             22000 data_exception; of a 5xx reply 08001
// Pure and thread-safe.

#include <string>
#include <string_view>

#include "common/salesforce/api_error.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/statement_analysis.h"

namespace sfbridge::proxy::writes {

std::string_view SqlStateFor(std::string_view error_code, int http_status);

// The error of Salesforce refusing `operation` on `table` (records_before: how many records of
// the statement Salesforce had already accepted in earlier calls, kept there; 0 normally).
PgError SalesforceRejection(const salesforce::ApiError& error, const SyncedTable& table,
                            Operation operation, size_t records_before = 0);

// An error of the write path's own, on `table` (schema and table fields filled in).
PgError TableError(std::string_view sqlstate, std::string message, const SyncedTable& table,
                   std::string detail = {}, std::string hint = {});
// An error of the write path's own that names no table.
PgError PlainError(std::string_view sqlstate, std::string message, std::string detail = {},
                   std::string hint = {});
// The server's own error for a failed query on the client's connection, as it is; 08006 when
// the status carries none (the connection failed).
PgError ServerFailure(const absl::Status& status);
// The NOTICE said on every write committed in Salesforce inside an explicit transaction block.
PgError CommittedNotice();
// The outcome of a statement that ends in `error`.
MutationOutcome FailedWith(PgError error);

// A failed Salesforce call of a write as the client sees it, and as it is counted.
struct CallFailure {
  PgError error;
  std::string outcome;  // sfbridge_proxy_mutations_total: salesforce_error or unavailable
  std::string code;     // sfbridge_proxy_salesforce_errors_total: Salesforce's error code,
                        // BUDGET_EXHAUSTED, UNREACHABLE or UNKNOWN
};

// The failure of a call of `operation` on `table` that ended in `status` (an ApiError of
// Salesforce's, the budget gate's refusal, or a transport failure), `accepted_before` records
// of the statement having been accepted in earlier calls. One meaning per SQLSTATE:
//   Salesforce's refusal of the records    the table above; not applied
//   53400  no budget token (nothing sent), REQUEST_LIMIT_EXCEEDED; not applied
//   08001  nothing could be sent (connection refused, DNS, TLS, no token), or Salesforce
//          answered the request with a 5xx; not applied, retrying is safe
//   40003  sent and not answered (dropped, timed out; salesforce::OutcomeUnknown): may have
//          been applied
// (58000, applied in Salesforce but not yet in the table, is the write path's own.)
CallFailure MapCallFailure(const absl::Status& status, Operation operation,
                           const SyncedTable& table, size_t accepted_before);

}  // namespace sfbridge::proxy::writes
