#pragma once

#include <cstdint>

#include "sfsim/org/store.h"

namespace sfbridge::sfsim::org {

// Makes `changes` random changes (about 80% updates of one to three fields, 10% creates, 10%
// deletes) over the objects with live records, chosen in proportion to their sizes,
// deterministically from `seed` and the store's contents. Each group of `burst` changes is one
// transaction under the store's lock with one SystemModstamp. Users are never created or
// deleted (Salesforce does not delete users); those picks become updates. Returns the number
// of changes made (fewer than asked when there are no records to change). Thread-safe: takes
// store.mu itself.
int Churn(Store& store, std::uint64_t seed, int changes, int burst);

}  // namespace sfbridge::sfsim::org
