#include "fetcher/scheduler.h"

#include <algorithm>

#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::fetcher {

using control::ObjectState;
using std::chrono::milliseconds;

Scheduler::Scheduler(Budget& budget, core::Clock& clock, SchedulerOptions options)
    : budget_(budget), clock_(clock), options_(options) {}

void Scheduler::Add(std::unique_ptr<SyncTask> task) {
  const auto now = clock_.Monotonic();
  for (auto& e : ring_) {
    if (e.task->object_name() == task->object_name()) {
      e = Entry{std::move(task), now, false};
      return;
    }
  }
  ring_.push_back(Entry{std::move(task), now, false});
}

bool Scheduler::Remove(std::string_view object_name) {
  for (size_t i = 0; i < ring_.size(); ++i) {
    if (ring_[i].task->object_name() != object_name) continue;
    ring_.erase(ring_.begin() + static_cast<std::ptrdiff_t>(i));
    // Keep the turn order of the others: the next object after the removed one goes on.
    if (last_ != static_cast<size_t>(-1) && last_ >= i) {
      last_ = last_ == 0 ? static_cast<size_t>(-1) : last_ - 1;
    }
    return true;
  }
  return false;
}

std::vector<std::string> Scheduler::objects() const {
  std::vector<std::string> names;
  for (const auto& e : ring_) names.push_back(e.task->object_name());
  return names;
}

SyncTask* Scheduler::Find(std::string_view object_name) const {
  for (const auto& e : ring_) {
    if (e.task->object_name() == object_name) return e.task.get();
  }
  return nullptr;
}

bool Scheduler::Runnable(const Entry& e, core::Clock::MonoTime now) const {
  const ObjectState state = e.task->state();
  return !e.parked && state != ObjectState::kError && state != ObjectState::kDisabled &&
         e.due <= now;
}

void Scheduler::RetryErrorsNow() {
  const auto now = clock_.Monotonic();
  for (auto& e : ring_) {
    if (e.task->state() == ObjectState::kError) {
      e.parked = false;
      e.due = now;
    }
  }
}

void Scheduler::RetryErrors(core::Clock::MonoTime now) {
  for (auto& e : ring_) {
    if (!e.parked && e.task->state() == ObjectState::kError && e.due <= now) {
      e.task->Retry();
      e.due = now;
    }
  }
}

absl::StatusOr<TickResult> Scheduler::Tick() {
  const auto now = clock_.Monotonic();
  RetryErrors(now);
  TickResult tick;
  const size_t n = ring_.size();
  std::optional<size_t> pick;
  for (size_t k = 1; k <= n; ++k) {
    const size_t i = (last_ + k) % n;
    if (Runnable(ring_[i], now)) {
      pick = i;
      break;
    }
  }
  if (!pick) {
    auto next = core::Clock::MonoTime::max();
    for (const auto& e : ring_) {
      if (!e.parked && e.task->state() != ObjectState::kDisabled) next = std::min(next, e.due);
    }
    tick.wait = next == core::Clock::MonoTime::max()
                    ? options_.poll_interval
                    : std::max(milliseconds(1), std::chrono::ceil<milliseconds>(next - now));
    return tick;
  }
  auto grant = budget_.TryTake();
  if (!grant.ok()) return grant.status();
  if (!grant->granted) {
    tick.budget_refused = true;
    tick.wait = std::max(milliseconds(1), grant->wait);
    return tick;
  }

  last_ = *pick;
  Entry& e = ring_[*pick];
  tick.object = e.task->object_name();
  auto step = e.task->Step();
  const auto after = clock_.Monotonic();
  if (!step.ok()) {
    tick.step_status = step.status();
    e.due = after + options_.failure_backoff;
    core::Logger("fetcher")->warn("object={} step failed, retrying in {} ms: {}", tick.object,
                                  options_.failure_backoff.count(),
                                  core::ToString(step.status().message()));
    return tick;
  }
  tick.step = *step;
  if (step->state == ObjectState::kError) {
    const bool retryable = core::IsRetryable(step->error);
    e.parked = !retryable;
    milliseconds backoff = options_.error_retry_interval;
    for (int i = 0; i < e.errors_in_a_row && backoff < options_.error_retry_max; ++i) backoff *= 2;
    backoff = std::min(backoff, options_.error_retry_max);
    ++e.errors_in_a_row;
    e.due = after + backoff;
    core::Logger("fetcher")->error("object={} in error ({}): {}", tick.object,
                                   retryable ? core::StrCat("retry in ", backoff.count(), " ms")
                                             : std::string("needs attention"),
                                   core::ToString(step->error.message()));
    return tick;
  }
  if (step->api_calls > 0 && step->state != ObjectState::kError) e.errors_in_a_row = 0;
  if (step->not_before > milliseconds(0)) {
    e.due = after + step->not_before;
  } else if (step->more_pending || step->state != ObjectState::kLive) {
    e.due = after;
  } else {
    e.due = after + options_.poll_interval;
  }
  return tick;
}

void Scheduler::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto tick = Tick();
    milliseconds wait{0};
    if (!tick.ok()) {
      core::Logger("fetcher")->warn("budget unavailable, waiting {} ms: {}",
                                    options_.failure_backoff.count(),
                                    core::ToString(tick.status().message()));
      wait = options_.failure_backoff;
    } else {
      wait = tick->wait;
    }
    while (wait > milliseconds(0) && !stop.stop_requested()) {
      const milliseconds slice = std::min(wait, options_.max_sleep);
      clock_.SleepFor(slice);
      wait -= slice;
    }
  }
}

}  // namespace sfbridge::fetcher
