#pragma once

// What a client may write in a synced table, decided before Salesforce is called, once the
// statement's relation is resolved to `table` (PlanColumns), and once the derived query has
// given the values (CheckServerSetValues).
//
// Each column the statement names is one of:
//   - sent: its value goes to Salesforce (a field describe says is createable on INSERT,
//     updateable on UPDATE; when the mapping does not say, Salesforce decides);
//   - server-set: Salesforce or sfbridge sets it — id (Salesforce assigns the Id), the writer's
//     _synced_at and _modstamp_ms, Salesforce's system fields (CreatedDate, SystemModstamp, …),
//     formula fields, fields that are not createable (INSERT) / updateable (UPDATE). An ORM that
//     maps every column sends them all, so such a column is accepted and left out when the
//     statement gives it NULL or DEFAULT (INSERT), or NULL, DEFAULT or the value the row
//     already holds (UPDATE); any other value is refused with SQLSTATE 428C9
//     (generated_always), naming the column;
//   - defaulted: a sent column that is DEFAULT in every row of an INSERT: left out, so that
//     Salesforce applies its own default.
// Also refused: a column the table does not have (42703), DEFAULT for a sent column in some
// rows of an INSERT but not all, or in an UPDATE's SET (0A000), and an upsert (ON CONFLICT) on
// a column that is not an external-id field (42P10) or whose DO UPDATE SET list is not every
// other sent column (0A000).
// Pure and thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/statement_analysis.h"

namespace sfbridge::proxy::writes {

enum class ColumnRole { kSent, kServerSet, kDefaulted };

struct ColumnPlan {
  std::vector<ColumnRole> roles;  // per write.columns
  std::vector<std::string> why;   // per column: why it is server-set ("" otherwise)

  bool SendsAll() const;
};

// The mapping of a column of `table`: its field's, or for the columns with no Salesforce field
// of their own the writer's _synced_at (timestamptz) and _modstamp_ms (bigint), and id (text);
// nullptr for a column the table does not have.
const SyncedField* ColumnOf(const SyncedTable& table, std::string_view column);

// The plan of `write`'s columns, or the refusal.
std::optional<PgError> PlanColumns(const AnalyzedWrite& write, const SyncedTable& table,
                                   ColumnPlan* plan);

// The derived rows (derived_query.h) against the plan: every server-set column NULL (INSERT),
// or NULL or equal to the row's current value (UPDATE: the derived query's `current_at`
// columns, one per server-set column in order). The refusal, or nullopt.
std::optional<PgError> CheckServerSetValues(const AnalyzedWrite& write, const SyncedTable& table,
                                            const ColumnPlan& plan, const ServerQuerier::Rows& rows,
                                            int current_at);

// `write` and `rows` with only the sent columns (and, for UPDATE, the id first): what goes to
// Salesforce. Extra trailing columns of the derived query are dropped too.
void KeepSentColumns(const ColumnPlan& plan, AnalyzedWrite* write, ServerQuerier::Rows* rows);

}  // namespace sfbridge::proxy::writes
