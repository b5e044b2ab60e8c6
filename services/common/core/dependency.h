#pragma once

// Whether a service can reach one thing it depends on (PostgreSQL, Kafka), as its users found
// out: every use reports success or failure here, and this turns those reports into
//   - a log line when the dependency is lost, one when it is back (with how long it was gone),
//     and a reminder every `reminder` in between, never more: a failing dependency that is tried
//     in a loop does not flood the log;
//   - a gauge, 1 while up and 0 while down (sfbridge_<service>_dependency_up{dependency});
//   - up() and reason() for the readiness check.
// It starts up: a service checks its dependencies at start-up and fails there. Thread-safe.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/core/clock.h"
#include "common/core/metrics.h"

namespace sfbridge::core {

class DependencyState {
 public:
  // What a report logged.
  enum class Logged { kNothing, kLost, kReminder, kBack };

  // `logger`: the component's logger name; `name`: the dependency ("postgres", "kafka"), which
  // names it in logs and reasons. `up_gauge` may be null; it must outlive this.
  DependencyState(std::string logger, std::string name, Clock& clock, Gauge* up_gauge = nullptr,
                  std::chrono::milliseconds reminder = std::chrono::seconds(60));

  Logged ReportOk();
  Logged ReportFailure(std::string_view error);
  // ReportOk or ReportFailure(its message), as `status` says.
  Logged Report(const absl::Status& status);

  bool up() const;
  // While down: "<name> unreachable for <n> s: <last error>"; empty while up.
  std::string reason() const;
  const std::string& name() const { return name_; }

 private:
  const std::string logger_, name_;
  Clock& clock_;
  Gauge* const up_gauge_;
  const std::chrono::milliseconds reminder_;
  mutable std::mutex mu_;
  bool up_ = true;
  Clock::MonoTime down_since_{};
  Clock::MonoTime next_reminder_{};
  std::string last_error_;
  long long failures_ = 0;  // reports of failure since it went down
};

// sfbridge_<service>_dependency_up{org,dependency}: the gauge a service's DependencyState of
// `dependency` ("postgres", "kafka") drives.
Gauge& DependencyUpGauge(MetricsRegistry& registry, std::string_view service,
                         const std::string& org, const std::string& dependency);

// Why a service is not ready, as one line: the reasons added, "; "-separated; empty ones are
// skipped, so an empty result means ready.
class NotReadyReasons {
 public:
  void Add(std::string_view why);
  std::string str() && { return std::move(text_); }

 private:
  std::string text_;
};

// Calls `probe` now and then every `every` until `stop`, on the calling thread. It paces network
// probes in real time, in 50 ms slices so that a stop is seen soon (a simulated clock would spin
// them).
void ProbeUntilStopped(std::stop_token stop, std::chrono::milliseconds every,
                       const std::function<void()>& probe);

}  // namespace sfbridge::core
