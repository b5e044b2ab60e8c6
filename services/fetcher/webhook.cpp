#include "fetcher/webhook.h"

#include <algorithm>
#include <utility>

#include "common/core/logging.h"
#include "common/core/strings.h"

namespace sfbridge::fetcher {

WebhookNotifier::WebhookNotifier(salesforce::HttpTransport& transport, core::Clock& clock,
                                 WebhookOptions options)
    : transport_(transport), clock_(clock), options_(options) {
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

WebhookNotifier::~WebhookNotifier() {
  thread_.request_stop();
  cv_.notify_all();
}

void WebhookNotifier::SetUrl(std::optional<std::string> url) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string next = url.value_or("");
  if (next == url_) return;
  url_ = std::move(next);
  if (url_.empty()) {
    dropped_ += static_cast<int64_t>(queue_.size());
    queue_.clear();
  }
}

void WebhookNotifier::Post(std::string event_json) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (url_.empty()) return;
    if (queue_.size() >= options_.max_queue) {
      queue_.pop_front();
      ++dropped_;
    }
    queue_.push_back(std::move(event_json));
  }
  cv_.notify_all();
}

int64_t WebhookNotifier::delivered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_;
}

int64_t WebhookNotifier::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void WebhookNotifier::Loop(std::stop_token stop) {
  auto log = core::Logger("fetcher");
  while (!stop.stop_requested()) {
    std::string body, url;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (stop.stop_requested()) return;
      body = std::move(queue_.front());
      queue_.pop_front();
      url = url_;
    }
    std::chrono::milliseconds backoff = options_.initial_backoff;
    bool sent = false;
    std::string last_error;
    for (int attempt = 1; attempt <= options_.max_attempts && !stop.stop_requested(); ++attempt) {
      absl::StatusOr<salesforce::HttpResponse> r =
          transport_.Send({.method = "POST",
                           .url = url,
                           .headers = {{"Content-Type", "application/json"}},
                           .body = body,
                           .timeout = options_.timeout});
      if (r.ok() && r->status >= 200 && r->status < 300) {
        sent = true;
        break;
      }
      last_error = r.ok() ? core::StrCat("HTTP ", r->status) : core::ToString(r.status().message());
      if (attempt == options_.max_attempts) break;
      log->warn("webhook delivery failed (attempt {}), retrying in {} ms: {}", attempt,
                backoff.count(), last_error);
      for (auto left = backoff; left.count() > 0 && !stop.stop_requested();) {
        const auto slice = std::min(left, std::chrono::milliseconds(100));
        clock_.SleepFor(slice);
        left -= slice;
      }
      backoff *= 2;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (sent) {
      ++delivered_;
    } else if (!stop.stop_requested()) {
      ++dropped_;
      log->error("webhook delivery dropped after {} attempts: {}", options_.max_attempts,
                 last_error);
    }
  }
}

}  // namespace sfbridge::fetcher
