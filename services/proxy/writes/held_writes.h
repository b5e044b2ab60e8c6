#pragma once

// Writes held until their unit of work ends, then sent to Salesforce as ONE all-or-none
// Composite request (write_path.h HeldWrites; README "Pipelines and batches").
//
// Hold (held_write_path.h) prepares a statement as Execute does, changes the rows in the
// client's transaction through sfbridge.pending_write (writer/pending_writes.h; an inserted row
// gets a provisional id) and keeps the statement's records here. At the end of the unit,
// BuildUnitRequest lays the statements out in one Composite request with allOrNone:
// consecutive statements of the same operation on the same object share one sObject Collections
// subrequest (at most 200 records, none twice), followed by its read-back (a collections
// retrieve; a queryAll for deletes). A record inserted earlier in the unit is referred to as
// "@{<ref>[i].id}" wherever a later record names its provisional id (the Id to update or delete,
// a reference field), so Salesforce resolves it inside the one request. A unit must fit one
// request: at most 25 subrequests, 5 of them queries, and kMaxUnitRecords records.
//
// Pure and thread-safe (no I/O here).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/salesforce/collections.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/salesforce_calls.h"
#include "proxy/writes/statement_analysis.h"

namespace sfbridge::proxy::writes {

// Records one unit may write.
inline constexpr size_t kMaxUnitRecords = 500;

// "000p" and 14 characters [0-9a-z]: unique within the process, and across processes with
// overwhelming likelihood (a random start). Never a Salesforce id: no object has key prefix 000.
std::string NewProvisionalId();
bool IsProvisionalId(std::string_view id);

// One held statement.
struct HeldStatement {
  std::shared_ptr<const CatalogSnapshot> snapshot;  // keeps `table` alive
  const SyncedTable* table = nullptr;
  AnalyzedWrite write;                            // as sent: the columns Salesforce sets left out
  std::shared_ptr<const AnalyzedWrite> original;  // as the client wrote it (RETURNING)
  BoundParams params;
  std::vector<salesforce::Fields> records;
  // Per record: its id; an insert's is provisional until the unit is committed.
  std::vector<std::string> ids;
  // DELETE ... RETURNING: the deleted rows as they were (a JSON array, in `ids` order).
  std::string deleted_rows;
  bool in_transaction = false;  // held inside an explicit transaction block
};

class HeldUnit final : public HeldWrites {
 public:
  size_t size() const override { return statements.size(); }
  std::vector<HeldStatement> statements;
};

// One sObject Collections subrequest of a unit and its read-back.
struct UnitPart {
  Operation operation = Operation::kInsert;
  const SyncedTable* table = nullptr;
  std::vector<std::pair<size_t, size_t>> members;  // (statement, record), in the request's order
  size_t write_index = 0;                          // its subrequests' positions
  std::optional<size_t> read_index;                // none: nothing to read back
};

struct UnitRequest {
  std::vector<salesforce::CompositeSubrequest> subrequests;
  int queries = 0;
  std::vector<UnitPart> parts;
};

// The parts of `statements` without their bodies, and what they need of a request: its
// subrequests and queries. For a cheap check of whether a unit still fits (UnitFits).
struct UnitShape {
  std::vector<UnitPart> parts;
  size_t subrequests = 0;
  int queries = 0;
  size_t records = 0;
};
UnitShape ShapeOf(const std::vector<HeldStatement>& statements);
// OK, or kResourceExhausted saying which limit the unit exceeds.
absl::Status UnitFits(const UnitShape& shape);

// The one Composite request of a unit, reference ids starting with `prefix`. Errors: UnitFits's.
absl::StatusOr<UnitRequest> BuildUnitRequest(const std::vector<HeldStatement>& statements,
                                             std::string_view prefix);

// What Salesforce answered a unit.
struct UnitOutcome {
  // Not OK: nothing was applied (Salesforce refused a record, or a subrequest failed and the
  // request was rolled back), or the request's own failure (it may be marked OutcomeUnknown).
  absl::Status failure;
  size_t failed_statement = 0;  // the statement of the refused record (0 when none is known)
  // OK: per part (UnitRequest::parts), what was accepted and read back.
  std::vector<ChunkOutcome> parts;
};
UnitOutcome ReadUnitReply(const UnitRequest& request, const std::vector<HeldStatement>& statements,
                          const std::vector<salesforce::CompositeSubresponse>& replies,
                          std::string_view org_id, int64_t now_ms);

// The objects of a JSON array of rows (each with a string "id"), by id, as their JSON text.
absl::StatusOr<std::map<std::string, std::string>> RowsById(std::string_view json_array);

}  // namespace sfbridge::proxy::writes
