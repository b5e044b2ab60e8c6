#pragma once

// Moved to common/mapping/record_mapping.h. This header keeps the old path and names for the
// proxy's write path until it includes the new one; it goes then.

#include "common/mapping/record_mapping.h"
#include "fetcher/schema_mapping.h"

namespace sfbridge::fetcher {
using mapping::ChangeBatch;
using mapping::ConvertPage;
using mapping::ToRecordChange;
}  // namespace sfbridge::fetcher
