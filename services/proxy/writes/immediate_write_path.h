#pragma once

// A write to a synced table sent to Salesforce on its own, when its statement runs
// (WritePath::Execute; salesforce_write_path.h steps 4-7): prepared (write_preparation.h), its
// records sent in chunks of up to 200 (salesforce_calls.h), the confirmed versions applied
// through the writer, and the client's reply built (write_reply.h).
//
// Thread-safe; everything given to the constructor must outlive it.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "proxy/write_path.h"
#include "proxy/writes/salesforce_calls.h"
#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_metrics.h"
#include "proxy/writes/write_preparation.h"
#include "proxy/writes/writer_client.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::proxy::writes {

class ImmediateWritePath {
 public:
  ImmediateWritePath(WritePreparation& preparation, SalesforceCalls& calls, WriterClient& writer,
                     WriteMetrics& metrics, std::string org_id)
      : preparation_(preparation),
        calls_(calls),
        writer_(writer),
        metrics_(metrics),
        org_id_(std::move(org_id)) {}

  // The statement's outcome; `run` says what it did (its table, outcome, Salesforce's time).
  // After Salesforce accepted a change, a failure to read it back or to reach the writer is
  // 58000 saying the change IS in Salesforce and reaches the table through the sync.
  MutationOutcome Execute(const AnalyzedWrite& write, const BoundParams& params,
                          ServerQuerier& server, WriteRun& run);

 private:
  MutationOutcome SendToSalesforce(const AnalyzedWrite& write, const SyncedTable& table,
                                   const BoundParams& params, const ServerQuerier::Rows& rows,
                                   WriteRun& run);
  absl::Status ApplyThroughWriter(const std::vector<v1::RecordChange>& changes);

  WritePreparation& preparation_;
  SalesforceCalls& calls_;
  WriterClient& writer_;
  WriteMetrics& metrics_;
  const std::string org_id_;
};

}  // namespace sfbridge::proxy::writes
