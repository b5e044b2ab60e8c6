#include "sfsim/churn.h"

#include <chrono>
#include <cmath>

namespace sfbridge::sfsim {

void Churn::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Churn::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Churn::SetRate(double changes_per_second, int burst) {
  rate_ = changes_per_second < 0 ? 0 : changes_per_second;
  burst_ = burst < 1 ? 1 : burst;
  cv_.notify_all();
}

int Churn::StepNow(int changes, int burst) {
  int made = org_.ChurnStep(seed_.fetch_add(1), changes, burst < 1 ? 1 : burst);
  total_ += made;
  return made;
}

void Churn::Run() {
  using namespace std::chrono;
  constexpr auto kTick = milliseconds(100);
  double owed = 0;  // fractional changes carried between ticks
  auto next = steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    next += kTick;
    cv_.wait_until(lock, next, [&] { return stop_; });
    if (stop_) break;
    double rate = rate_.load();
    if (rate <= 0) {
      owed = 0;
      next = steady_clock::now();
      continue;
    }
    owed += rate * duration<double>(kTick).count();
    int changes = static_cast<int>(std::floor(owed));
    if (changes == 0) continue;
    owed -= changes;
    lock.unlock();
    StepNow(changes, burst_.load());
    lock.lock();
  }
}

}  // namespace sfbridge::sfsim
