#pragma once

// The SQL text of the apply path (applier.h): the locks and the probe of what is stored, and
// the guarded statements of its write paths. Every write statement repeats the version guards
// (version_rule.h), so each is right on its own whatever was probed before it:
//   upsert  INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE excluded._modstamp_ms >=
//           t._modstamp_ms, and not at or before a tombstone;
//   delete  the row when it is not newer, and the tombstone moved forward only.
// Pure string building: names and literals come in quoted already. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "writer/row_rendering.h"

namespace sfbridge::writer {

// Seed of the per-table advisory lock key that serializes writers of one table ("sfapply").
inline constexpr int64_t kApplyLockSeed = 0x73666170706c79;

// The table a set of statements writes, its names quoted.
struct TableRef {
  const std::string& qtable;  // schema-qualified
  const std::string& qtomb;   // the schema's tombstones table
  const std::string& object;  // API name
  std::string object_sql;     // how the statements name the object: "$1" or a literal
  const std::vector<Column>& columns;
  std::vector<std::string> qcolumns;  // the columns' names quoted
};

// The table's own COPY layout: id, _modstamp_ms, then every column.
std::vector<std::string> CopyColumns(const TableRef& t);

// Takes the table lock the writes need anyway (ROW EXCLUSIVE: a concurrent EnsureTable, which
// takes ACCESS EXCLUSIVE, either finished before or waits until the transaction ends) and the
// table's advisory lock (writers of one table take turns, so what is read next stays true until
// commit). `qtable_literal` is the quoted table name as a string literal. Two statements.
std::string LockSql(const std::string& qtable, const std::string& qtable_literal);

// The condition on sfbridge.synced_tables st that picks the object's row (the layout's version is
// its xmin); the arguments are literals.
std::string RegisteredSql(const std::string& org_id, const std::string& object,
                          const std::string& schema, const std::string& table);

// What the table and the tombstones hold for the ids of `ids`, a quoted text[] literal
// (control::ToTextArray): rows (id,
// row_ms, tomb_ms, NULL), none for ids with neither. Correlated subqueries are always index
// lookups, one per id, whatever the planner would guess about a join against the array (a
// sequential scan of the table, at worst). The tombstones are only looked at when the object has
// any. `object` is a literal.
std::string ProbeSql(const std::string& qtable, const std::string& qtomb, const std::string& object,
                     const std::string& ids);

// One row, one column: whether the object ($1) has no tombstone and no id of $2 (text[]) a row.
std::string LooksFreshSql(const std::string& qtable, const std::string& qtomb);

// The fields of a row (0: id, 1: _modstamp_ms, 2 + i: column i) that the rows of a field set
// carry: id, _modstamp_ms and the columns of `mask`; no mask (deletions): id and _modstamp_ms.
std::vector<size_t> KeptFields(const TableRef& t, const std::string* mask);
// The type a field's value is cast to.
const std::string& CastOf(const TableRef& t, size_t field);
// The kept fields' names: "id, _modstamp_ms[, column, ...]".
std::string SourceNames(const TableRef& t, const std::string* mask);
// (VALUES <rows>) AS s(<the kept fields' names>): `rows` are "(expr, ...)" joined by ", ".
std::string ValuesSource(const TableRef& t, const std::string& rows, const std::string* mask);

// INSERT ... ON CONFLICT of the rows `source` yields (columns id, _modstamp_ms and those of
// `mask`, as s.*) with the version guards: not at or before a tombstone, not older than the row.
// `filter` is "" or a condition on s followed by " AND ".
std::string UpsertSql(const TableRef& t, const std::string& mask, std::string_view source,
                      std::string_view filter);
// Deleting the rows `source` names (s.id, s._modstamp_ms) unless they are newer ...
std::string DeleteRowsSql(const TableRef& t, std::string_view source, std::string_view filter);
// ... and moving their tombstones forward.
std::string TombstonesSql(const TableRef& t, std::string_view source, std::string_view filter);
// Both in one statement.
std::string DeleteSql(const TableRef& t, std::string_view source, std::string_view filter);

// ApplyInOneRoundTrip's statements (applier.h), one simple query: `lock` (LockSql), then the
// writes of `rows` (as for ValuesSource: all deletions, or all updates of the field set `mask`),
// each conditioned on the layout's version being current (`current_layout`: a condition on
// sfbridge.synced_tables st, RegisteredSql and the xmin). Its rows: (id, row_ms, tomb_ms) of every
// record as stored before the statement, whether the layout was current ("t"/"f") and how many
// rows the writes touched. `t.object_sql` is a literal.
std::string OneRoundTripSql(const TableRef& t, const std::string& lock,
                            const std::string& current_layout, const std::string& rows,
                            const std::string* mask);

// Creates the TEMP staging table `stage` of a layout when missing (ON COMMIT DELETE ROWS) and
// empties it: id, _modstamp_ms, the columns ("name type" each), _deleted, _group.
std::string StagingSql(const std::string& stage, const std::vector<std::string>& qcolumns_typed);

}  // namespace sfbridge::writer
