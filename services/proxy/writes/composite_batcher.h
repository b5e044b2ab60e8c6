#pragma once

// Composite requests shared by the writes of many sessions (README "Writing through the proxy",
// coalescing). Each caller hands in the subrequests of one statement (a write and its read-back,
// their reference ids unique: NextReferencePrefix) and gets back its own subresponses.
//
// With a window of 0 every caller sends its own Composite request at once, from its own thread.
// With a window w > 0 the callers form a queue served by one request at a time: the caller at the
// head of the queue leads, waits until w has passed since it arrived (not when it arrived more
// than w after the write before it: after a quiet spell nobody is likely to join, so a lone
// write does not pay the window), then waits for the request's budget token (reserved ahead
// through the client: Client::Reserve), then sends as many queued callers'
// subrequests as fit one request (at most 25 subrequests, at most 5 of them queries) in one
// Composite request, top-level allOrNone false, so that one statement's failure does not touch
// the others. Callers that arrive while the leader waits for the token join its request;
// those that arrive while it is in flight queue up and go in the next request, which the head
// of the queue then leads at once (they have waited long enough). One request costs one budget
// token. When no token comes, every caller the request would have carried gets the refusal.
//
// A failure of the request as a whole (budget, unreachable, a 5xx, no answer) is every caller's
// failure in it.
//
// Thread-safe. The client and clock must outlive it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/salesforce/client.h"
#include "common/salesforce/collections.h"
#include "common/salesforce/request_gate.h"

namespace sfbridge::proxy::writes {

class CompositeBatcher {
 public:
  CompositeBatcher(salesforce::Client& client, core::Clock& clock, std::chrono::microseconds window)
      : client_(client), clock_(clock), window_(window) {}

  // Sends `subrequests` (at most 25, `queries` of them queries) and blocks until their answer:
  // one subresponse per subrequest, in order, or the request's failure. Adds the request's
  // time, budget waits excluded, to `*salesforce_time`.
  absl::StatusOr<std::vector<salesforce::CompositeSubresponse>> Send(
      std::vector<salesforce::CompositeSubrequest> subrequests, int queries,
      std::chrono::nanoseconds* salesforce_time);

  // A prefix for reference ids ("s42_") that no other caller of this batcher gets.
  std::string NextReferencePrefix();

  // Callers not yet taken into a request, a leader waiting out the window included (for tests).
  size_t queued() const;
  // Composite requests sent so far.
  int64_t requests_sent() const { return requests_sent_.load(); }

 private:
  struct Pending {
    std::vector<salesforce::CompositeSubrequest> subrequests;
    int queries = 0;
    core::Clock::MonoTime arrived{};
    bool lead = false;
    bool done = false;
    absl::StatusOr<std::vector<salesforce::CompositeSubresponse>> result;
    std::chrono::nanoseconds salesforce_time{0};
  };

  // Sends the subrequests of `batch` in one request on `reservation` (its token, when one is
  // held ahead) and fills in their results.
  void SendBatch(const std::vector<Pending*>& batch, salesforce::Reservation& reservation);

  salesforce::Client& client_;
  core::Clock& clock_;
  const std::chrono::microseconds window_;
  std::atomic<uint64_t> next_prefix_{0};
  std::atomic<int64_t> requests_sent_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;  // guarded by mu_; the head leads when leading_
  bool leading_ = false;        // guarded by mu_
  std::optional<core::Clock::MonoTime> last_arrival_;  // guarded by mu_
};

}  // namespace sfbridge::proxy::writes
