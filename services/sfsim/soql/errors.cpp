#include "sfsim/soql/errors.h"

#include "absl/strings/cord.h"

namespace sfbridge::sfsim::soql {
namespace {

constexpr std::string_view kErrorCodeUrl = "type.sfbridge/sfsim.soql.ErrorCode";

// Debian's Abseil has its own string_view rather than an alias of std::string_view.
absl::string_view ToAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

absl::Status Tagged(absl::Status status, std::string_view error_code) {
  status.SetPayload(ToAbsl(kErrorCodeUrl), absl::Cord(ToAbsl(error_code)));
  return status;
}

}  // namespace

absl::Status MalformedQueryError(std::string_view message) {
  return Tagged(absl::InvalidArgumentError(ToAbsl(message)), kMalformedQuery);
}

absl::Status NoSuchColumnError(std::string_view field, std::string_view object) {
  std::string message = "No such column '";
  message.append(field)
      .append("' on entity '")
      .append(object)
      .append(
          "'. If you are attempting to use a custom field, be sure to append the '__c' after the "
          "custom field name. Please reference your WSDL or the describe call for the appropriate "
          "names.");
  return Tagged(absl::NotFoundError(ToAbsl(message)), kInvalidField);
}

absl::Status InvalidTypeError(std::string_view object) {
  std::string message = "sObject type '";
  message.append(object).append(
      "' is not supported. If you are attempting to use a custom object, be sure to append the "
      "'__c' after the entity name. Please reference your WSDL or the describe call for the "
      "appropriate names.");
  return Tagged(absl::NotFoundError(ToAbsl(message)), kInvalidType);
}

absl::Status InvalidFilterError(std::string_view message) {
  return Tagged(absl::InvalidArgumentError(ToAbsl(message)), kInvalidQueryFilterOperator);
}

absl::Status NumberOutsideValidRangeError(std::string_view message) {
  return Tagged(absl::InvalidArgumentError(ToAbsl(message)), kNumberOutsideValidRange);
}

std::string SalesforceErrorCode(const absl::Status& status) {
  if (status.ok()) return "";
  if (auto code = status.GetPayload(ToAbsl(kErrorCodeUrl))) {
    return std::string(*code);
  }
  if (status.code() == absl::StatusCode::kNotFound) return std::string(kInvalidField);
  return std::string(kMalformedQuery);
}

}  // namespace sfbridge::sfsim::soql
