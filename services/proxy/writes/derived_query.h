#pragma once

// The queries the write path runs on the client's own connection instead of the client's
// write, so that Postgres evaluates everything it can (expressions, casts, defaults of functions,
// parameters, permissions) exactly as it would for the write itself:
//
//   UPDATE t SET a = e1, b = e2 FROM f WHERE c
//     -> WITH ... SELECT t.id, wire(CAST(e1 AS <type of a>)), wire(CAST(e2 AS <type of b>))
//        FROM <schema>.t, f WHERE c
//   DELETE FROM t USING u WHERE c        -> SELECT t.id [, to_jsonb(t.*)::text] FROM t, u WHERE c
//   (UPDATE with RETURNING also carries to_jsonb(t.*)::text; DEFAULT is read as NULL)
//   INSERT INTO t (a, b) VALUES (x, y), ...
//     -> VALUES (wire(CAST(x AS <type of a>)), wire(CAST(y AS <type of b>))), ...
//   INSERT INTO t (a, b) SELECT ...
//     -> SELECT wire(CAST(s.c1 AS <type of a>)), ... FROM (SELECT ...) AS s(c1, c2)
//
// The table is named as it was resolved (schema-qualified); an alias is kept, so references in
// the expressions mean what they meant. wire() makes the text Postgres prints independent of the
// session's settings (DateStyle, TimeZone): timestamps become epoch milliseconds (bigint, cut to
// the millisecond Salesforce keeps), dates days since 1970-01-01, times milliseconds since
// midnight; every other type is the column type's own text output.
//
// Parameters: the derived query uses only some of the client's $n; they are renumbered in order
// and passed on with their values, formats and types (an unused untyped parameter would make
// Postgres fail to infer its type).
//
// RETURNING is answered by BuildReturningQuery: the client's RETURNING list over the affected
// rows given as JSON (one object per row, column -> value, in the order the rows were affected),
// read as the table's own row type:
//   SELECT <returning list> FROM jsonb_populate_recordset(NULL::<schema>.<table>, $k::jsonb) AS t
// so the rows and their types are exactly what the table holds, whatever the transaction's
// isolation level, and the session formats them as the client asked. References qualified by
// the target's schema (salesforce.account.id) are made relative to the row name (account.id).
//
// Pure and thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_checks.h"

namespace sfbridge::proxy::writes {

struct DerivedQuery {
  std::string sql;
  BoundParams params;
  // Where extra columns start in each row, or -1: the current values of an UPDATE's server-set
  // columns (write_checks.h; one per such column, in order), and the target row as JSON text
  // (UPDATE and DELETE with RETURNING: the row before the write).
  int current_at = -1;
  int row_json_at = -1;
};

// How a derived value of a column arrives (see wire() above).
enum class WireKind { kText, kEpochMillis, kEpochDays, kMillisOfDay };
WireKind WireKindOf(std::string_view column_type);

// Errors: kInvalidArgument when the statement refers to a parameter the client did not bind, or
// a column type does not parse; kNotFound naming a column `write` sets that `table` lacks.
// `plan` (UPDATE): with it, the current values of its server-set columns come too.
absl::StatusOr<DerivedQuery> BuildAffectedRowsQuery(const AnalyzedWrite& write,
                                                    const SyncedTable& table,
                                                    const BoundParams& client,
                                                    const ColumnPlan* plan = nullptr);

// `rows_json`: a JSON array of objects, column name -> value.
absl::StatusOr<DerivedQuery> BuildReturningQuery(const AnalyzedWrite& write,
                                                 const SyncedTable& table,
                                                 const BoundParams& client, std::string rows_json);

// The OID of jsonb, the type of the RETURNING rows parameter.
inline constexpr uint32_t kJsonbOid = 3802;

}  // namespace sfbridge::proxy::writes
