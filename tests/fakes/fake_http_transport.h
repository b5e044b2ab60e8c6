#pragma once

#include <deque>
#include <mutex>
#include <vector>

#include "common/salesforce/http_transport.h"

namespace sfbridge::testing {

// An HttpTransport that answers with scripted replies, in order, and records every request it
// was sent. A request with no reply left gets kFailedPrecondition "no scripted reply" (so a
// test sees an unexpected extra call). Thread-safe.
class FakeHttpTransport final : public salesforce::HttpTransport {
 public:
  using HttpRequest = salesforce::HttpRequest;
  using HttpResponse = salesforce::HttpResponse;
  using HttpHeaders = salesforce::HttpHeaders;

  // Queues a reply with this status and body (and headers).
  void Reply(int status, std::string body, HttpHeaders headers = {}) {
    std::lock_guard lock(mu_);
    replies_.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }
  // Queues a transport failure (kUnavailable for a dropped connection, kDeadlineExceeded...).
  void Fail(absl::Status status) {
    std::lock_guard lock(mu_);
    replies_.push_back(std::move(status));
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (replies_.empty()) return absl::FailedPreconditionError("no scripted reply");
    absl::StatusOr<HttpResponse> reply = std::move(replies_.front());
    replies_.pop_front();
    return reply;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  size_t pending_replies() const {
    std::lock_guard lock(mu_);
    return replies_.size();
  }

 private:
  mutable std::mutex mu_;
  std::deque<absl::StatusOr<HttpResponse>> replies_;
  std::vector<HttpRequest> requests_;
};

}  // namespace sfbridge::testing
