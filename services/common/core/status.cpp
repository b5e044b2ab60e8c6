#include "common/core/status.h"

#include <string>

#include "common/core/strings.h"

namespace sfbridge::core {

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

absl::StatusCode HttpStatusToCode(int http_status) {
  if (http_status >= 200 && http_status < 300) return absl::StatusCode::kOk;
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 409:
      return absl::StatusCode::kAborted;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 413:
      return absl::StatusCode::kInvalidArgument;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 501:
      return absl::StatusCode::kUnimplemented;
    default:
      break;
  }
  if (http_status >= 500) return absl::StatusCode::kUnavailable;
  if (http_status >= 400) return absl::StatusCode::kFailedPrecondition;
  return absl::StatusCode::kUnknown;
}

absl::StatusCode SqlStateToCode(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return absl::StatusCode::kUnknown;
  if (sqlstate == "00000") return absl::StatusCode::kOk;
  // Serialization failure, deadlock, lock not available (lock_timeout): try again.
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return absl::StatusCode::kAborted;
  }
  if (sqlstate == "57014") return absl::StatusCode::kCancelled;
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;
  if (sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "3D000") {
    return absl::StatusCode::kNotFound;
  }
  if (sqlstate == "42501" || sqlstate == "28000" || sqlstate == "28P01") {
    return absl::StatusCode::kPermissionDenied;
  }
  std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08") return absl::StatusCode::kUnavailable;
  if (cls == "53") return absl::StatusCode::kResourceExhausted;
  if (cls == "22" || cls == "42") return absl::StatusCode::kInvalidArgument;
  if (cls == "23") return absl::StatusCode::kFailedPrecondition;
  if (cls == "25") return absl::StatusCode::kFailedPrecondition;
  if (cls == "XX") return absl::StatusCode::kInternal;
  return absl::StatusCode::kUnknown;
}

absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), core::StrCat(context, ": ", status.message()));
}

}  // namespace sfbridge::core
