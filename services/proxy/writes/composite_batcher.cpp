#include "proxy/writes/composite_batcher.h"

#include <utility>

#include "common/core/strings.h"

namespace sfbridge::proxy::writes {

using salesforce::CompositeSubrequest;
using salesforce::CompositeSubresponse;

std::string CompositeBatcher::NextReferencePrefix() {
  return core::StrCat("s", next_prefix_.fetch_add(1), "_");
}

size_t CompositeBatcher::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void CompositeBatcher::SendBatch(const std::vector<Pending*>& batch,
                                 salesforce::Reservation& reservation) {
  std::vector<CompositeSubrequest> all;
  for (const Pending* p : batch)
    all.insert(all.end(), p->subrequests.begin(), p->subrequests.end());
  const auto start = clock_.Monotonic();
  const std::chrono::nanoseconds waited_before = reservation.waited;
  absl::StatusOr<std::vector<CompositeSubresponse>> replies =
      client_.Composite(all, /*all_or_none=*/false, salesforce::Priority::kHigh, &reservation);
  const std::chrono::nanoseconds took =
      clock_.Monotonic() - start - (reservation.waited - waited_before);
  requests_sent_.fetch_add(1);
  size_t offset = 0;
  for (Pending* p : batch) {
    p->salesforce_time = took;
    if (!replies.ok()) {
      p->result = replies.status();
      continue;
    }
    p->result = std::vector<CompositeSubresponse>(
        replies->begin() + static_cast<std::ptrdiff_t>(offset),
        replies->begin() + static_cast<std::ptrdiff_t>(offset + p->subrequests.size()));
    offset += p->subrequests.size();
  }
}

absl::StatusOr<std::vector<CompositeSubresponse>> CompositeBatcher::Send(
    std::vector<CompositeSubrequest> subrequests, int queries,
    std::chrono::nanoseconds* salesforce_time) {
  Pending self;
  self.subrequests = std::move(subrequests);
  self.queries = queries;
  if (window_.count() == 0) {
    salesforce::Reservation reservation;
    SendBatch({&self}, reservation);
    *salesforce_time += self.salesforce_time;
    return std::move(self.result);
  }

  std::unique_lock lock(mu_);
  self.arrived = clock_.Monotonic();
  // Idle: the last write came longer than a window ago, so none is likely to join this one.
  const bool idle = last_arrival_.has_value() && self.arrived - *last_arrival_ > window_;
  last_arrival_ = self.arrived;
  queue_.push_back(&self);
  if (!leading_) {
    leading_ = true;
    self.lead = true;
  }
  cv_.wait(lock, [&] { return self.done || self.lead; });
  if (!self.done) {
    // Leading: this caller is the head of the queue. Wait out the window from its arrival,
    // unless it came alone after a quiet spell.
    const auto deadline = idle ? self.arrived : self.arrived + window_;
    lock.unlock();
    const auto now = clock_.Monotonic();
    if (now < deadline) clock_.SleepFor(deadline - now);
    // The token first: whoever queues while it is awaited goes in this request.
    salesforce::Reservation reservation;
    const absl::Status token =
        client_.Reserve(salesforce::CallKind::kComposite, salesforce::Priority::kHigh, reservation);
    lock.lock();
    std::vector<Pending*> batch;
    size_t subs = 0;
    int query_count = 0;
    while (!queue_.empty()) {
      Pending* next = queue_.front();
      if (!batch.empty() &&
          (subs + next->subrequests.size() > salesforce::kMaxCompositeSubrequests ||
           query_count + next->queries > 5)) {
        break;
      }
      batch.push_back(next);
      subs += next->subrequests.size();
      query_count += next->queries;
      queue_.pop_front();
    }
    lock.unlock();
    if (token.ok()) {
      SendBatch(batch, reservation);
    } else {
      for (Pending* p : batch) p->result = token;
    }
    lock.lock();
    for (Pending* p : batch) p->done = true;
    leading_ = !queue_.empty();
    if (leading_) queue_.front()->lead = true;
    cv_.notify_all();
  }
  *salesforce_time += self.salesforce_time;
  return std::move(self.result);
}

}  // namespace sfbridge::proxy::writes
