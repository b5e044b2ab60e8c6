// The gRPC Writer.Apply's handling of requests and of an unreachable PostgreSQL, on simulated
// time: nothing here needs a server (the database's port is closed, so every connection attempt
// is refused at once).

#include "writer/grpc_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/fakes/fake_clock.h"
#include "tests/harness/test_env.h"

namespace sfbridge::writer {
namespace {

using std::chrono::milliseconds;

class GrpcServiceTest : public ::testing::Test {
 protected:
  // A port nothing listens on.
  const std::string url_ =
      "postgresql://sfbridge@127.0.0.1:" + std::to_string(sfbridge::testing::FreePort()) + "/x";
  sfbridge::testing::FakeClock clock_;
  WriterGrpcService service_{url_, "salesforce", nullptr, 1, nullptr, clock_};
};

TEST_F(GrpcServiceTest, AnUnreachableDatabaseIsRetriedWithBackoffThenUnavailable) {
  v1::ApplyRequest request;
  request.set_org_id("00Dorg");
  v1::RecordChange* c = request.add_changes();
  c->set_object_name("Account");
  c->set_record_id("001A");
  c->set_system_modstamp_ms(1);
  v1::ApplyResponse response;
  grpc::ServerContext context;
  const auto start = clock_.Monotonic();
  const grpc::Status s = service_.Apply(&context, &request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(response.results_size(), 0);
  // Five tries, waiting 100, 200, 400 and 800 ms of the service's clock between them.
  EXPECT_EQ(clock_.Monotonic() - start, milliseconds(1500));
}

TEST_F(GrpcServiceTest, ARequestWithoutAnOrgOrForAnotherOrgIsRefusedUntried) {
  v1::ApplyRequest request;
  v1::ApplyResponse response;
  grpc::ServerContext context;
  EXPECT_EQ(service_.Apply(&context, &request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_org_id("00Dorg");
  v1::RecordChange* c = request.add_changes();
  c->set_org_id("00Dother");
  c->set_record_id("001A");
  const auto start = clock_.Monotonic();
  const grpc::Status s = service_.Apply(&context, &request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("belongs to org 00Dother"), std::string::npos);
  EXPECT_EQ(clock_.Monotonic(), start);  // no database tried, no wait
}

}  // namespace
}  // namespace sfbridge::writer
