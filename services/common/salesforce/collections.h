#pragma once

// The bodies of sObject Collections (/composite/sobjects) and Composite (/composite) requests,
// and the meaning of their replies (reference §4). Pure and thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/salesforce/json_records.h"

namespace sfbridge::salesforce {

// At most this many records per collections call; a larger request is refused before sending.
inline constexpr size_t kMaxCollectionRecords = 200;
// At most this many subrequests per composite call.
inline constexpr size_t kMaxCompositeSubrequests = 25;

struct SaveError {
  std::string status_code;  // "REQUIRED_FIELD_MISSING", "ALL_OR_NONE_OPERATION_ROLLED_BACK"...
  std::string message;
  std::vector<std::string> fields;

  bool operator==(const SaveError&) const = default;
};

// The outcome of one record of a collections call, in the order of the input.
struct SaveResult {
  std::string id;  // empty when a create failed
  bool success = false;
  std::vector<SaveError> errors;
  bool created = false;  // an upsert's: true when it made a new record, false when it updated
};

// OK for a success; else the first error as a status carrying an ApiError (api_error.h), e.g.
// "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)".
absl::Status SaveResultStatus(const SaveResult& result);

struct CompositeSubrequest {
  std::string method;        // "GET", "POST", "PATCH", "DELETE"
  std::string url;           // "/services/data/v59.0/sobjects/Contact" or relative to it
                             // ("/sobjects/Contact"), which the Client completes
  std::string reference_id;  // "r1"; later subrequests may use "@{r1.id}"
  std::string body;          // raw JSON, or empty for none
};

struct CompositeSubresponse {
  int http_status = 0;
  std::string reference_id;
  std::string body;  // raw JSON as Salesforce sent it ("null" when it sent null)
};

// {"allOrNone":b,"records":[{"attributes":{"type":T},...}, ...]}. For updates each record must
// carry its Id among its fields.
std::string BuildCollectionsBody(std::string_view object_type, const std::vector<Fields>& records,
                                 bool all_or_none);
// {"allOrNone":b,"compositeRequest":[...]}; `data_path` ("/services/data/v59.0") completes
// relative subrequest URLs.
std::string BuildCompositeBody(const std::vector<CompositeSubrequest>& subrequests,
                               bool all_or_none, std::string_view data_path);

// Errors: kInternal when the JSON is not of the expected shape.
absl::StatusOr<std::vector<SaveResult>> ParseSaveResults(std::string_view json);
absl::StatusOr<std::vector<CompositeSubresponse>> ParseCompositeResponse(std::string_view json);

}  // namespace sfbridge::salesforce
