#pragma once

// Writes held until their unit of work ends, then committed to Salesforce as ONE all-or-none
// Composite request (WritePath::Hold / CommitHeld; README "Pipelines and batches"); the
// request itself is laid out and read by held_writes.h.
//
// Hold prepares a statement as an immediate write is prepared (write_preparation.h, its rows
// locked), changes its rows in the client's transaction through sfbridge.pending_write
// (pending_write_client.h; an inserted row gets a provisional id) and keeps its records in the
// unit; it answers with the rows as the transaction holds them. Commit sends the unit and, when
// Salesforce accepts it, puts the confirmed versions in the pending rows' places ('confirm',
// 'tombstone', then 'resolved') and answers every statement again over the confirmed rows.
//
// Thread-safe; everything given to the constructor must outlive it.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/core/clock.h"
#include "common/salesforce/client.h"
#include "proxy/write_path.h"
#include "proxy/writes/composite_batcher.h"
#include "proxy/writes/held_writes.h"
#include "proxy/writes/pending_write_client.h"
#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_metrics.h"
#include "proxy/writes/write_preparation.h"

namespace sfbridge::proxy::writes {

class HeldWritePath {
 public:
  // `batcher` only hands out reference ids (a unit's request is never shared with others).
  HeldWritePath(WritePreparation& preparation, PendingWriteClient& pending,
                salesforce::Client& client, CompositeBatcher& batcher, core::Clock& clock,
                WriteMetrics& metrics, std::string org_id)
      : preparation_(preparation),
        pending_(pending),
        client_(client),
        batcher_(batcher),
        clock_(clock),
        metrics_(metrics),
        org_id_(std::move(org_id)) {}

  // Holds `write` in `unit` (WritePath::Hold). An error means it is not held and changed
  // nothing (ON CONFLICT is refused here: 0A000; a unit that would not fit one request: 54000).
  MutationOutcome Hold(const std::shared_ptr<const AnalyzedWrite>& write, const BoundParams& params,
                       TxStatus tx_status, ServerQuerier& server, HeldUnit& unit, WriteRun& run);

  // Sends the held `statements` (not empty) in one all-or-none request (WritePath::CommitHeld).
  // After Salesforce accepted them, a failure to put them in the tables is 58000 saying they
  // ARE in Salesforce.
  HeldCommit Commit(const std::vector<HeldStatement>& statements, ServerQuerier& server,
                    WriteRun& run);

 private:
  WritePreparation& preparation_;
  PendingWriteClient& pending_;
  salesforce::Client& client_;
  CompositeBatcher& batcher_;
  core::Clock& clock_;
  WriteMetrics& metrics_;
  const std::string org_id_;
};

}  // namespace sfbridge::proxy::writes
