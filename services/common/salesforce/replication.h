#pragma once

// The replies of getUpdated and getDeleted (reference §6) and of /limits (§5). Dates stay the
// text Salesforce sent ("2024-01-15T10:20:00.000+0000"). Pure and thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/core/clock.h"

namespace sfbridge::salesforce {

struct DeletedRecord {
  std::string id;
  std::string deleted_date;
};

struct DeletedRecords {
  std::vector<DeletedRecord> deleted_records;
  std::string earliest_date_available;
  std::string latest_date_covered;
};

struct UpdatedRecords {
  std::vector<std::string> ids;
  std::string latest_date_covered;
};

struct LimitValue {
  int64_t max = 0;
  int64_t remaining = 0;
};

// Errors: kInternal when the JSON is not of the expected shape.
absl::StatusOr<DeletedRecords> ParseDeletedRecords(std::string_view json);
absl::StatusOr<UpdatedRecords> ParseUpdatedRecords(std::string_view json);
// "DailyApiRequests" -> {15000, 14998}, ... (nested per-app entries are ignored).
absl::StatusOr<std::map<std::string, LimitValue>> ParseLimits(std::string_view json);

// "2024-01-15T10:20:30+00:00": the form getUpdated/getDeleted take for start and end (UTC,
// whole seconds).
std::string FormatReplicationTime(core::Clock::WallTime time);

}  // namespace sfbridge::salesforce
