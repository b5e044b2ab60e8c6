#pragma once

// How the proxy holds a client's writes to synced tables inside the client's own transaction
// until Salesforce has them (README "Pipelines and batches"), without opening a way around
// Salesforce for anybody else.
//
// sfbridge.pending_write(token, target, op, rows jsonb) RETURNS jsonb, SECURITY DEFINER (it runs
// as the synced tables' owner), changes `target`, a synced table, in the calling transaction:
//   'insert'    rows (objects column -> value; the first row names the columns) are inserted;
//   'update'    rows by id get the columns they name;
//   'delete'    rows by id are deleted;
//   'lock'      rows by id are locked (FOR UPDATE), as an UPDATE would lock them;
//   'confirm'   the versions Salesforce confirmed are upserted by id (not over a newer
//               _modstamp_ms); a row's "_replaces" names a provisional id whose row it replaces;
//   'tombstone' rows (id, _modstamp_ms) are recorded as deletions in the schema's _tombstones;
//   'resolved'  the transaction's pending writes are all confirmed (or it is ending without).
// It returns the rows as the table holds them afterwards (to_jsonb of each; for 'delete' the
// deleted rows). Errors: 42501 unless `token` is the calling backend's token and `target` a
// synced table; 22023 for an unknown op.
//
// The token of a backend is hex(sha256(secret || ':' || pid)), with the secret of
// sfbridge.proxy_secret (one random row, readable only by its owner) and pid the backend's
// process id: the proxy computes it for its client's server connection and passes it as a bound
// parameter, so it never appears in a query text (pg_stat_activity) and is of no use in another
// backend.
//
// Whatever a client does between the proxy's statements (a CALL that commits, a COMMIT of its
// own), a transaction whose pending writes are not resolved cannot commit: every synced table
// has a deferred constraint trigger, queued only for the function's own changes, that refuses
// the commit while any is unresolved (42501).

#include "absl/status/status.h"
#include "common/postgres/connection.h"

namespace sfbridge::writer {

// Creates or replaces sfbridge.proxy_secret (and its secret, once), the function and the check
// the trigger calls; grants EXECUTE and USAGE on schema sfbridge to PUBLIC (nothing else of the
// schema becomes readable). Part of EnsureWriterTables.
absl::Status EnsurePendingWriteFunction(postgres::Transaction& tx);

// Adds the deferred check trigger to `qualified_table` (quoted schema.table) unless it has it.
absl::Status EnsurePendingWriteTrigger(postgres::Transaction& tx,
                                       const std::string& qualified_table);

}  // namespace sfbridge::writer
