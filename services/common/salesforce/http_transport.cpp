#include "common/salesforce/http_transport.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/cord.h"

namespace sfbridge::salesforce {

std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return std::nullopt;
}

absl::Status MarkNotSent(absl::Status status) {
  if (!status.ok()) status.SetPayload(kNotSentPayloadUrl, absl::Cord("1"));
  return status;
}

bool WasNotSent(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kNotSentPayloadUrl).has_value();
}

absl::Status FeedBodySink(HttpResponse& response, HttpBodySink& sink) {
  std::string body = std::move(response.body);
  response.body.clear();
  response.body_streamed = true;
  if (absl::Status s = sink.Begin(response); !s.ok()) return s;
  const std::string_view view = body;
  for (size_t at = 0; at < view.size(); at += kBodyPiece) {
    if (absl::Status s = sink.Take(view.substr(at, kBodyPiece)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace sfbridge::salesforce
