#pragma once

// The reply to a write of a synced table once Salesforce has it: the command tag, and
// RETURNING's query over the confirmed rows (derived_query.h BuildReturningQuery).

#include <cstddef>
#include <string>
#include <vector>

#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_checks.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::proxy::writes {

// "INSERT 0 n", "UPDATE n" or "DELETE n".
std::string CommandTag(Operation operation, size_t rows);

// The reply to `write` on `table` that changed `rows` (the derived query's affected rows):
// its command tag and, with RETURNING, the query that returns the confirmed rows: `changes`
// (the versions read back from Salesforce) in the order of the record ids `order`, or for a
// delete the rows as they were. An error (XX000) only when no such query can be built.
MutationOutcome BuildReply(const AnalyzedWrite& write, const SyncedTable& table,
                           const BoundParams& params, const std::vector<v1::RecordChange>& changes,
                           const ServerQuerier::Rows& rows,
                           const std::vector<std::string>& order = {});

// The rows `write` is expected to leave, as the JSON array BuildReturningQuery reads, before
// Salesforce is called: for INSERT the sent columns' values (what Salesforce sets is NULL); for
// UPDATE the row as it is (the derived query's `row_json_at` column) with the sent columns'
// new values; for DELETE the row as it is. `rows` are the derived query's, `plan` its columns'.
std::string ExpectedRowsJson(const AnalyzedWrite& write, const SyncedTable& table,
                             const ColumnPlan& plan, const ServerQuerier::Rows& rows,
                             int row_json_at);

}  // namespace sfbridge::proxy::writes
