#pragma once

// Salesforce's own errors, carried inside absl::Status so that every layer above keeps the
// error code, message and fields Salesforce gave (DESIGN.md invariant 6).
//
// The status message reads "ERROR_CODE: message (fields: A, B)"; the ApiError itself travels
// as a status payload and comes back with GetApiError. The status code says what to do:
//   UNABLE_TO_LOCK_ROW            kAborted (retry after a pause)
//   REQUEST_LIMIT_EXCEEDED        kResourceExhausted (back off; the budget decides)
//   INVALID_SESSION_ID            kUnauthenticated (re-authenticate, then retry once)
//   NOT_FOUND, ENTITY_IS_DELETED  kNotFound
//   DUPLICATE_VALUE               kAlreadyExists
//   INSUFFICIENT_ACCESS_OR_READONLY  kPermissionDenied
//   anything else                 core::HttpStatusToCode(http_status)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sfbridge::salesforce {

inline constexpr std::string_view kApiErrorPayloadUrl = "type.sfbridge/salesforce.ApiError";

struct ApiError {
  int http_status = 0;     // of the reply that carried it (200 for a collections result)
  std::string error_code;  // "REQUIRED_FIELD_MISSING"; empty when the body named none
  std::string message;
  std::vector<std::string> fields;

  bool operator==(const ApiError&) const = default;
};

// The status code for an error code, falling back to the HTTP status's.
absl::StatusCode ApiErrorStatusCode(int http_status, std::string_view error_code);

// A non-OK status carrying `error` (as message and payload).
absl::Status ApiErrorToStatus(const ApiError& error);

// The ApiError a status carries, if it carries one.
std::optional<ApiError> GetApiError(const absl::Status& status);

// Parses the error body of a non-2xx reply: the single-record shape
// [{"message","errorCode","fields"}] or the collections shape {"statusCode","message","fields"}
// (an array of either takes the first). A body in neither shape yields an ApiError without an
// error code whose message is the body's start (at most 500 bytes).
ApiError ParseApiError(int http_status, std::string_view body);

// ParseApiError then ApiErrorToStatus.
absl::Status StatusFromErrorReply(int http_status, std::string_view body);

}  // namespace sfbridge::salesforce
