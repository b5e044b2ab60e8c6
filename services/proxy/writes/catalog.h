#pragma once

// The synced tables of one org as the write path needs them: which relations are synced, which
// Salesforce object and field each table and column stands for, and what Salesforce lets a
// client write (createable, updateable, calculated, nillable). Read from the control plane
// (sfbridge.synced_tables, sfbridge.field_mappings, written by the writer's EnsureTable) and the
// tables' own column types (pg_attribute).
//
// Freshness: Get() looks at most once per `refresh_interval` whether anything changed, with one
// cheap statement (a digest of the org's synced_tables rows and their updated_at: EnsureTable
// bumps updated_at in the same transaction as every mapping change), and reloads only then.
// Refresh() looks at once (Execute calls it when a table it resolved is not known yet), so a new
// synced table or column is seen without a restart.
//
// Thread-safe. Readers get an immutable snapshot; one thread at a time reloads, the others go on
// with the snapshot they have.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"

namespace sfbridge::postgres {
class Connection;
}  // namespace sfbridge::postgres

namespace sfbridge::proxy::writes {

struct SyncedField {
  std::string field;            // API name: "LastName"
  std::string column;           // unquoted: "last_name"
  std::string column_type;      // format_type() spelling: "text", "numeric", ...
  std::string salesforce_type;  // "string", "currency", "datetime", ...
  // What describe said; nullopt when the writer that created the mapping did not store it.
  std::optional<bool> createable;
  std::optional<bool> updateable;
  std::optional<bool> calculated;
  std::optional<bool> nillable;
  std::optional<bool> external_id;  // may be the key of an upsert
};

struct SyncedTable {
  std::string schema;  // unquoted
  std::string table;   // unquoted
  std::string object;  // API name: "Contact"
  std::string schema_fingerprint;
  std::vector<SyncedField> fields;  // every mapped field that has a column in the table

  const SyncedField* FindColumn(std::string_view column) const;
  const SyncedField* FindField(std::string_view api_name) const;
};

class CatalogSnapshot {
 public:
  CatalogSnapshot() = default;
  explicit CatalogSnapshot(std::vector<SyncedTable> tables);

  const SyncedTable* Find(std::string_view schema, std::string_view table) const;
  // Whether a relation written `schema.name` (schema empty when unqualified) may be a synced
  // table: a synced table of that name exists in that schema, or in any synced schema when
  // unqualified.
  bool MayBeSynced(std::string_view schema, std::string_view name) const;
  // The names of every synced table (for a quick text pre-check), lower case.
  const std::vector<std::string>& table_names() const { return table_names_; }
  bool empty() const { return tables_.empty(); }

 private:
  std::map<std::pair<std::string, std::string>, SyncedTable, std::less<>> tables_;
  std::vector<std::string> table_names_;
};

class Catalog {
 public:
  // `control_url`: the control-plane database (where the synced tables live too).
  Catalog(std::string control_url, std::string org_id, core::Clock& clock,
          std::chrono::milliseconds refresh_interval);
  ~Catalog();

  // The current snapshot, reloaded first when the interval has passed and something changed.
  // A failure to reach the control plane keeps the last snapshot (logged).
  std::shared_ptr<const CatalogSnapshot> Get();
  // Looks for changes now. Errors: the control plane's.
  absl::Status Refresh();

 private:
  absl::Status RefreshLocked();

  const std::string control_url_;
  const std::string org_id_;
  core::Clock& clock_;
  const std::chrono::milliseconds refresh_interval_;

  std::mutex refresh_mu_;                       // held while checking and reloading
  std::unique_ptr<postgres::Connection> conn_;  // guarded by refresh_mu_
  std::string version_;                         // guarded by refresh_mu_
  std::mutex mu_;                               // guards the two below
  std::shared_ptr<const CatalogSnapshot> snapshot_;
  core::Clock::MonoTime next_check_{};
};

// Loads the org's synced tables. Tolerates a field_mappings table without the flag columns
// (older writers): the flags are then nullopt.
absl::StatusOr<std::vector<SyncedTable>> LoadSyncedTables(postgres::Connection& conn,
                                                          const std::string& org_id);

}  // namespace sfbridge::proxy::writes
