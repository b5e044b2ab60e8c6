#pragma once

// `sfbridge verify`: compares each synced table (id -> _modstamp_ms) of an org with its source,
// sfsim's admin digest (--sfsim.url) or a real org (SELECT Id, SystemModstamp, keyset paged).
//
// The comparison is a snapshot: the source keeps changing while the tables catch up, so a live
// org may show differences that the next poll removes. --settle=N re-checks the differing ids
// (re-reading their rows and the source) until they agree or N seconds have passed.
//
// Exit codes: 0 every object agrees, 1 some difference (or a failure), 2 bad usage or config.

#include <ostream>

#include "absl/status/status.h"
#include "common/core/config.h"

namespace sfbridge::cli {

// Adds the keys verify reads.
void AddVerifyKeys(core::ConfigSchema& schema);

// Prints one line per object, examples of each kind of difference, and a total. Errors:
// kFailedPrecondition when there is a difference, kInvalidArgument for bad usage, others as the
// database or source returned them.
absl::Status RunVerify(const core::Config& config, std::ostream& out);

}  // namespace sfbridge::cli
