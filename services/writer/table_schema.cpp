#include "writer/table_schema.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/core/status.h"
#include "common/core/strings.h"
#include "writer/naming.h"
#include "writer/pending_writes.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;
using postgres::Params;
using postgres::Transaction;

constexpr std::string_view kWriterTables = R"sql(
CREATE TABLE IF NOT EXISTS sfbridge.synced_tables (
  org_id             text NOT NULL REFERENCES sfbridge.orgs ON DELETE CASCADE,
  object_name        text NOT NULL,
  schema_name        text NOT NULL,
  table_name         text NOT NULL,
  schema_fingerprint text,
  schema_version     bigint,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, object_name),
  UNIQUE (schema_name, table_name)
);
CREATE TABLE IF NOT EXISTS sfbridge.dead_letters (
  id        bigserial PRIMARY KEY,
  topic     text NOT NULL,
  partition integer NOT NULL,
  "offset"  bigint NOT NULL,
  reason    text NOT NULL,
  payload   bytea,
  parked_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topic, partition, "offset")
);
ALTER TABLE sfbridge.field_mappings
  ADD COLUMN IF NOT EXISTS createable boolean,
  ADD COLUMN IF NOT EXISTS updateable boolean,
  ADD COLUMN IF NOT EXISTS calculated boolean,
  ADD COLUMN IF NOT EXISTS nillable boolean,
  ADD COLUMN IF NOT EXISTS external_id boolean;
)sql";

// Settings every writer DDL transaction runs with: no NOTICEs from IF NOT EXISTS, and type
// conversions to text that render times the same way everywhere.
constexpr std::string_view kDdlSettings =
    "SET LOCAL client_min_messages = warning; SET LOCAL TimeZone = 'UTC'; "
    "SET LOCAL DateStyle = 'ISO, YMD'";

absl::Status Lock(Transaction& tx) {
  return tx.Exec("SELECT pg_advisory_xact_lock($1)", {std::to_string(kDdlLockKey)}).status();
}

bool IsWidening(const std::string& from, const std::string& to) {
  if (to == kText) return true;
  if (from == kInteger) return to == kBigint || to == kNumeric;
  if (from == kBigint) return to == kNumeric;
  return false;
}

// Changes `column` of `table` (both quoted) from type `from` to `to` by the rule in the header.
// The check runs server-side in a block of its own, so that a cast failing on some value is
// caught there instead of aborting the transaction.
absl::Status ChangeType(Transaction& tx, const std::string& table, const std::string& column,
                        const std::string& from, const std::string& to) {
  auto alter = [&](const std::string& type) {
    return StrCat("ALTER TABLE ", table, " ALTER COLUMN ", column, " TYPE ", type, " USING ",
                  column, "::", type);
  };
  if (IsWidening(from, to)) return tx.Exec(alter(to)).status();
  return tx
      .Exec(StrCat("DO $sfbridge$ DECLARE fits boolean; BEGIN "
                   "BEGIN fits := NOT EXISTS (SELECT 1 FROM ",
                   table, " WHERE ", column, " IS NOT NULL AND (", column, "::", to, ")::", from,
                   " IS DISTINCT FROM ", column,
                   "); "
                   "EXCEPTION WHEN data_exception OR cannot_coerce OR undefined_function THEN "
                   "fits := false; END; "
                   "IF fits THEN ",
                   alter(to), "; ELSE ", alter(std::string(kText)), "; END IF; END $sfbridge$"))
      .status();
}

absl::Status Grant(Transaction& tx, const std::string& schema, const std::string& table,
                   const std::string& role) {
  if (role.empty()) return absl::OkStatus();
  auto exists = tx.Exec("SELECT 1 FROM pg_roles WHERE rolname = $1", {role});
  if (!exists.ok()) return exists.status();
  if (exists->rows.empty()) return absl::OkStatus();
  std::string r = tx.QuoteName(role), s = tx.QuoteName(schema);
  return tx
      .Exec(StrCat("GRANT USAGE ON SCHEMA ", s, " TO ", r, "; GRANT SELECT ON ", s, ".",
                   tx.QuoteName(table), ", ", s, ".", tx.QuoteName(kTombstones), " TO ", r))
      .status();
}

