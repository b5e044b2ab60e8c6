#pragma once

// Applying record versions to synced tables: the writer's one write path, shared by the Kafka
// stream and the proxy's Apply (DESIGN.md invariants 3 and 4).
//
// Guard (invariant 3). A version is applied only when its SystemModstamp is not older than the
// stored row's (`excluded._modstamp_ms >= t._modstamp_ms`: re-delivering the stored version
// rewrites the same values) and newer than the record's tombstone. A deletion (deleted = true)
// removes the row when the row is not newer than it, and records a tombstone (object, id,
// modstamp) that only ever moves forward; the tombstone then holds back every version up to and
// including its modstamp, so a late older update cannot resurrect the row. A record undeleted in
// Salesforce comes back with a newer SystemModstamp and is applied again.
//
// Within one call only the newest version of each record counts: the highest SystemModstamp;
// on a tie a deletion wins over an update, then the later change in `changes` wins. The others
// are reported stale. This is resolved in memory before anything is sent (version_rule.h: the
// same outcome as a DISTINCT ON (id) ORDER BY id, modstamp DESC, deleted DESC over staging,
// without sending or sorting the losers).
//
// Mechanics, per object, in the caller's transaction:
//   1. the object's table is looked up (or taken from the applier's LayoutCache);
//   2. one round trip locks the table (ROW EXCLUSIVE, before its layout is trusted, so a
//      concurrent EnsureTable waits for the batch), makes writers of the table take turns
//      through a transaction-level advisory lock (hashtextextended(<schema>.<table>,
//      kApplyLockSeed)): what it reads next stays true until commit, which keeps the guard exact
//      when the Kafka stream and the proxy's Apply race on the same record), and reads the
//      layout's version and, with index lookups, the stored modstamp and tombstone of the
//      records; the layout is read (again) only when the cache has none or an older one;
//   3. every change is rendered once (row_rendering.h): as COPY text, or as parameters for the
//      plain statements (for more than ApplierOptions::few_changes with a cached layout, on a
//      short-lived helper thread during step 2); then the newest version per record is chosen
//      (version_rule.h);
//   4. up to few_changes changes are written with plain statements (values as parameters; the
//      write paths in write_paths.h, their SQL in apply_sql.h). More: records with neither a
//      row nor a tombstone at or after their version are COPYed straight into the table (a
//      backfill is nothing else, so it runs at COPY speed). Fresh-first: when a call of more
//      than few_changes holds no deletion and no record twice, the object has no tombstone and
//      a sample of the ids has no row, step 2 takes only the locks and the changes are rendered
//      in chunks on the helper thread and streamed into one COPY straight into the table, under
//      a savepoint, as they are made. Should any record have a row after all
//      (unique_violation), the savepoint is rolled back and the call is probed and goes on
//      as below (and the table probes first for its next calls: a hint the Applier keeps per
//      table). Only the cost depends on this guess, never the outcome;
//   5. and newer versions of stored rows and all deletions are COPYed into a TEMP staging table
//      typed like the target (created once per layout and connection, ON COMMIT DELETE ROWS,
//      truncated before use), then applied by one INSERT ... ON CONFLICT (id) DO UPDATE ...
//      WHERE excluded._modstamp_ms >= t._modstamp_ms per distinct set of present fields, and
//      one DELETE + tombstone upsert. The statements repeat the guards, so they are right on
//      their own; a count that differs from what the probe predicted aborts the call
//      (kAborted: retry).
//   Versions the probe shows to be stale are not sent at all.

// Partial versions: a field absent from RecordChange.fields leaves its column as it is. Changes
// are grouped by their set of present fields; each group's upsert inserts and updates exactly
// those columns (a new row gets NULL in the others). An explicit FieldValue.null writes NULL.
// The field "Id" is ignored: the id column always comes from record_id.
//
// Values, written exactly (rendering is independent of the session's settings):
//   text / multi -> the text; number -> the decimal text (never through a double);
//   boolean -> t / f; datetime_ms -> "YYYY-MM-DD HH:MM:SS.mmm+00"; date_days -> "YYYY-MM-DD";
//   time_ms -> "HH:MM:SS.mmm"; null -> NULL.
// A value that does not fit its column is refused up front rather than failing the batch:
// into boolean / integer / bigint / numeric / date / timestamptz / time only the matching kind
// (numbers checked for syntax and integer range; years 1..9999; time below 24 h); into text any
// kind, rendered as above; text containing NUL never.
//
// Parking: a change naming an object that has no table in `schema` (for its org), a field with
// no column, a value that does not fit, an empty record_id or a SystemModstamp <= 0 is not
// applied; it comes back as kParked with the reason, and every other change is applied.
// Parked changes are the caller's to keep (dead_letters.h), ideally in the same transaction.
//
// Thread-safety: an Applier may be shared by threads, each with its own connection (the helper
// thread never touches the connection). Needs EnsureTable to have created the tables.

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/record.pb.h"
#include "writer/layout_cache.h"
#include "writer/offsets.h"
#include "writer/record_view.h"
#include "writer/version_rule.h"

