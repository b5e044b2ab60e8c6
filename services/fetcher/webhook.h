#pragma once

// Delivers the org's events to its webhook URL (sfbridge.orgs.webhook_url): each event's JSON
// (control::EventJson) is POSTed with Content-Type application/json from a thread of its own,
// so the sync never waits for the receiver. A delivery that fails (no answer, or a status other
// than 2xx) is retried with exponential backoff (initial_backoff, doubling, up to max_attempts
// in all) and then dropped with an error logged; events queued beyond max_queue are dropped
// (the oldest first). Events stay in sfbridge.events either way: the webhook is a convenience,
// the table is the record.
//
// Thread-safe. The transport and clock must outlive the notifier; the destructor stops the
// thread, abandoning deliveries still queued.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/core/clock.h"
#include "common/salesforce/http_transport.h"

namespace sfbridge::fetcher {

struct WebhookOptions {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds timeout{10'000};  // per POST
  size_t max_queue = 1'000;
};

class WebhookNotifier {
 public:
  WebhookNotifier(salesforce::HttpTransport& transport, core::Clock& clock,
                  WebhookOptions options = {});
  ~WebhookNotifier();
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  // Where events go from now on; nullopt or "": nowhere (events queued meanwhile are dropped).
  void SetUrl(std::optional<std::string> url);
  // Queues one event's JSON for delivery; returns at once.
  void Post(std::string event_json);

  int64_t delivered() const;
  int64_t dropped() const;

 private:
  void Loop(std::stop_token stop);

  salesforce::HttpTransport& transport_;
  core::Clock& clock_;
  const WebhookOptions options_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::string url_;                // guarded by mu_
  std::deque<std::string> queue_;  // guarded by mu_
  int64_t delivered_ = 0;          // guarded by mu_
  int64_t dropped_ = 0;            // guarded by mu_
  std::jthread thread_;
};

}  // namespace sfbridge::fetcher
