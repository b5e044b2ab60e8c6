#pragma once

// The writer's Kafka consumer offsets, kept in sfbridge.consumer_offsets next to the rows they
// cover (invariant 4): a consumer seeks each assigned partition to its stored next offset, and
// stores new offsets only in the transaction that applies the records before them.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/postgres/connection.h"

namespace sfbridge::writer {

struct OffsetUpdate {
  std::string consumer_group;
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;  // the offset of the next message to consume
};

// Upserts `offsets` within `tx`. The stored offset is overwritten, so a deliberate rewind works;
// for one (group, topic, partition) given more than once the highest offset is stored.
absl::Status StoreOffsets(postgres::Transaction& tx, const std::vector<OffsetUpdate>& offsets);

// partition -> next offset for `group` on `topic`; partitions never stored are absent (start
// them from the consumer's reset policy).
absl::StatusOr<std::map<int32_t, int64_t>> LoadOffsets(postgres::Connection& conn,
                                                       const std::string& group,
                                                       const std::string& topic);

}  // namespace sfbridge::writer
