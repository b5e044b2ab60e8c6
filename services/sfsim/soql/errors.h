#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

// The statuses the SOQL engine returns, tagged with the errorCode Salesforce would put in its
// 400 reply. None of them is retryable: the query itself is wrong.
namespace sfbridge::sfsim::soql {

inline constexpr std::string_view kMalformedQuery = "MALFORMED_QUERY";
inline constexpr std::string_view kInvalidField = "INVALID_FIELD";
inline constexpr std::string_view kInvalidType = "INVALID_TYPE";
inline constexpr std::string_view kInvalidQueryFilterOperator = "INVALID_QUERY_FILTER_OPERATOR";
inline constexpr std::string_view kNumberOutsideValidRange = "NUMBER_OUTSIDE_VALID_RANGE";

// InvalidArgument: syntax errors, unsupported constructs, the FIELDS() limit.
absl::Status MalformedQueryError(std::string_view message);
// NotFound: `No such column 'Foo' on entity 'Contact'. ...`.
absl::Status NoSuchColumnError(std::string_view field, std::string_view object);
// NotFound: `sObject type 'Foo' is not supported. ...`.
absl::Status InvalidTypeError(std::string_view object);
// InvalidArgument: a literal of the wrong type, an operator the field does not allow.
absl::Status InvalidFilterError(std::string_view message);
// InvalidArgument: OFFSET above the maximum.
absl::Status NumberOutsideValidRangeError(std::string_view message);

// The Salesforce errorCode for a status made by this engine; MALFORMED_QUERY for other
// InvalidArgument statuses, INVALID_FIELD for other NotFound statuses, "" for OK.
std::string SalesforceErrorCode(const absl::Status& status);

}  // namespace sfbridge::sfsim::soql
