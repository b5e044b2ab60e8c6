#include "common/salesforce/api_error.h"

#include <gtest/gtest.h>

#include "common/core/status.h"

namespace sfbridge::salesforce {
namespace {

struct Case {
  const char* error_code;
  int http_status;
  absl::StatusCode code;
};

// Every error code of the reference's table (§4), plus the query errors of §3.
constexpr Case kTable[] = {
    {"REQUIRED_FIELD_MISSING", 400, absl::StatusCode::kInvalidArgument},
    {"INVALID_FIELD", 400, absl::StatusCode::kInvalidArgument},
    {"INVALID_FIELD_FOR_INSERT_UPDATE", 400, absl::StatusCode::kInvalidArgument},
    {"STRING_TOO_LONG", 400, absl::StatusCode::kInvalidArgument},
    {"DUPLICATE_VALUE", 400, absl::StatusCode::kAlreadyExists},
    {"FIELD_CUSTOM_VALIDATION_EXCEPTION", 400, absl::StatusCode::kInvalidArgument},
    {"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", 400, absl::StatusCode::kInvalidArgument},
    {"INVALID_CROSS_REFERENCE_KEY", 400, absl::StatusCode::kInvalidArgument},
    {"MALFORMED_ID", 400, absl::StatusCode::kInvalidArgument},
    {"UNABLE_TO_LOCK_ROW", 400, absl::StatusCode::kAborted},
    {"INSUFFICIENT_ACCESS_OR_READONLY", 400, absl::StatusCode::kPermissionDenied},
    {"INSUFFICIENT_ACCESS_OR_READONLY", 403, absl::StatusCode::kPermissionDenied},
    {"NOT_FOUND", 404, absl::StatusCode::kNotFound},
    {"ENTITY_IS_DELETED", 404, absl::StatusCode::kNotFound},
    {"INVALID_SESSION_ID", 401, absl::StatusCode::kUnauthenticated},
    {"REQUEST_LIMIT_EXCEEDED", 403, absl::StatusCode::kResourceExhausted},
    {"MALFORMED_QUERY", 400, absl::StatusCode::kInvalidArgument},
    {"INVALID_TYPE", 400, absl::StatusCode::kInvalidArgument},
};

TEST(ApiErrorTest, EveryReferenceErrorCodeInTheSingleRecordShape) {
  for (const Case& c : kTable) {
    std::string body = std::string("[{\"message\":\"something about ") + c.error_code +
                       "\",\"errorCode\":\"" + c.error_code + "\",\"fields\":[\"LastName\"]}]";
    absl::Status status = StatusFromErrorReply(c.http_status, body);
    EXPECT_EQ(status.code(), c.code) << c.error_code;
    EXPECT_EQ(std::string(status.message()), std::string(c.error_code) + ": something about " +
                                                 c.error_code + " (fields: LastName)");
    std::optional<ApiError> error = GetApiError(status);
    ASSERT_TRUE(error.has_value()) << c.error_code;
    EXPECT_EQ(error->http_status, c.http_status);
    EXPECT_EQ(error->error_code, c.error_code);
    EXPECT_EQ(error->message, std::string("something about ") + c.error_code);
    EXPECT_EQ(error->fields, std::vector<std::string>{"LastName"});
  }
}

TEST(ApiErrorTest, EveryReferenceErrorCodeInTheCollectionsShape) {
  for (const Case& c : kTable) {
    std::string body = std::string("{\"statusCode\":\"") + c.error_code +
                       "\",\"message\":\"m\",\"fields\":[\"A\",\"B\"]}";
    absl::Status status = StatusFromErrorReply(c.http_status, body);
    EXPECT_EQ(status.code(), c.code) << c.error_code;
    std::optional<ApiError> error = GetApiError(status);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->error_code, c.error_code);
    EXPECT_EQ(error->fields, (std::vector<std::string>{"A", "B"}));
    EXPECT_EQ(std::string(status.message()), std::string(c.error_code) + ": m (fields: A, B)");
  }
}

TEST(ApiErrorTest, RetryabilityFollowsTheCode) {
  EXPECT_TRUE(core::IsRetryable(
      StatusFromErrorReply(400, R"([{"message":"unable to obtain exclusive access to this record",)"
                                R"("errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}])")));
  EXPECT_TRUE(core::IsRetryable(StatusFromErrorReply(503, "")));
  EXPECT_FALSE(core::IsRetryable(StatusFromErrorReply(
      400, R"([{"message":"unexpected token","errorCode":"MALFORMED_QUERY"}])")));
}

TEST(ApiErrorTest, WithoutFieldsTheMessageHasNoFieldsPart) {
  absl::Status status = StatusFromErrorReply(
      401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
  EXPECT_EQ(std::string(status.message()), "INVALID_SESSION_ID: Session expired or invalid");
  EXPECT_TRUE(GetApiError(status)->fields.empty());
}

TEST(ApiErrorTest, EscapedTextSurvivesThePayload) {
  ApiError error{400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Say \"no\" \\ twice\n\x01 é", {"X__c"}};
  std::optional<ApiError> back = GetApiError(ApiErrorToStatus(error));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, error);
}

TEST(ApiErrorTest, UnparsableBodyKeepsStatusAndText) {
  absl::Status status = StatusFromErrorReply(502, "<html>Bad gateway</html>");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  std::optional<ApiError> error = GetApiError(status);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error_code, "");
  EXPECT_EQ(error->message, "<html>Bad gateway</html>");
  EXPECT_EQ(StatusFromErrorReply(500, "").code(), absl::StatusCode::kUnavailable);
}

TEST(ApiErrorTest, StatusWithoutPayloadHasNoApiError) {
  EXPECT_FALSE(GetApiError(absl::UnavailableError("x")).has_value());
  EXPECT_FALSE(GetApiError(absl::OkStatus()).has_value());
}

TEST(ApiErrorTest, ErrorInsideA200ReplyIsNotOk) {
  absl::Status status = ApiErrorToStatus({200, "REQUIRED_FIELD_MISSING", "missing", {}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApiErrorToStatus({200, "UNABLE_TO_LOCK_ROW", "m", {}}).code(),
            absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace sfbridge::salesforce
