#include "proxy/writes/writer_client.h"

#include <grpcpp/grpcpp.h>

#include "common/core/strings.h"
#include "sfbridge/v1/writer.grpc.pb.h"

namespace sfbridge::proxy::writes {

struct WriterClient::Impl {
  std::string address;
  std::chrono::milliseconds timeout;
  std::unique_ptr<v1::Writer::Stub> stub;
};

WriterClient::WriterClient(const std::string& address, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->address = address;
  impl_->timeout = timeout;
  impl_->stub =
      v1::Writer::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

WriterClient::~WriterClient() = default;

absl::StatusOr<v1::ApplyResponse> WriterClient::Apply(
    const std::string& org_id, const std::vector<v1::RecordChange>& changes) {
  v1::ApplyRequest request;
  request.set_org_id(org_id);
  for (const v1::RecordChange& c : changes) *request.add_changes() = c;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + impl_->timeout);
  v1::ApplyResponse response;
  grpc::Status s = impl_->stub->Apply(&context, request, &response);
  if (s.ok()) return response;
  const std::string message = core::StrCat("writer at ", impl_->address, ": ", s.error_message());
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(message);
    case grpc::StatusCode::INVALID_ARGUMENT:
      return absl::InvalidArgumentError(message);
    case grpc::StatusCode::FAILED_PRECONDITION:
      return absl::FailedPreconditionError(message);
    case grpc::StatusCode::ABORTED:
      return absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace sfbridge::proxy::writes
