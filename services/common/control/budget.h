#pragma once

// The org-wide shared rate budget (DESIGN.md invariant 5): every Salesforce call of every
// fetcher replica and proxy of an org takes a token from one bucket, the org's row in
// sfbridge.rate_buckets.
//
// The rules, all read from the org's row in sfbridge.orgs by the same statement that takes the
// tokens (so a settings change applies to the very next call, without a restart):
//   - The bucket refills at rate_per_second tokens per second of elapsed time, up to burst. It is
//     created full (burst tokens) on first use.
//   - Lane::kNormal (backfill, polling) takes only what lies above priority_reserve: it must leave
//     that many tokens in the bucket. Lane::kPriority (proxy writes, a client is waiting) may take
//     the reserve too.
//   - The org's real usage (api-usage=used/max from Sforce-Limit-Info, ObserveLimitInfo) caps the
//     lanes: the normal lane is refused once used >= daily_quota_share * max; the priority lane
//     may go on up to the org's full allocation (used >= max refuses it too), because a refused
//     proxy write is an error a person sees, while background work can wait. Salesforce counts
//     over a rolling 24 h, so a refusal asks to wait kQuotaWait and then look again. Each granted
//     token also adds to the stored `used` until the next observation replaces it, so replicas
//     stop short even between replies.
// Over any interval of T seconds in which the bucket never filled up, the tokens granted are at
// most (tokens at the start) + T * rate_per_second, whatever the number of replicas: the take is
// one atomic statement on the bucket's row.
//
// Time is the injected clock's wall time in milliseconds, passed into the statement: all
// replicas of an org must have roughly synchronised clocks (a clock behind the stored time adds
// nothing and takes nothing away). Tests drive a real Postgres with a simulated clock.

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "common/postgres/connection.h"

namespace sfbridge::control {

enum class Lane {
  kNormal,    // background work: backfill, polling, describe
  kPriority,  // a client is waiting: proxy writes
};

// How long a refusal that the bucket cannot cure soon asks to wait (quota share reached, rate 0,
// or a request larger than the bucket can ever hold).
inline constexpr std::chrono::milliseconds kQuotaWait{60'000};

struct Grant {
  bool granted = false;
  // When not granted: how long until the request could be granted if nobody else takes tokens
  // (at least 1 ms). Zero when granted.
  std::chrono::milliseconds wait{0};
  double tokens_left = 0;  // in the bucket after this call
  std::string reason;      // why not granted, for logs; empty when granted
};

struct BudgetState {
  double tokens = 0;  // refilled up to now, nothing taken
  int64_t calls_total = 0;
  int64_t api_usage_used = -1;  // -1 until Sforce-Limit-Info was observed
  int64_t api_usage_max = -1;
};

// Not thread-safe (it uses one connection): give each thread its own RateBudget over its own
// connection. Any number of them, in any number of processes, share an org's budget.
// `conn` and `clock` must outlive the RateBudget.
class RateBudget {
 public:
  RateBudget(postgres::Connection& conn, core::Clock& clock) : conn_(conn), clock_(clock) {}

  // Takes `tokens` (>= 1) from the org's bucket if the lane's rules allow it now; never blocks
  // beyond the one statement. Errors: kNotFound for an org without a settings row,
  // kInvalidArgument for tokens < 1, database errors (retryable ones say so).
  absl::StatusOr<Grant> TryTake(std::string_view org_id, Lane lane, int tokens = 1);

  // Tries, sleeping Grant::wait on the clock between tries, until granted (OK). Gives up with
  // kResourceExhausted (and the reason) as soon as the next possible grant lies beyond
  // `deadline` (the clock's Monotonic time), with kCancelled when `stop` is requested (checked
  // at least every kStopPollInterval of sleep). Database errors come back as they are.
  absl::Status Take(std::string_view org_id, Lane lane,
                    core::Clock::MonoTime deadline = core::Clock::MonoTime::max(),
                    std::stop_token stop = {}, int tokens = 1);
  static constexpr std::chrono::milliseconds kStopPollInterval{250};

  // Records the org's usage from Sforce-Limit-Info (api-usage=used/max). Errors: kNotFound for
  // an unknown org, kInvalidArgument for max < 1 or used < 0.
  absl::Status ObserveLimitInfo(std::string_view org_id, int64_t used, int64_t max);

  // The bucket as it is now, for status displays; nothing is taken or written. kNotFound for an
  // unknown org; an org whose bucket was never used shows a full bucket.
  absl::StatusOr<BudgetState> State(std::string_view org_id);

 private:
  absl::Status CreateBucket(std::string_view org_id, int64_t now_ms);

  postgres::Connection& conn_;
  core::Clock& clock_;
};

}  // namespace sfbridge::control
