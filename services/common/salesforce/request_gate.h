#pragma once

// The hook through which every Salesforce API call asks for permission first (DESIGN.md
// invariant 5: every call spends from the org's shared budget). The org-wide rate budget
// implements it; the Client calls it, and never depends on how it decides.

#include <chrono>
#include <string_view>

#include "absl/status/status.h"
#include "common/salesforce/limit_info.h"

namespace sfbridge::salesforce {

// What an API call does; one value per kind of request the Client sends.
enum class CallKind {
  kAuth,
  kDescribe,
  kQuery,
  kQueryMore,
  kCollections,
  kComposite,
  kLimits,
  kGetDeleted,
  kGetUpdated,
  kSObject,
  kBulkQuery,  // Bulk API 2.0 query jobs: create, info, abort, delete, results
};

enum class Priority {
  kNormal,  // background work: backfill, polling
  kHigh,    // a client is waiting: proxy writes
};

// "auth", "describe", "query", "query_more", ... (for logs and metric labels).
std::string_view CallKindName(CallKind kind);

// A caller's dealings with the gate for one call of the Client (or a few in a row), given to
// the call (Client::Composite) so that what the gate did for it is the caller's to see:
//   - `token_ahead`: a permission taken ahead of time (Client::Reserve). The call's first
//     request that costs an API call goes without asking the gate and clears it; every later
//     request (retries, re-authentication) asks the gate as usual. A token never used stays
//     spent: the budget may be under-spent, never over-spent;
//   - `waited`: the time the call's requests (and Reserve) spent in Acquire, added to, never
//     reset, so that the caller can tell waits for the budget from Salesforce's own time.
//     Token requests to the OAuth endpoint are not counted.
// Owned by the caller; used by one call at a time (not thread-safe).
struct Reservation {
  bool token_ahead = false;
  std::chrono::nanoseconds waited{0};
};

// Implementations must be thread-safe: one Client may be used from several threads, and several
// Clients may share one gate.
class RequestGate {
 public:
  virtual ~RequestGate() = default;

  // Called before every HTTP request that costs an API call, retries and re-authentication
  // included. Blocks as long as it likes; OK lets the request go. An error is returned to the
  // caller of the Client as is (kResourceExhausted when the budget is spent, kCancelled on
  // shutdown) and no request is sent.
  virtual absl::Status Acquire(CallKind kind, Priority priority) = 0;

  // Called with the org's usage from every reply that carried Sforce-Limit-Info.
  virtual void Observe(const LimitInfo& info) = 0;
};

}  // namespace sfbridge::salesforce
