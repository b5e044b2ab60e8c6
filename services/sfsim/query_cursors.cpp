#include "sfsim/query_cursors.h"

#include <cstdio>

namespace sfbridge::sfsim {

QueryCursors::QueryCursors(core::Clock& clock, std::chrono::milliseconds idle_timeout,
                           size_t max_open)
    : clock_(clock), idle_timeout_(idle_timeout), max_open_(max_open) {}

std::string QueryCursors::Open(std::shared_ptr<const org::QueryResult> result, size_t batch_size) {
  std::lock_guard lock(mu_);
  ExpireLocked();
  char id[32];
  snprintf(id, sizeof id, "01gD%011llu", static_cast<unsigned long long>(next_++));
  while (entries_.size() >= max_open_ && !lru_.empty()) {
    entries_.erase(lru_.front());
    lru_.pop_front();
  }
  lru_.push_back(id);
  entries_[id] = Entry{std::move(result), batch_size, clock_.Monotonic(), std::prev(lru_.end())};
  return id;
}

std::shared_ptr<const org::QueryResult> QueryCursors::Find(const std::string& locator,
                                                           size_t* batch_size) {
  std::lock_guard lock(mu_);
  ExpireLocked();
  auto it = entries_.find(locator);
  if (it == entries_.end()) return nullptr;
  it->second.last_used = clock_.Monotonic();
  lru_.splice(lru_.end(), lru_, it->second.order);
  if (batch_size != nullptr) *batch_size = it->second.batch_size;
  return it->second.result;
}

void QueryCursors::Close(const std::string& locator) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(locator);
  if (it == entries_.end()) return;
  lru_.erase(it->second.order);
  entries_.erase(it);
}

size_t QueryCursors::open_count() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void QueryCursors::ExpireLocked() {
  auto now = clock_.Monotonic();
  while (!lru_.empty()) {
    auto it = entries_.find(lru_.front());
    if (now - it->second.last_used < idle_timeout_) break;
    entries_.erase(it);
    lru_.pop_front();
  }
}

}  // namespace sfbridge::sfsim
