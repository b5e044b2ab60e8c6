#include "common/core/dependency.h"

#include <thread>
#include <utility>

#include "common/core/logging.h"

namespace sfbridge::core {
namespace {

long long Seconds(Clock::MonoTime::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

DependencyState::DependencyState(std::string logger, std::string name, Clock& clock,
                                 Gauge* up_gauge, std::chrono::milliseconds reminder)
    : logger_(std::move(logger)),
      name_(std::move(name)),
      clock_(clock),
      up_gauge_(up_gauge),
      reminder_(reminder) {
  if (up_gauge_) up_gauge_->Set(1);
}

DependencyState::Logged DependencyState::ReportOk() {
  std::lock_guard lock(mu_);
  if (up_) return Logged::kNothing;
  up_ = true;
  if (up_gauge_) up_gauge_->Set(1);
  Logger(logger_)->info("dependency={} state=up down_for_s={} failures={}", name_,
                        Seconds(clock_.Monotonic() - down_since_), failures_);
  return Logged::kBack;
}

DependencyState::Logged DependencyState::ReportFailure(std::string_view error) {
  std::lock_guard lock(mu_);
  const Clock::MonoTime now = clock_.Monotonic();
  last_error_ = std::string(error);
  if (up_) {
    up_ = false;
    down_since_ = now;
    next_reminder_ = now + reminder_;
    failures_ = 1;
    if (up_gauge_) up_gauge_->Set(0);
    Logger(logger_)->error("dependency={} state=down error={}", name_, last_error_);
    return Logged::kLost;
  }
  ++failures_;
  if (now < next_reminder_) return Logged::kNothing;
  next_reminder_ = now + reminder_;
  Logger(logger_)->warn("dependency={} state=down down_for_s={} failures={} error={}", name_,
                        Seconds(now - down_since_), failures_, last_error_);
  return Logged::kReminder;
}

bool DependencyState::up() const {
  std::lock_guard lock(mu_);
  return up_;
}

std::string DependencyState::reason() const {
  std::lock_guard lock(mu_);
  if (up_) return "";
  return name_ + " unreachable for " + std::to_string(Seconds(clock_.Monotonic() - down_since_)) +
         " s: " + last_error_;
}

Gauge& DependencyUpGauge(MetricsRegistry& registry, std::string_view service,
                         const std::string& org, const std::string& dependency) {
  return registry
      .GaugeFamily("sfbridge_" + std::string(service) + "_dependency_up",
                   "1 while the dependency (postgres, kafka) is reachable, 0 while it is not.",
                   {"org", "dependency"})
      .WithLabels({org, dependency});
}

DependencyState::Logged DependencyState::Report(const absl::Status& status) {
  if (status.ok()) return ReportOk();
  return ReportFailure(std::string_view(status.message().data(), status.message().size()));
}

void NotReadyReasons::Add(std::string_view why) {
  if (why.empty()) return;
  if (!text_.empty()) text_ += "; ";
  text_ += why;
}

void ProbeUntilStopped(std::stop_token stop, std::chrono::milliseconds every,
                       const std::function<void()>& probe) {
  constexpr std::chrono::milliseconds kSlice(50);
  while (!stop.stop_requested()) {
    probe();
    for (auto waited = std::chrono::milliseconds(0); waited < every && !stop.stop_requested();
         waited += kSlice) {
      std::this_thread::sleep_for(kSlice);
    }
  }
}

}  // namespace sfbridge::core
