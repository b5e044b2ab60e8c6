#pragma once

#include <mutex>

#include "common/core/clock.h"

namespace sfbridge::testing {

// A clock that moves only when told to. SleepFor advances it at once. Thread-safe.
class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1'700'000'000)))
      : wall_(start) {}

  WallTime Now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  MonoTime Monotonic() const override {
    std::lock_guard lock(mu_);
    return mono_;
  }
  void SleepFor(std::chrono::nanoseconds d) override { Advance(d); }

  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu_);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
    mono_ += std::chrono::duration_cast<MonoTime::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  WallTime wall_;
  MonoTime mono_{};
};

}  // namespace sfbridge::testing
