#include "absl/strings/cord.h"
#include "proxy/pg_wire.h"
#include "proxy/write_path.h"

namespace sfbridge::proxy {
namespace {

// The payload is the ErrorResponse body as the wire carries it (code, value, NUL; then a NUL).
constexpr char kPayloadUrl[] = "type.sfbridge/proxy.ServerError";

}  // namespace

absl::Status ServerErrorStatus(const PgError& error) {
  std::string message = error.message;
  absl::Status status(absl::StatusCode::kFailedPrecondition,
                      absl::string_view(message.data(), message.size()));
  std::string body;
  wire::AppendErrorResponse(&body, error);
  status.SetPayload(kPayloadUrl, absl::Cord(absl::string_view(body.data() + 5, body.size() - 5)));
  return status;
}

std::optional<PgError> GetServerError(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);  // absl::optional in this Abseil
  if (!payload) return std::nullopt;
  std::string body(*payload);
  absl::StatusOr<std::vector<std::pair<char, std::string>>> fields = wire::ReadFields(body);
  if (!fields.ok()) return std::nullopt;
  return wire::ToPgError(*fields);
}

}  // namespace sfbridge::proxy