namespace sfbridge::writer {

struct ApplyStats {
  std::map<std::string, ObjectStats> objects;  // by object API name
  std::vector<RecordOutcome> outcomes;         // one per change, in the order given
  std::vector<size_t> parked;                  // indexes into `changes` of the kParked ones
};

struct ApplierOptions {
  // Up to this many changes of one object are written with plain statements (the rendered
  // values as parameters of one INSERT ... ON CONFLICT per field set and one DELETE): fewer
  // round trips, no helper thread, no staging table, so a single record (the proxy's Apply) is
  // quick. More go through COPY and staging as above. Same guards, same outcomes either way.
  size_t few_changes = 32;
  // Whether to remember tables and layouts between calls (layout_cache.h); without, every call
  // reads them afresh and ApplyInOneRoundTrip never qualifies.
  bool cache_layouts = true;
};

// Per table (schema-qualified name): how many of its next calls probe first instead of trying
// fresh-first, after a fresh-first COPY met a stored row. Thread-safe.
class ProbeFirstHints {
 public:
  // Whether this call of `qtable` should probe first (counting it).
  bool ProbeFirst(const std::string& qtable);
  // A fresh-first COPY into `qtable` met a stored row.
  void Missed(const std::string& qtable);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int> left_;
};

// Applies record changes by the rules above, remembering layouts and fresh-first hints between
// calls. Share one per process (or per service) among its connections.
class Applier {
 public:
  explicit Applier(ApplierOptions options = {}) : options_(options) {}

  // Applies `changes` within the caller's transaction `tx` (rules above). On an error the caller
  // must roll back: part of the batch may have been written.
  absl::StatusOr<ApplyStats> ApplyChanges(postgres::Transaction& tx, const std::string& schema,
                                          const std::vector<v1::RecordChange>& changes);
  // The same over changes held elsewhere (in a protobuf Arena, say); none may be null.
  absl::StatusOr<ApplyStats> ApplyChanges(postgres::Transaction& tx, const std::string& schema,
                                          const std::vector<const v1::RecordChange*>& changes);
  // The same over views of changes (record_view.h), e.g. decoded straight from Kafka messages.
  absl::StatusOr<ApplyStats> ApplyChanges(postgres::Transaction& tx, const std::string& schema,
                                          const std::vector<ChangeView>& changes);

  // The same rules in ONE round trip, for a call the size of the proxy's Apply: every change of
  // one object, at most few_changes of them, all deletions or all versions of one field set, none
  // to be parked, and that object's layout cached. One simple query (an implicit transaction)
  // takes the locks, checks the cached layout's version, reads what is stored and writes, all
  // guarded as above. nullopt when the call does not qualify, the cached layout turned out stale
  // (the entry is forgotten; nothing was written) or the query failed (the entry is forgotten
  // too): then use ApplyChanges in a transaction, which reports any error and fills the cache
  // for the next call.
  std::optional<ApplyStats> ApplyInOneRoundTrip(postgres::Connection& conn,
                                                const std::string& schema,
                                                const std::vector<v1::RecordChange>& changes);

  // ApplyChanges and StoreOffsets(offsets) in ONE transaction (invariant 4): either the rows and
  // the offsets are stored, or neither. Errors: SQL errors as the wrapper returns them
  // (core::IsRetryable tells whether to retry the same batch); parked changes are not errors.
  absl::StatusOr<ApplyStats> ApplyBatch(postgres::Connection& conn, const std::string& schema,
                                        const std::vector<v1::RecordChange>& changes,
                                        const std::vector<OffsetUpdate>& offsets);

 private:
  absl::StatusOr<ApplyStats> ApplyList(postgres::Transaction& tx, const std::string& schema,
                                       const std::vector<ChangeView>& changes);
  // Applies the changes at `indexes` (all of one org and object) and fills in their outcomes.
  absl::Status ApplyObject(postgres::Transaction& tx, const std::string& schema,
                           const std::vector<ChangeView>& changes,
                           const std::vector<size_t>& indexes, ApplyStats& stats);

  const ApplierOptions options_;
  LayoutCache layouts_;
  ProbeFirstHints hints_;
};

}  // namespace sfbridge::writer
