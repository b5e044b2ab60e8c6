#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "sfsim/soql/ast.h"

namespace sfbridge::sfsim::soql {

// Parentheses and NOTs nested deeper than this are refused (the parser recurses once per level).
inline constexpr int kMaxExpressionDepth = 100;

// Parses one SOQL query of the subset in ast.h. Keywords are case-insensitive.
//
// Every failure is InvalidArgument (errorCode MALFORMED_QUERY, see errors.h) with a message in
// Salesforce's words and the position, e.g.
//   unexpected token: 'FORM' at Row:1:Column:11
//   expecting a right parentheses, found 'WHERE' at Row:1:Column:40
//   GROUP BY is not supported at Row:1:Column:25
// Refused as unsupported, each named in the message: GROUP BY, HAVING, WITH, FOR VIEW/REFERENCE/
// UPDATE, UPDATE TRACKING, USING SCOPE, ALL ROWS, TYPEOF, subqueries and semi-joins, relationship
// paths (Account.Name), aggregate and other functions (only COUNT() is supported), INCLUDES /
// EXCLUDES, bind variables, relative date literals (TODAY, LAST_N_DAYS:n, ...).
// Input over kMaxQueryLength characters or nested deeper than kMaxExpressionDepth is refused
// before it can exhaust memory or stack. Thread-safe (no shared state).
absl::StatusOr<Query> Parse(std::string_view soql);

}  // namespace sfbridge::sfsim::soql
