#include "proxy/writes/catalog.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

// The flags are read through to_jsonb(f) so that a field_mappings table without them (written
// by an older writer) reads as NULL instead of failing.
constexpr std::string_view kLoadSql = R"sql(
SELECT st.schema_name, st.table_name, st.object_name, coalesce(st.schema_fingerprint, ''),
       f.field_name, f.column_name, f.field_type,
       (to_jsonb(f) ->> 'createable')::boolean, (to_jsonb(f) ->> 'updateable')::boolean,
       (to_jsonb(f) ->> 'calculated')::boolean, (to_jsonb(f) ->> 'nillable')::boolean,
       format_type(a.atttypid, a.atttypmod), (to_jsonb(f) ->> 'external_id')::boolean
FROM sfbridge.synced_tables st
JOIN sfbridge.field_mappings f ON f.org_id = st.org_id AND f.object_name = st.object_name
JOIN pg_catalog.pg_namespace n ON n.nspname = st.schema_name
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = st.table_name
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = f.column_name
  AND a.attnum > 0 AND NOT a.attisdropped
WHERE st.org_id = $1
ORDER BY st.schema_name, st.table_name, a.attnum
)sql";

// A digest of every row's update time: a change committed out of start-time order still shows.
constexpr std::string_view kVersionSql =
    "SELECT coalesce(md5(string_agg(object_name || '@' || updated_at::text, ',' "
    "ORDER BY object_name)), '') FROM sfbridge.synced_tables WHERE org_id = $1";

std::optional<bool> Flag(const postgres::Value& v) {
  if (!v) return std::nullopt;
  return *v == "t" || *v == "true";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const SyncedField* SyncedTable::FindColumn(std::string_view column) const {
  for (const SyncedField& f : fields) {
    if (f.column == column) return &f;
  }
  return nullptr;
}

const SyncedField* SyncedTable::FindField(std::string_view api_name) const {
  for (const SyncedField& f : fields) {
    if (f.field == api_name) return &f;
  }
  return nullptr;
}

CatalogSnapshot::CatalogSnapshot(std::vector<SyncedTable> tables) {
  std::set<std::string> names;
  for (SyncedTable& t : tables) {
    names.insert(Lower(t.table));
    auto key = std::make_pair(t.schema, t.table);
    tables_.emplace(std::move(key), std::move(t));
  }
  table_names_.assign(names.begin(), names.end());
}

const SyncedTable* CatalogSnapshot::Find(std::string_view schema, std::string_view table) const {
  auto it = tables_.find(std::make_pair(std::string(schema), std::string(table)));
  return it == tables_.end() ? nullptr : &it->second;
}

bool CatalogSnapshot::MayBeSynced(std::string_view schema, std::string_view name) const {
  if (!schema.empty()) return Find(schema, name) != nullptr;
  return std::any_of(tables_.begin(), tables_.end(),
                     [&](const auto& entry) { return entry.first.second == name; });
}

absl::StatusOr<std::vector<SyncedTable>> LoadSyncedTables(postgres::Connection& conn,
                                                          const std::string& org_id) {
  absl::StatusOr<postgres::QueryResult> r = conn.Exec(kLoadSql, {org_id});
  if (!r.ok()) return r.status();
  std::vector<SyncedTable> tables;
  for (const auto& row : r->rows) {
    if (tables.empty() || tables.back().schema != *row[0] || tables.back().table != *row[1]) {
      tables.push_back(SyncedTable{.schema = *row[0],
                                   .table = *row[1],
                                   .object = *row[2],
                                   .schema_fingerprint = *row[3],
                                   .fields = {}});
    }
    tables.back().fields.push_back(SyncedField{.field = *row[4],
                                               .column = *row[5],
                                               .column_type = *row[11],
                                               .salesforce_type = *row[6],
                                               .createable = Flag(row[7]),
                                               .updateable = Flag(row[8]),
                                               .calculated = Flag(row[9]),
                                               .nillable = Flag(row[10]),
                                               .external_id = Flag(row[12])});
  }
  return tables;
}

Catalog::Catalog(std::string control_url, std::string org_id, core::Clock& clock,
                 std::chrono::milliseconds refresh_interval)
    : control_url_(std::move(control_url)),
      org_id_(std::move(org_id)),
      clock_(clock),
      refresh_interval_(refresh_interval),
      snapshot_(std::make_shared<CatalogSnapshot>()) {}

Catalog::~Catalog() = default;

std::shared_ptr<const CatalogSnapshot> Catalog::Get() {
  {
    std::lock_guard lock(mu_);
    if (clock_.Monotonic() < next_check_) return snapshot_;
  }
  std::unique_lock refresh(refresh_mu_, std::try_to_lock);
  if (refresh.owns_lock()) {
    if (absl::Status s = RefreshLocked(); !s.ok()) {
      core::Logger("proxy")->warn("org={} synced tables not reloaded: {}", org_id_,
                                  core::ToString(s.message()));
    }
  }
  std::lock_guard lock(mu_);
  return snapshot_;
}

absl::Status Catalog::Refresh() {
  std::lock_guard refresh(refresh_mu_);
  return RefreshLocked();
}

absl::Status Catalog::RefreshLocked() {
  {
    std::lock_guard lock(mu_);
    next_check_ = clock_.Monotonic() + refresh_interval_;
  }
  // A pooled connection that went stale (PostgreSQL restarted) is replaced at once: the first
  // query after a restart must not fail for it.
  absl::StatusOr<postgres::QueryResult> version = absl::UnavailableError("not connected");
  for (int attempt = 0; attempt < 2 && !version.ok(); ++attempt) {
    const bool reused = conn_ != nullptr;
    if (conn_ == nullptr) {
      absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
          postgres::Connection::Connect(control_url_);
      if (!conn.ok()) return conn.status();
      conn_ = *std::move(conn);
    }
    version = conn_->Exec(kVersionSql, {org_id_});
    if (version.ok() || !core::IsRetryable(version.status())) break;
    conn_.reset();
    if (!reused) break;
  }
  if (!version.ok()) return version.status();
  const std::string current = version->rows.empty() ? "" : version->rows[0][0].value_or("");
  if (current == version_) return absl::OkStatus();
  absl::StatusOr<std::vector<SyncedTable>> tables = LoadSyncedTables(*conn_, org_id_);
  if (!tables.ok()) return tables.status();
  auto snapshot = std::make_shared<const CatalogSnapshot>(*std::move(tables));
  version_ = current;
  core::Logger("proxy")->info("org={} synced tables loaded: {}", org_id_,
                              snapshot->table_names().size());
  std::lock_guard lock(mu_);
  snapshot_ = std::move(snapshot);
  return absl::OkStatus();
}

}  // namespace sfbridge::proxy::writes
