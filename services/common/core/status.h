#pragma once

// Error conventions shared by every service.
//
// Expected failures are absl::Status values. The code says whether a failure is worth retrying:
//   kUnavailable, kResourceExhausted, kDeadlineExceeded, kAborted -> back off and retry;
//   everything else is permanent until something (config, data, the org) changes.
// Exceptions from libraries (libpqxx, Poco, gRPC) are caught at the adapter that calls them and
// turned into statuses there; they never cross a component boundary.

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sfbridge::core {

// True when the same call may succeed later without anything being changed.
bool IsRetryable(const absl::Status& status);

// The status code that fits an HTTP reply status (2xx -> kOk). 429 and 503 are retryable;
// 401 is kUnauthenticated (re-authenticate, then retry once); other 4xx are permanent.
absl::StatusCode HttpStatusToCode(int http_status);

// The status code that fits a PostgreSQL SQLSTATE (five characters, e.g. "23505"):
// connection failures (08), serialization failures, deadlocks and lock timeouts (40001, 40P01,
// 55P03), lack of resources (53), and operator intervention (57P01..57P03) are retryable.
absl::StatusCode SqlStateToCode(std::string_view sqlstate);

// "context: message", keeping the code. For adding what was being attempted.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace sfbridge::core