absl::StatusOr<std::optional<std::string>> OneValue(Transaction& tx, std::string_view sql,
                                                    const Params& params) {
  auto r = tx.Exec(sql, params);
  if (!r.ok()) return r.status();
  if (r->rows.empty()) return std::optional<std::string>();
  return r->rows[0][0];
}

// The table name for an object that has none yet: its snake name unless another object or an
// unregistered table already holds it.
absl::StatusOr<std::string> NewTableName(Transaction& tx, const std::string& schema,
                                         const std::string& object_name) {
  auto r = tx.Exec(
      "SELECT table_name FROM sfbridge.synced_tables WHERE schema_name = $1 "
      "UNION SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1",
      {schema});
  if (!r.ok()) return r.status();
  std::set<std::string> taken = {std::string(kTombstones)};
  for (const auto& row : r->rows) taken.insert(*row[0]);
  return UniqueName(object_name, taken);
}

absl::Status EnsureTableIn(Transaction& tx, const std::string& schema,
                           const v1::ObjectSchema& object, const TableOptions& options) {
  if (absl::Status s = tx.Exec(kDdlSettings).status(); !s.ok()) return s;
  if (absl::Status s = Lock(tx); !s.ok()) return s;
  // After the advisory lock, so that only table locks are bounded by it.
  if (absl::Status s =
          tx.Exec(StrCat("SET LOCAL lock_timeout = ", options.lock_timeout.count())).status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s = EnsureWriterTables(tx); !s.ok()) return s;
  auto org = OneValue(tx, "SELECT org_id FROM sfbridge.orgs WHERE org_id = $1", {object.org_id()});
  if (!org.ok()) return org.status();
  if (!*org) {
    return absl::FailedPreconditionError(
        StrCat("org ", object.org_id(), " is not set up in sfbridge.orgs"));
  }
  const std::string qschema = tx.QuoteName(schema);
  const std::string qtomb = StrCat(qschema, ".", tx.QuoteName(kTombstones));
  absl::Status s = tx.Exec(StrCat("CREATE SCHEMA IF NOT EXISTS ", qschema, "; ",
                                  "CREATE TABLE IF NOT EXISTS ", qtomb,
                                  " (object text NOT NULL, id text NOT NULL, "
                                  "modstamp_ms bigint NOT NULL, "
                                  "deleted_at timestamptz NOT NULL DEFAULT now(), "
                                  "PRIMARY KEY (object, id))"))
                       .status();
  if (!s.ok()) return s;

  auto registered = tx.Exec(
      "SELECT schema_name, table_name, schema_fingerprint FROM sfbridge.synced_tables "
      "WHERE org_id = $1 AND object_name = $2",
      {object.org_id(), object.name()});
  if (!registered.ok()) return registered.status();
  std::string table;
  if (!registered->rows.empty()) {
    const auto& row = registered->rows[0];
    if (*row[0] != schema) {
      return absl::FailedPreconditionError(StrCat("object ", object.name(), " of org ",
                                                  object.org_id(), " is synced into schema ",
                                                  *row[0], ", not ", schema));
    }
    table = *row[1];
  } else {
    auto name = NewTableName(tx, schema, object.name());
    if (!name.ok()) return name.status();
    table = *name;
  }
  const std::string qtable = StrCat(qschema, ".", tx.QuoteName(table));

  // What exists: the mapping rows and the table's columns.
  auto mapped = tx.Exec(
      "SELECT field_name, column_name FROM sfbridge.field_mappings "
      "WHERE org_id = $1 AND object_name = $2",
      {object.org_id(), object.name()});
  if (!mapped.ok()) return mapped.status();
  std::map<std::string, std::string> field_to_column;
  std::set<std::string> taken = {"id", "_synced_at", "_modstamp_ms"};
  for (const auto& row : mapped->rows) {
    field_to_column[*row[0]] = *row[1];
    taken.insert(*row[1]);
  }
  auto existing = tx.Exec(
      "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
      "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
      {schema, table});
  if (!existing.ok()) return existing.status();
  const bool table_exists = !existing->rows.empty();
  std::map<std::string, std::string> column_types;
  for (const auto& row : existing->rows) {
    column_types[*row[0]] = *row[1];
    taken.insert(*row[0]);
  }

  // What should exist: a column per field that has one; new names in sorted API-name order.
  struct Wanted {
    std::string field, column, type, field_type;
    bool createable = false, updateable = false, calculated = false, nillable = false;
    bool external_id = false;
  };
  std::vector<Wanted> wanted;
  std::vector<size_t> unnamed;
  for (const v1::FieldSchema& f : object.fields()) {
    std::optional<std::string> type = ColumnType(f.type());
    if (!type) continue;
    Wanted w{f.name(),       "",           *type,          f.type(), f.createable(), f.updateable(),
             f.calculated(), f.nillable(), f.external_id()};
    if (f.name() == "Id") {
      w.column = "id";
    } else if (auto it = field_to_column.find(f.name()); it != field_to_column.end()) {
      w.column = it->second;
    } else {
      unnamed.push_back(wanted.size());
    }
    wanted.push_back(std::move(w));
  }
  std::sort(unnamed.begin(), unnamed.end(),
            [&](size_t a, size_t b) { return wanted[a].field < wanted[b].field; });
  for (size_t i : unnamed) {
    wanted[i].column = UniqueName(wanted[i].field, taken);
    taken.insert(wanted[i].column);
  }

  if (!table_exists) {
    std::string ddl = StrCat("CREATE TABLE ", qtable, " (id text PRIMARY KEY");
    for (const Wanted& w : wanted) {
      if (w.column == "id") continue;
      core::StrAppend(&ddl, ", ", tx.QuoteName(w.column), " ", w.type);
    }
    core::StrAppend(
        &ddl, ", _synced_at timestamptz NOT NULL DEFAULT now(), _modstamp_ms bigint NOT NULL)");
    if (s = tx.Exec(ddl).status(); !s.ok()) return s;
  } else {
    std::vector<std::string> adds;
    for (const Wanted& w : wanted) {
      if (w.column == "id") continue;
      auto it = column_types.find(w.column);
      if (it == column_types.end()) {
        adds.push_back(StrCat("ADD COLUMN ", tx.QuoteName(w.column), " ", w.type));
      } else if (it->second != w.type) {
        s = ChangeType(tx, qtable, tx.QuoteName(w.column), it->second, w.type);
        if (!s.ok()) return s;
      }
    }
    if (!adds.empty()) {
      s = tx.Exec(StrCat("ALTER TABLE ", qtable, " ", core::StrJoin(adds, ", "))).status();
      if (!s.ok()) return s;
    }
  }

  s = tx.Exec(
            "INSERT INTO sfbridge.synced_tables AS st (org_id, object_name, schema_name, "
            "table_name, schema_fingerprint, schema_version) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (org_id, object_name) DO UPDATE SET "
            "schema_fingerprint = excluded.schema_fingerprint, "
            "schema_version = excluded.schema_version, updated_at = now()",
            {object.org_id(), object.name(), schema, table, object.fingerprint(),
             std::to_string(object.version())})
          .status();
  if (!s.ok()) return s;
  if (!wanted.empty()) {
    std::string sql =
        "INSERT INTO sfbridge.field_mappings (org_id, object_name, field_name, column_name, "
        "field_type, createable, updateable, calculated, nillable, external_id) VALUES ";
    Params params = {object.org_id(), object.name()};
    auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
    for (size_t i = 0; i < wanted.size(); ++i) {
      size_t p = params.size();
      core::StrAppend(&sql, i ? ", " : "", "($1, $2");
      for (size_t k = 1; k <= 8; ++k) core::StrAppend(&sql, ", $", p + k);
      core::StrAppend(&sql, ")");
      params.push_back(wanted[i].field);
      params.push_back(wanted[i].column);
      params.push_back(wanted[i].field_type);
      params.push_back(flag(wanted[i].createable));
      params.push_back(flag(wanted[i].updateable));
      params.push_back(flag(wanted[i].calculated));
      params.push_back(flag(wanted[i].nillable));
      params.push_back(flag(wanted[i].external_id));
    }
    core::StrAppend(&sql,
                    " ON CONFLICT (org_id, object_name, field_name) DO UPDATE SET "
                    "column_name = excluded.column_name, field_type = excluded.field_type, "
                    "createable = excluded.createable, updateable = excluded.updateable, "
                    "calculated = excluded.calculated, nillable = excluded.nillable, "
                    "external_id = excluded.external_id");
    if (s = tx.Exec(sql, params).status(); !s.ok()) return s;
  }
  if (s = EnsurePendingWriteTrigger(tx, qtable); !s.ok()) return s;
  return Grant(tx, schema, table, options.read_role);
}

}  // namespace

