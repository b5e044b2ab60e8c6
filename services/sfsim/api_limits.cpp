#include "sfsim/api_limits.h"

#include "common/core/strings.h"

namespace sfbridge::sfsim {

bool ApiLimits::TryCount(const std::string& kind) {
  int64_t cur = used_.load();
  do {
    if (cur >= daily_max_.load()) return false;
  } while (!used_.compare_exchange_weak(cur, cur + 1));
  std::lock_guard lock(mu_);
  ++by_kind_[kind];
  return true;
}

std::string ApiLimits::LimitInfoHeader() const {
  return core::StrCat("api-usage=", used_.load(), "/", daily_max_.load());
}

void ApiLimits::Set(std::optional<int64_t> max, std::optional<int64_t> used) {
  if (max) daily_max_ = *max;
  if (used) used_ = *used;
}

std::map<std::string, int64_t> ApiLimits::CallsByKind() const {
  std::lock_guard lock(mu_);
  return by_kind_;
}

void ApiLimits::ResetCounts() {
  std::lock_guard lock(mu_);
  by_kind_.clear();
}

bool ApiLimits::BeginLongRunning() {
  int cur = long_running_.load();
  do {
    if (cur >= long_running_max_) return false;
  } while (!long_running_.compare_exchange_weak(cur, cur + 1));
  return true;
}

void ApiLimits::EndLongRunning() { long_running_.fetch_sub(1); }

}  // namespace sfbridge::sfsim
