#pragma once

// Moved to common/mapping/datetime.h. This header keeps the old path and names for the proxy's
// write path until it includes the new one; it goes then.

#include "common/mapping/datetime.h"

namespace sfbridge::fetcher {
using mapping::FormatApiDateTime;
using mapping::FormatSoqlDateTime;
using mapping::ParseDateDays;
using mapping::ParseDateTimeMillis;
using mapping::ParseTimeMillis;
}  // namespace sfbridge::fetcher
