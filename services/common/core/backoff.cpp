#include "common/core/backoff.h"

#include <algorithm>

namespace sfbridge::core {

std::chrono::milliseconds Backoff::Failed() {
  ++failures_;
  std::chrono::milliseconds wait = initial_;
  for (int i = 1; i < failures_ && wait < max_; ++i) wait *= 2;
  return std::min(wait, max_);
}

}  // namespace sfbridge::core
