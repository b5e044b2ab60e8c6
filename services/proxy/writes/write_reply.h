#pragma once

// The reply to a write of a synced table once Salesforce has it: the command tag, and
// RETURNING's query over the confirmed rows (derived_query.h BuildReturningQuery).

#include <cstddef>
#include <string>
#include <vector>

#include "common/core/json_writer.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/statement_analysis.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::proxy::writes {

// A confirmed version as the members of a JSON object of the table's columns, written to
// `json` inside an object the caller opened: id, _modstamp_ms, the synced columns, and
// _synced_at ("now").
void WriteConfirmedRowMembers(core::JsonWriter& json, const SyncedTable& table,
                              const v1::RecordChange& change);

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

}  // namespace sfbridge::proxy::writes
