#pragma once

// What /readyz of one service answered, polled every 100 ms from a thread of its own, for tests
// that show readiness going down and coming back.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/core/strings.h"
#include "common/salesforce/poco_transport.h"

namespace sfbridge::testing {

// `port` says where the service's admin server is now (0: not yet, skipped).
class ReadinessWatch {
 public:
  explicit ReadinessWatch(std::function<uint16_t()> port) : port_(std::move(port)) {
    thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
  }

  // Whether an answer with `status` whose body holds `text` was seen at or after `since`.
  bool Saw(int status, const std::string& text, std::chrono::steady_clock::time_point since) {
    std::lock_guard lock(mu_);
    for (const Answer& a : answers_) {
      if (a.at >= since && a.status == status && a.body.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  int last_status() {
    std::lock_guard lock(mu_);
    return answers_.empty() ? 0 : answers_.back().status;
  }
  std::string History() {
    std::lock_guard lock(mu_);
    std::string out;
    int previous = -1;
    for (const Answer& a : answers_) {
      if (a.status == previous) continue;
      previous = a.status;
      out += core::StrCat("  ", a.status, " ", a.body, "\n");
    }
    return out;
  }

 private:
  struct Answer {
    std::chrono::steady_clock::time_point at;
    int status;
    std::string body;
  };
  void Loop(const std::stop_token& stop) {
    auto transport = salesforce::PocoTransport::Create({});
    if (!transport.ok()) return;
    while (!stop.stop_requested()) {
      const uint16_t port = port_();
      if (port != 0) {
        auto r = (*transport)
                     ->Send({.url = core::StrCat("http://127.0.0.1:", port, "/readyz"),
                             .timeout = std::chrono::seconds(5)});
        std::lock_guard lock(mu_);
        answers_.push_back(
            {std::chrono::steady_clock::now(), r.ok() ? r->status : -1, r.ok() ? r->body : ""});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::function<uint16_t()> port_;
  std::mutex mu_;
  std::vector<Answer> answers_;
  std::jthread thread_;
};

}  // namespace sfbridge::testing
