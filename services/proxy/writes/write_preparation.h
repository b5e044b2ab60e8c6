#pragma once

// Everything a write to a synced table does before Salesforce is called
// (salesforce_write_path.h steps 1-3), the same for a write sent at once
// (immediate_write_path.h) and a held one (held_write_path.h): the table name resolved on the
// client's connection, the columns checked (write_checks.h), the derived query run there
// (derived_query.h) and its rows checked against max_rows.
//
// Thread-safe; the catalog and the pending-write client must outlive it.

#include <memory>
#include <optional>
#include <variant>

#include "absl/status/statusor.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/pending_write_client.h"
#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_metrics.h"

namespace sfbridge::proxy::writes {

// A statement ready to send: its table, the write as sent (without the columns Salesforce
// sets) and the affected rows with their values.
struct PreparedWrite {
  std::shared_ptr<const CatalogSnapshot> snapshot;  // keeps `table` alive
  const SyncedTable* table = nullptr;
  // The write as sent when it leaves out columns Salesforce sets; nullopt: as written (no copy
  // of its parse tree on the common path).
  std::optional<AnalyzedWrite> trimmed;
  ServerQuerier::Rows rows;
};

class WritePreparation {
 public:
  // `max_rows`: rows one statement may change (WritePathOptions::max_rows).
  WritePreparation(Catalog& catalog, PendingWriteClient& pending, int max_rows)
      : catalog_(catalog), pending_(pending), max_rows_(max_rows) {}

  // The outcome when the statement ends here (passed through, refused, or no row affected),
  // else what to send; `run` gets the table and, when refused, the outcome. `lock`: an
  // UPDATE's or DELETE's rows are locked in the client's transaction (sfbridge.pending_write
  // 'lock') and derived again once locked, as PostgreSQL re-reads a row a concurrent
  // transaction changed.
  std::variant<MutationOutcome, PreparedWrite> Prepare(const AnalyzedWrite& write,
                                                       const BoundParams& params,
                                                       ServerQuerier& server, WriteRun& run,
                                                       bool lock);

 private:
  // The synced table the write's relation names on the client's connection; nullptr when it is
  // not one (the statement then passes through).
  absl::StatusOr<const SyncedTable*> Resolve(const AnalyzedWrite& write, ServerQuerier& server,
                                             std::shared_ptr<const CatalogSnapshot>& snap);

  Catalog& catalog_;
  PendingWriteClient& pending_;
  const int max_rows_;
};

}  // namespace sfbridge::proxy::writes
