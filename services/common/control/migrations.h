#pragma once

// Versioned, forward-only migrations of the control-plane schema `sfbridge`.
//
// Each version runs in a transaction of its own that first takes a transaction-level advisory
// lock (kMigrationLockKey), so any number of processes may call Migrate at once: one applies a
// version, the others wait for it and then find it recorded in sfbridge.schema_migrations.
// A version is never edited once released; a change is a new version.

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/postgres/connection.h"

namespace sfbridge::control {

// The advisory lock every migration transaction holds ("sfbridge" in ASCII).
inline constexpr int64_t kMigrationLockKey = 0x7366627269646765;

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // one or more statements, run as one transaction
};

// Every migration this build knows, in increasing version order starting at 1.
const std::vector<Migration>& Migrations();

// Brings the schema up to the latest known version; versions already recorded are skipped, so a
// second call does nothing. Versions the database has beyond this build's (a newer binary ran)
// are left alone. Errors: the failing version's SQL error (that version is rolled back, earlier
// ones stay), connection errors as retryable statuses.
absl::Status Migrate(postgres::Connection& conn);

// The highest applied version; 0 when nothing was ever applied.
absl::StatusOr<int> SchemaVersion(postgres::Connection& conn);

}  // namespace sfbridge::control