std::optional<std::string> ColumnType(std::string_view salesforce_type) {
  static const std::map<std::string_view, std::string_view> kTypes = {
      {"boolean", kBoolean}, {"int", kInteger},          {"long", kBigint},
      {"double", kNumeric},  {"currency", kNumeric},     {"percent", kNumeric},
      {"date", kDate},       {"datetime", kTimestamptz}, {"time", kTime},
  };
  if (salesforce_type == "base64" || salesforce_type == "address" ||
      salesforce_type == "location") {
    return std::nullopt;
  }
  auto it = kTypes.find(salesforce_type);
  return std::string(it == kTypes.end() ? kText : it->second);
}

absl::Status EnsureWriterTables(Transaction& tx) {
  if (absl::Status s = tx.Exec("SET LOCAL client_min_messages = warning").status(); !s.ok()) {
    return s;
  }
  if (absl::Status s = Lock(tx); !s.ok()) return s;
  if (absl::Status s = tx.Exec(kWriterTables).status(); !s.ok()) return s;
  return EnsurePendingWriteFunction(tx);
}

absl::Status EnsureWriterTables(postgres::Connection& conn) {
  absl::Status s = conn.InTransaction([](Transaction& tx) { return EnsureWriterTables(tx); });
  return s.ok() ? s : core::Annotate(s, "writer tables");
}

