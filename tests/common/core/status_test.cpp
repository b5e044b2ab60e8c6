#include "common/core/status.h"

#include <gtest/gtest.h>

namespace sfbridge::core {
namespace {

using absl::StatusCode;

TEST(StatusTest, RetryableCodesAreTheTransientOnes) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("x")));
  EXPECT_TRUE(IsRetryable(absl::ResourceExhaustedError("x")));
  EXPECT_TRUE(IsRetryable(absl::DeadlineExceededError("x")));
  EXPECT_TRUE(IsRetryable(absl::AbortedError("x")));
  EXPECT_FALSE(IsRetryable(absl::OkStatus()));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsRetryable(absl::PermissionDeniedError("x")));
  EXPECT_FALSE(IsRetryable(absl::UnauthenticatedError("x")));
  EXPECT_FALSE(IsRetryable(absl::NotFoundError("x")));
}

TEST(StatusTest, HttpStatusMapping) {
  EXPECT_EQ(HttpStatusToCode(200), StatusCode::kOk);
  EXPECT_EQ(HttpStatusToCode(204), StatusCode::kOk);
  EXPECT_EQ(HttpStatusToCode(400), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpStatusToCode(401), StatusCode::kUnauthenticated);
  EXPECT_EQ(HttpStatusToCode(403), StatusCode::kPermissionDenied);
  EXPECT_EQ(HttpStatusToCode(404), StatusCode::kNotFound);
  EXPECT_EQ(HttpStatusToCode(429), StatusCode::kResourceExhausted);
  EXPECT_EQ(HttpStatusToCode(500), StatusCode::kUnavailable);
  EXPECT_EQ(HttpStatusToCode(503), StatusCode::kUnavailable);
  EXPECT_EQ(HttpStatusToCode(504), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(HttpStatusToCode(418), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsRetryable(absl::Status(HttpStatusToCode(502), "")));
  EXPECT_FALSE(IsRetryable(absl::Status(HttpStatusToCode(400), "")));
}

TEST(StatusTest, SqlStateMapping) {
  EXPECT_EQ(SqlStateToCode("00000"), StatusCode::kOk);
  EXPECT_EQ(SqlStateToCode("08006"), StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateToCode("08001"), StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateToCode("40001"), StatusCode::kAborted);
  EXPECT_EQ(SqlStateToCode("40P01"), StatusCode::kAborted);
  EXPECT_EQ(SqlStateToCode("53300"), StatusCode::kResourceExhausted);
  EXPECT_EQ(SqlStateToCode("55P03"), StatusCode::kAborted);
  EXPECT_EQ(SqlStateToCode("57P01"), StatusCode::kUnavailable);
  EXPECT_EQ(SqlStateToCode("57014"), StatusCode::kCancelled);
  EXPECT_EQ(SqlStateToCode("23505"), StatusCode::kAlreadyExists);
  EXPECT_EQ(SqlStateToCode("23502"), StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqlStateToCode("42601"), StatusCode::kInvalidArgument);
  EXPECT_EQ(SqlStateToCode("42P01"), StatusCode::kNotFound);
  EXPECT_EQ(SqlStateToCode("42501"), StatusCode::kPermissionDenied);
  EXPECT_EQ(SqlStateToCode("22001"), StatusCode::kInvalidArgument);
  EXPECT_EQ(SqlStateToCode("XX000"), StatusCode::kInternal);
  EXPECT_EQ(SqlStateToCode("bad"), StatusCode::kUnknown);
}

TEST(StatusTest, AnnotateKeepsCodeAndPrefixesContext) {
  absl::Status s = Annotate(absl::UnavailableError("refused"), "connect to kafka");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "connect to kafka: refused");
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

}  // namespace
}  // namespace sfbridge::core
