#include "common/salesforce/api_error.h"

#include <simdjson.h>

#include "absl/strings/cord.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/salesforce/json_fields.h"
#include "common/salesforce/json_records.h"

namespace sfbridge::salesforce {
namespace {

constexpr size_t kMaxUnparsedMessage = 500;

std::vector<std::string> StringArray(simdjson::dom::element element) {
  std::vector<std::string> out;
  simdjson::dom::array array;
  if (element.get_array().get(array) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element item : array) {
    std::string_view s;
    if (item.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
  return out;
}

std::optional<ApiError> FromObject(int http_status, simdjson::dom::object object) {
  ApiError error;
  error.http_status = http_status;
  error.error_code = StringField(object, "errorCode");
  if (error.error_code.empty()) error.error_code = StringField(object, "statusCode");
  // OAuth-style bodies: {"error": "...", "error_description": "..."}.
  if (error.error_code.empty()) error.error_code = StringField(object, "error");
  error.message = StringField(object, "message");
  if (error.message.empty()) error.message = StringField(object, "error_description");
  simdjson::dom::element fields;
  if (object["fields"].get(fields) == simdjson::SUCCESS) error.fields = StringArray(fields);
  if (error.error_code.empty() && error.message.empty()) return std::nullopt;
  return error;
}

}  // namespace

absl::StatusCode ApiErrorStatusCode(int http_status, std::string_view error_code) {
  if (error_code == "UNABLE_TO_LOCK_ROW") return absl::StatusCode::kAborted;
  if (error_code == "REQUEST_LIMIT_EXCEEDED") return absl::StatusCode::kResourceExhausted;
  if (error_code == "INVALID_SESSION_ID") return absl::StatusCode::kUnauthenticated;
  if (error_code == "NOT_FOUND" || error_code == "ENTITY_IS_DELETED") {
    return absl::StatusCode::kNotFound;
  }
  if (error_code == "DUPLICATE_VALUE") return absl::StatusCode::kAlreadyExists;
  if (error_code == "INSUFFICIENT_ACCESS_OR_READONLY") return absl::StatusCode::kPermissionDenied;
  absl::StatusCode code = core::HttpStatusToCode(http_status);
  // An error inside a 200 reply (collections, composite) is still an error; without a better
  // hint it is the caller's request that was refused.
  if (code == absl::StatusCode::kOk) return absl::StatusCode::kInvalidArgument;
  return code;
}

absl::Status ApiErrorToStatus(const ApiError& error) {
  std::string message;
  if (!error.error_code.empty()) core::StrAppend(&message, error.error_code, ": ");
  if (error.message.empty()) {
    core::StrAppend(&message, "HTTP ", error.http_status);
  } else {
    core::StrAppend(&message, error.message);
  }
  if (!error.fields.empty()) {
    core::StrAppend(&message, " (fields: ", core::StrJoin(error.fields, ", "), ")");
  }
  absl::Status status(ApiErrorStatusCode(error.http_status, error.error_code), message);

  core::JsonWriter w;
  w.BeginObject()
      .Member("httpStatus", error.http_status)
      .Member("errorCode", error.error_code)
      .Member("message", error.message)
      .StringArray("fields", error.fields)
      .EndObject();
  const std::string payload = w.Take();
  status.SetPayload(absl::string_view(kApiErrorPayloadUrl.data(), kApiErrorPayloadUrl.size()),
                    absl::Cord(payload));
  return status;
}

std::optional<ApiError> GetApiError(const absl::Status& status) {
  auto payload =
      status.GetPayload(absl::string_view(kApiErrorPayloadUrl.data(), kApiErrorPayloadUrl.size()));
  if (!payload) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(std::string(*payload)).get_object().get(object) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  ApiError error;
  int64_t http_status = 0;
  if (object["httpStatus"].get_int64().get(http_status) != simdjson::SUCCESS) return std::nullopt;
  error.http_status = static_cast<int>(http_status);
  error.error_code = StringField(object, "errorCode");
  error.message = StringField(object, "message");
  simdjson::dom::element fields;
  if (object["fields"].get(fields) == simdjson::SUCCESS) error.fields = StringArray(fields);
  return error;
}

ApiError ParseApiError(int http_status, std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) == simdjson::SUCCESS) {
    simdjson::dom::array array;
    simdjson::dom::object object;
    if (root.get_array().get(array) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : array) {
        if (item.get_object().get(object) != simdjson::SUCCESS) continue;
        if (std::optional<ApiError> error = FromObject(http_status, object)) return *error;
      }
    } else if (root.get_object().get(object) == simdjson::SUCCESS) {
      if (std::optional<ApiError> error = FromObject(http_status, object)) return *error;
    }
  }
  ApiError error;
  error.http_status = http_status;
  error.message = std::string(body.substr(0, kMaxUnparsedMessage));
  return error;
}

absl::Status StatusFromErrorReply(int http_status, std::string_view body) {
  return ApiErrorToStatus(ParseApiError(http_status, body));
}

}  // namespace sfbridge::salesforce
