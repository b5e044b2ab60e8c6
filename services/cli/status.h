#pragma once

// `sfbridge status`: per org and object the state, backfill progress, last poll and last error;
// per org the rate budget, the daily API usage and the writer's consumer offsets. A table for
// people, or --format=json.

#include <ostream>

#include "absl/status/status.h"
#include "common/core/config.h"

namespace sfbridge::cli {

// Adds the keys status reads.
void AddStatusKeys(core::ConfigSchema& schema);

absl::Status RunStatus(const core::Config& config, std::ostream& out);

}  // namespace sfbridge::cli