absl::Status EnsureTable(postgres::Connection& conn, const std::string& schema,
                         const v1::ObjectSchema& object, const TableOptions& options) {
  if (object.name().empty() || object.org_id().empty()) {
    return absl::InvalidArgumentError("ensure table: ObjectSchema without name or org_id");
  }
  if (schema.empty()) return absl::InvalidArgumentError("ensure table: empty schema name");
  absl::Status s = conn.InTransaction(
      [&](Transaction& tx) { return EnsureTableIn(tx, schema, object, options); });
  return s.ok() ? s : core::Annotate(s, StrCat("ensure table for ", object.name()));
}

absl::StatusOr<std::optional<std::string>> SyncedTableName(Transaction& tx,
                                                           const std::string& schema,
                                                           const std::string& org_id,
                                                           const std::string& object_name) {
  return OneValue(tx,
                  "SELECT table_name FROM sfbridge.synced_tables "
                  "WHERE org_id = $1 AND object_name = $2 AND schema_name = $3",
                  {org_id, object_name, schema});
}

absl::StatusOr<TableMapping> LoadTableMapping(Transaction& tx, const std::string& schema,
                                              const std::string& table, const std::string& org_id,
                                              const std::string& object_name) {
  auto r = tx.Exec(
      "SELECT f.field_name, f.column_name, format_type(a.atttypid, a.atttypmod), "
      "format_type(a.atttypid, NULL) "
      "FROM sfbridge.field_mappings f "
      "JOIN pg_namespace n ON n.nspname = $3 "
      "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = $4 "
      "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = f.column_name "
      "  AND a.attnum > 0 AND NOT a.attisdropped "
      "WHERE f.org_id = $1 AND f.object_name = $2",
      {org_id, object_name, schema, table});
  if (!r.ok()) return r.status();
  TableMapping mapping;
  mapping.table = table;
  for (const auto& row : r->rows) mapping.fields[*row[0]] = ColumnInfo{*row[1], *row[2], *row[3]};
  return mapping;
}

}  // namespace sfbridge::writer
