#pragma once

// The Salesforce calls of one write to a synced table (salesforce_write_path.h steps 4 and 5):
// the records of the affected rows, sent with sObject Collections (allOrNone) in chunks of at
// most 200, each chunk together with the read-back of its confirmed versions in ONE Composite
// request (one API call, one budget token), mapped as the fetcher maps them.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/salesforce/client.h"
#include "common/salesforce/collections.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/composite_batcher.h"
#include "proxy/writes/statement_analysis.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::proxy::writes {

// Records per call, for writes and read-backs alike.
inline constexpr size_t kRecordsPerCall = salesforce::kMaxCollectionRecords;

// The Salesforce records of the derived rows: the fields of `write.columns`, and the Id
// (updates); for deletes only the ids. kInvalidArgument for a row whose id is no Salesforce id
// or a value the field's type does not take.
absl::StatusOr<std::vector<salesforce::Fields>> ToRecords(const AnalyzedWrite& write,
                                                          const SyncedTable& table,
                                                          const ServerQuerier::Rows& rows);

// allOrNone: when a collection is refused, the first result with a real error explains it (the
// others only say they were rolled back); nullptr when every record succeeded.
const salesforce::SaveResult* FirstRefusal(const std::vector<salesforce::SaveResult>& results);

// One chunk (at most kRecordsPerCall records) of a statement as Composite subrequests: the
// sObject Collections write (allOrNone) and, after it, the read-back of the confirmed versions
// (Id, SystemModstamp, formula and default values): for an insert a collections retrieve of
// the ids the create gave (references "@{<prefix>w[i].id}"), for an update a retrieve of the
// ids, for a delete a queryAll by Id (deleted records are seen only by queryAll).
// With `upsert_field` (an insert's external-id field, ON CONFLICT ... DO UPDATE), the write is
// an sObject Collections upsert by that field (PATCH /composite/sobjects/{Object}/{Field}), read
// back as an insert.
struct ChunkRequest {
  std::vector<salesforce::CompositeSubrequest> subrequests;
  int queries = 0;  // query subrequests among them
};
ChunkRequest BuildChunkRequest(Operation operation, const SyncedTable& table,
                               const std::vector<salesforce::Fields>& records,
                               std::string_view reference_prefix,
                               std::string_view upsert_field = {});

// What one chunk got from Salesforce.
struct ChunkOutcome {
  // OK when Salesforce accepted every record. Otherwise why it did not: the Composite
  // request's own failure (the gate's refusal, an error reply, a transport failure, marked
  // salesforce::OutcomeUnknown when it may have been applied), or the collection's refusal (a
  // status carrying the ApiError of the record that explains it).
  absl::Status failure;
  std::vector<std::string> accepted;  // when accepted: the record ids, in row order
  // Inserts, parallel to `accepted`: whether the record was created (false: an upsert updated
  // an existing record).
  std::vector<bool> created;
  // ON CONFLICT ... DO NOTHING: the indexes of the chunk's records that were not sent because
  // a record with their external id exists (or an earlier row of the statement has it);
  // `accepted` holds the others, in order.
  std::vector<size_t> skipped;
  // When accepted: the confirmed versions (tombstones for a delete), or why they could not be
  // read back (the change is in Salesforce then, not yet in the table).
  absl::StatusOr<std::vector<v1::RecordChange>> changes = std::vector<v1::RecordChange>();
};

// The outcome of a chunk from the subresponses of its ChunkRequest (same order); `upsert`:
// the request was built with an upsert field.
ChunkOutcome ReadChunkReply(Operation operation, const SyncedTable& table,
                            const std::vector<salesforce::Fields>& records,
                            const std::vector<salesforce::CompositeSubresponse>& replies,
                            std::string_view org_id, int64_t now_ms, bool upsert = false);

// Thread-safe as the batcher is; `batcher` and `clock` must outlive it.
class SalesforceCalls {
 public:
  // `lock_attempts`: how often a chunk that failed only on UNABLE_TO_LOCK_ROW (nothing was
  // applied) is sent, the first time included, waiting `lock_backoff` times the attempt number
  // before each resend.
  SalesforceCalls(CompositeBatcher& batcher, core::Clock& clock, std::string org_id,
                  int lock_attempts = 1,
                  std::chrono::milliseconds lock_backoff = std::chrono::milliseconds(200))
      : batcher_(batcher),
        clock_(clock),
        org_id_(std::move(org_id)),
        lock_attempts_(lock_attempts),
        lock_backoff_(lock_backoff) {}

  // Sends one chunk of `write` (at most kRecordsPerCall records) with its read-back, in one
  // Composite request (shared with other statements' chunks when the batcher coalesces).
  // `write.upsert` (an insert ON CONFLICT on the external-id column): DO UPDATE is an upsert by
  // that field in the same one request; DO NOTHING first queries which of the chunk's external
  // ids exist (a request of its own), then creates only the others. Between the two a
  // concurrent creator may add one of them: Salesforce then refuses the create with
  // DUPLICATE_VALUE (23505) when the field is unique, and creates a second record when it is
  // not. Adds Salesforce's time, budget waits excluded, to `*salesforce_time`.
  ChunkOutcome SendChunk(const AnalyzedWrite& write, const SyncedTable& table,
                         const std::vector<salesforce::Fields>& records,
                         std::chrono::nanoseconds* salesforce_time);

 private:
  CompositeBatcher& batcher_;
  core::Clock& clock_;
  const std::string org_id_;
  const int lock_attempts_;
  const std::chrono::milliseconds lock_backoff_;

  // DO NOTHING's query: which of the chunk's records already exist by `field`.
  absl::StatusOr<std::vector<size_t>> Existing(const SyncedTable& table, std::string_view field,
                                               const std::vector<salesforce::Fields>& records,
                                               std::chrono::nanoseconds* salesforce_time);
};

}  // namespace sfbridge::proxy::writes
