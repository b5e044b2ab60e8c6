#pragma once

// Synced tables: their layout from an ObjectSchema, their creation and evolution, and the stored
// API-name <-> column mapping (DESIGN.md, "Postgres, synced data"; invariants 2 and 3).
//
// Layout of <schema>.<table> for an object:
//   id            text PRIMARY KEY           the record Id (field "Id")
//   <one column per field>                   nullable, typed by ColumnType
//   _synced_at    timestamptz NOT NULL DEFAULT now()   when the writer last wrote the row
//   _modstamp_ms  bigint NOT NULL            SystemModstamp of the stored version (the guard)
// and, once per schema, the tombstones of deleted records:
//   <schema>._tombstones (object text, id text, modstamp_ms bigint, deleted_at timestamptz,
//                         PRIMARY KEY (object, id))     object = API name
// A version whose SystemModstamp is not newer than its record's tombstone is never applied.
// Metadata names start with '_', which no Salesforce API name does, so they cannot collide.
//
// Naming (naming.h): the table is SnakeCaseName(object) and each column SnakeCaseName(field);
// a name already held by another object / column (or an unregistered table of the same name)
// gets UniqueName's hash suffix. New names are resolved in sorted API-name order, and a name once
// given is kept for good (it is read back from the mapping), so names never move.
//
// Stored mapping, written in the same transaction as the DDL:
//   sfbridge.synced_tables  (org_id, object_name) -> (schema_name, table_name), fingerprint
//   sfbridge.field_mappings (org_id, object_name, field_name) -> (column_name, field_type,
//                            createable, updateable, calculated, nillable)
// The four flags are describe's, for the proxy, which refuses writes Salesforce would not take;
// EnsureWriterTables adds their columns to a field_mappings table that lacks them.
//
// Evolution, applied by EnsureTable when the ObjectSchema changes:
//   - a new field: ALTER TABLE ... ADD COLUMN, nullable, no default (no table rewrite: the lock
//     is held for milliseconds; lock_timeout bounds the wait for it).
//   - a removed field: its column and its mapping row stay with the data they hold; it is simply
//     no longer in new records, so nothing writes it.
//   - a changed type (old column type O, new type N; never loses a value):
//       * N is text, or a widening integer -> bigint -> numeric: ALTER COLUMN TYPE N USING c::N.
//       * anything else: ALTER COLUMN TYPE N only when every stored value survives the round trip
//         (c::N)::O = c, checked first under a savepoint; when one does not (or a cast fails),
//         the column becomes text instead (USING c::text, rendered with TimeZone UTC and
//         DateStyle ISO). Values of the new type are then written as text. A text column whose
//         values all fit a later type is converted back by the same rule.
//   field_mappings.field_type always holds the current Salesforce type; the column type the
//   writer reads back is the table's own (pg_attribute).
//
// Roles (invariant 2): the table is created by, and so owned by, the connection's user (the
// writer's role); other roles get no write privilege. When `read_role` names an existing role it
// is granted USAGE on the schema and SELECT on the table and _tombstones.
//
// Concurrency: the DDL of every writer is serialized by one transaction-level advisory lock
// (kDdlLockKey), so writers of a consumer group may call these at once.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/postgres/connection.h"
#include "sfbridge/v1/schema.pb.h"

namespace sfbridge::writer {

// Advisory lock held by every writer DDL transaction ("sfwriter" in ASCII).
inline constexpr int64_t kDdlLockKey = 0x7366777269746572;

// Column types, spelled as format_type() prints them.
inline constexpr std::string_view kText = "text";
inline constexpr std::string_view kBoolean = "boolean";
inline constexpr std::string_view kInteger = "integer";
inline constexpr std::string_view kBigint = "bigint";
inline constexpr std::string_view kNumeric = "numeric";
inline constexpr std::string_view kDate = "date";
inline constexpr std::string_view kTimestamptz = "timestamp with time zone";
inline constexpr std::string_view kTime = "time without time zone";

// Name of the per-schema tombstone table.
inline constexpr std::string_view kTombstones = "_tombstones";

// The column type of a Salesforce field type (DESIGN.md's mapping); unknown types are text.
// nullopt for fields that get no column: base64, and compound address / location parents.
std::optional<std::string> ColumnType(std::string_view salesforce_type);

struct TableOptions {
  // Role granted SELECT when it exists; empty: grant nothing.
  std::string read_role = "sfbridge_read";
  // How long the DDL waits for a lock on the table (lock_timeout). A waiting ALTER TABLE queues
  // every reader behind it, so it gives up after this and fails kAborted (retry later) rather
  // than block readers for as long as the longest open transaction on the table.
  std::chrono::milliseconds lock_timeout{2000};
};

// Creates the writer's control tables when missing: sfbridge.synced_tables (above), the flag
// columns of sfbridge.field_mappings, and
//   sfbridge.dead_letters (id, topic, partition, "offset", reason, payload bytea, parked_at),
//   unique on (topic, partition, "offset").
// Needs the control plane (control::Migrate) first. Idempotent; EnsureTable calls it too.
absl::Status EnsureWriterTables(postgres::Connection& conn);
absl::Status EnsureWriterTables(postgres::Transaction& tx);

// Creates or evolves `schema` and the object's table to match `object` (rules above), in one
// transaction together with the mapping rows. Idempotent: an unchanged schema changes nothing.
// Errors: kFailedPrecondition when object.org_id is not in sfbridge.orgs, kInvalidArgument for
// an ObjectSchema without a name or org; SQL errors as the wrapper returns them (retryable ones
// say so).
absl::Status EnsureTable(postgres::Connection& conn, const std::string& schema,
                         const v1::ObjectSchema& object, const TableOptions& options = {});

// The stored mapping of one object, as the writer uses it to apply records.
struct ColumnInfo {
  std::string column;     // unquoted
  std::string type;       // the table column's current type (format_type spelling)
  std::string base_type;  // the same without a type modifier ("numeric", not "numeric(18,2)")
};
struct TableMapping {
  std::string table;                         // unquoted, in the schema it was looked up in
  std::map<std::string, ColumnInfo> fields;  // API field name -> column
};

// The table EnsureTable created for `object_name` of `org_id` in `schema`; nullopt when none.
absl::StatusOr<std::optional<std::string>> SyncedTableName(postgres::Transaction& tx,
                                                           const std::string& schema,
                                                           const std::string& org_id,
                                                           const std::string& object_name);

// The mapping of the object's `table` (from SyncedTableName), with the column types read from
// the table itself. The caller holds a lock on the table (ROW EXCLUSIVE, say), taken before, so
// the layout cannot change under its writes.
absl::StatusOr<TableMapping> LoadTableMapping(postgres::Transaction& tx, const std::string& schema,
                                              const std::string& table, const std::string& org_id,
                                              const std::string& object_name);

}  // namespace sfbridge::writer
