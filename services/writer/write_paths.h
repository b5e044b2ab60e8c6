#pragma once

// The ways the apply path (applier.h) writes the versions it has decided (version_rule.h) into a
// synced table, all in the caller's transaction and under the locks it took (apply_sql.h):
//   WriteFew     a few changes: one parameterized INSERT ... ON CONFLICT per field set and one
//                DELETE + tombstone upsert, straight against the table;
//   WriteMany    many: new rows COPYed straight into the table, the rest COPYed into a TEMP
//                staging table and applied from there by the same guarded statements;
//   StreamFresh  records new to the table: rendered in chunks on a helper thread and streamed
//                into one COPY straight into the table under a savepoint.
// Errors: SQL errors as the Postgres wrapper returns them, kAborted (retry) when the table
// changed under the batch; the caller must then roll back.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/postgres/connection.h"
#include "writer/apply_sql.h"
#include "writer/record_view.h"
#include "writer/row_rendering.h"
#include "writer/version_rule.h"

namespace sfbridge::writer {

// `rendering` is RowFormat::kParams; `t.object_sql` is "$1".
absl::Status WriteFew(postgres::Transaction& tx, const TableRef& t, const Rendering& rendering,
                      const VersionPlan& plan);

// `rendering` is RowFormat::kCopyText; its buffer is released on the way.
absl::Status WriteMany(postgres::Transaction& tx, const TableRef& t, Rendering& rendering,
                       const VersionPlan& plan);

// Renders changes[indexes[k]] (no deletion, no record twice) and COPYs them into the table under
// a savepoint. `parked` gets the changes that cannot be applied (positions in `indexes`); every
// other one is written. False, with the savepoint rolled back and `parked` empty, when a record
// had a row after all (unique_violation).
absl::StatusOr<bool> StreamFresh(postgres::Transaction& tx, const TableRef& t,
                                 const std::vector<ChangeView>& changes,
                                 const std::vector<size_t>& indexes, const Layout& layout,
                                 std::vector<std::pair<size_t, std::string>>& parked);

}  // namespace sfbridge::writer
