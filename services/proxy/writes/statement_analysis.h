#pragma once

// Which statements write a synced table, and how (DESIGN.md, "Mutations through the proxy").
//
// Analyze reads one statement's parse tree and answers:
//   - kWrite for INSERT ... VALUES / SELECT / DEFAULT VALUES, UPDATE ... SET ... [FROM]
//     [WHERE], DELETE ... [USING] [WHERE] on a relation that may be a synced table, with
//     RETURNING and $n parameters, and read-only WITH queries in front;
//   - kRefused, with a PgError, for what cannot be mapped faithfully to Salesforce: MERGE into,
//     COPY ... FROM into, TRUNCATE of a synced table; INSERT ... ON CONFLICT other than on one
//     column with DO NOTHING or DO UPDATE SET c = EXCLUDED.c, ... without WHERE; a statement
//     whose WITH holds an INSERT/UPDATE/DELETE/MERGE of a synced table (writable CTE); INSERT
//     without a column list, SET of a subscript or a field, SET (a, b) =
//     (SELECT ...), WHERE CURRENT OF; RETURNING together with UPDATE ... FROM / DELETE ...
//     USING; EXPLAIN ANALYZE of such a write; SQL-level PREPARE of such a write;
//   - kPassThrough for everything else, including statements that do not parse (Postgres then
//     reports the syntax error itself) and EXECUTE of a prepared statement (the synced tables'
//     privileges are the backstop: only the writer's role may write them).
// Which columns may be written (read-only, formula, system columns) is decided later, once the
// relation is resolved (write_checks.h).
//
// Pure and thread-safe.

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg_query.pb.h"
#include "proxy/write_path.h"

namespace sfbridge::proxy::writes {

enum class Operation { kInsert, kUpdate, kDelete };

// "insert", "update", "delete" (metric labels).
std::string_view OperationName(Operation op);

struct AnalyzedWrite {
  Operation operation = Operation::kInsert;
  // The target as written: schema empty when unqualified; alias empty when none.
  std::string schema;
  std::string relation;
  std::string alias;
  // INSERT: the column list; UPDATE: the SET columns, in order. Unquoted, as Postgres reads them.
  std::vector<std::string> columns;
  // The statement's own tree (an InsertStmt, UpdateStmt or DeleteStmt node).
  pg_query::Node statement;
  bool returning = false;
  // INSERT ... DEFAULT VALUES: one record with no field given.
  bool default_values = false;
  // INSERT ... VALUES (rather than INSERT ... SELECT).
  bool from_values = false;
  // Per column of `columns`: in how many rows it is DEFAULT (INSERT ... VALUES: of `value_rows`
  // rows; UPDATE: 1 for SET column = DEFAULT). Whether that is allowed depends on the column
  // (write_checks.h): the derived query reads DEFAULT as NULL.
  std::vector<size_t> defaults;
  size_t value_rows = 0;
  // INSERT ... ON CONFLICT (column) DO UPDATE SET ... / DO NOTHING: a Salesforce upsert by the
  // field of `column` (write_checks.h: an external-id field; do_nothing: only the records not
  // there yet are created). `set_columns`: DO UPDATE's SET columns, each set to EXCLUDED's.
  struct Upsert {
    std::string column;
    bool do_nothing = false;
    std::vector<std::string> set_columns;
  };
  std::optional<Upsert> upsert;

  // True when some row gives DEFAULT for column i, or every row does.
  bool AnyDefault(size_t i) const { return i < defaults.size() && defaults[i] > 0; }
  bool AllDefault(size_t i) const {
    return i < defaults.size() && defaults[i] > 0 && defaults[i] == std::max<size_t>(value_rows, 1);
  }

  // The name rows are referred to by in the statement: the alias, else the relation's name.
  const std::string& RowName() const { return alias.empty() ? relation : alias; }
};

struct Analysis {
  enum class Kind { kPassThrough, kWrite, kRefused };
  Kind kind = Kind::kPassThrough;
  std::shared_ptr<const AnalyzedWrite> write;  // kWrite
  PgError error;                               // kRefused
};

// `may_be_synced(schema, relation)`: whether a relation written so may name a synced table
// (CatalogSnapshot::MayBeSynced).
using SyncedNameTest = std::function<bool(std::string_view schema, std::string_view relation)>;

Analysis Analyze(std::string_view statement_sql, const SyncedNameTest& may_be_synced);

// Analyze on a tree already parsed (one RawStmt's statement node).
Analysis AnalyzeTree(const pg_query::Node& statement, const SyncedNameTest& may_be_synced);

}  // namespace sfbridge::proxy::writes
