#pragma once

// Messages the writer could not apply (a parked change, an unparsable payload), kept in
// sfbridge.dead_letters (created by EnsureWriterTables) with the reason and the raw payload, so
// that consuming moves on and nothing is silently lost. Store them in the transaction that
// stores the offsets past them (Applier::ApplyChanges + ParkMessages + StoreOffsets in one
// InTransaction), or a crash between the two could skip them.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/postgres/connection.h"

namespace sfbridge::writer {

struct DeadLetter {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string reason;
  std::string payload;  // the message value as received (bytes)
};

// Inserts `letters`; a message parked again (same topic, partition, offset) replaces its reason
// and payload, so replays do not duplicate it.
absl::Status ParkMessages(postgres::Transaction& tx, const std::vector<DeadLetter>& letters);
absl::Status ParkMessages(postgres::Connection& conn, const std::vector<DeadLetter>& letters);

}  // namespace sfbridge::writer
