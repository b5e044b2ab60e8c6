#pragma once

// What a client may write in a synced table, decided before Salesforce is called, once the
// statement's relation is resolved to `table`:
//   - id, and the writer's own columns (_synced_at, _modstamp_ms): never (Salesforce assigns the
//     Id; the writer keeps the others);
//   - Salesforce's system fields (IsDeleted, CreatedDate, CreatedById, LastModifiedDate,
//     LastModifiedById, SystemModstamp) and formula (calculated) fields: never;
//   - other fields: on INSERT only when createable, on UPDATE only when updateable (when the
//     mapping does not say, Salesforce decides);
//   - a column with no Salesforce field behind it: never.
// The refusal is SQLSTATE 428C9 (generated_always: "cannot insert a non-DEFAULT value into
// column"), naming the column, or 42703 for a column the table does not have.
// Pure and thread-safe.

#include <optional>

#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/statement_analysis.h"

namespace sfbridge::proxy::writes {

std::optional<PgError> CheckWritableColumns(const AnalyzedWrite& write, const SyncedTable& table);

}  // namespace sfbridge::proxy::writes
