#pragma once

// Time, behind an interface so that tests simulate it instead of sleeping.

#include <chrono>

namespace sfbridge::core {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using MonoTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Wall-clock time (UTC), for timestamps that leave the process.
  virtual WallTime Now() const = 0;
  // Monotonic time, for measuring intervals and deadlines.
  virtual MonoTime Monotonic() const = 0;
  // Blocks the calling thread for `d` (a simulated clock advances instead).
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;
};

// The real clocks of the machine. Thread-safe.
class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::nanoseconds d) override;

  // A process-wide instance; lives forever.
  static SystemClock& Instance();
};

// Milliseconds since the Unix epoch.
inline long long ToUnixMillis(Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace sfbridge::core
