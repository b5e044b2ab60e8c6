#pragma once

#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
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
  // Queues a reply that breaks off after `sent_bytes` of its body: a request with a body sink
  // gets them (Begin, then one piece), and then, as every request, kUnavailable.
  void BreakOff(int status, std::string body, HttpHeaders headers, size_t sent_bytes) {
    std::lock_guard lock(mu_);
    body.resize(std::min(body.size(), sent_bytes));
    broken_.insert(taken_ + replies_.size());
    replies_.push_back(HttpResponse{status, std::move(headers), std::move(body)});
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (replies_.empty()) return absl::FailedPreconditionError("no scripted reply");
    absl::StatusOr<HttpResponse> reply = std::move(replies_.front());
    replies_.pop_front();
    const bool broken = broken_.erase(taken_++) > 0;
    if (!broken) return reply;
    if (request.body_sink != nullptr) {
      HttpResponse head = *reply;
      head.body.clear();
      if (absl::Status s = request.body_sink->Begin(head); !s.ok()) return s;
      if (absl::Status s = request.body_sink->Take(reply->body); !s.ok()) return s;
    }
    return absl::UnavailableError("connection closed in the middle of the body");
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
  std::set<size_t> broken_;  // positions, counted from the first reply queued, of BreakOff's
  size_t taken_ = 0;         // replies taken so far
  std::vector<HttpRequest> requests_;
};

}  // namespace sfbridge::testing
