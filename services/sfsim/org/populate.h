#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "sfsim/org/org.h"
#include "sfsim/org/store.h"

namespace sfbridge::sfsim::org {

// Fills the empty tables of `store` with `options.counts` generated records per object,
// parents first, deterministically from `options.seed`. CreatedDate and SystemModstamp are
// spread over the two years before `now_ms`, `options.burst_size` records of an object sharing
// each SystemModstamp. There is always at least one User: the first is the API user.
// Errors: InvalidArgument for an unknown object in counts or a negative count;
// FailedPrecondition when an object needs parents (a required reference) that have no records.
absl::Status Populate(Store& store, const OrgOptions& options, std::int64_t now_ms);

}  // namespace sfbridge::sfsim::org
