#pragma once

// Exponential backoff: the first wait after a failure is `initial`, each further failure in a
// row doubles it, up to `max`. Not thread-safe.

#include <chrono>

namespace sfbridge::core {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max < initial ? initial : max) {}

  // Counts one more failure and returns how long to wait before the next try.
  std::chrono::milliseconds Failed();
  // A success: the next failure waits `initial` again.
  void Reset() { failures_ = 0; }
  // Failures in a row so far.
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_, max_;
  int failures_ = 0;
};

}  // namespace sfbridge::core
