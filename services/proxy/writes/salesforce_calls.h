#pragma once

// The Salesforce calls of one write to a synced table (salesforce_write_path.h steps 4 and 5):
// the records of the affected rows, sent with sObject Collections (allOrNone) in calls of at
// most 200, and the confirmed versions read back with queryAll by Id, mapped as the fetcher
// maps them. Each call takes its budget token through the client's gate.

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/salesforce/client.h"
#include "common/salesforce/collections.h"
#include "proxy/write_path.h"
#include "proxy/writes/catalog.h"
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

// Thread-safe as the client is; `client` and `clock` must outlive it. Every call adds its time,
// budget waits excluded, to `*salesforce_time`.
class SalesforceCalls {
 public:
  SalesforceCalls(salesforce::Client& client, core::Clock& clock, std::string org_id)
      : client_(client), clock_(clock), org_id_(std::move(org_id)) {}

  struct Sent {
    std::vector<std::string> accepted;  // ids of the records Salesforce holds now, in order
    // Why the rest was not: the failed call's status, or the status of the save result that
    // explains an allOrNone refusal; OK when every record was accepted.
    absl::Status failure;
  };
  // Sends `records` of `write` to `table`'s object in calls of kRecordsPerCall, in order,
  // stopping at the first call Salesforce refuses.
  Sent Send(const AnalyzedWrite& write, const SyncedTable& table,
            const std::vector<salesforce::Fields>& records,
            std::chrono::nanoseconds* salesforce_time);

  // The confirmed versions of the records `ids` (tombstones for a delete).
  absl::StatusOr<std::vector<v1::RecordChange>> ReadBack(const AnalyzedWrite& write,
                                                         const SyncedTable& table,
                                                         const std::vector<std::string>& ids,
                                                         std::chrono::nanoseconds* salesforce_time);

 private:
  // Runs `call` and adds its time, without budget waits, to *salesforce_time.
  template <typename Call>
  auto Timed(std::chrono::nanoseconds* salesforce_time, const Call& call);

  salesforce::Client& client_;
  core::Clock& clock_;
  const std::string org_id_;
};

}  // namespace sfbridge::proxy::writes
