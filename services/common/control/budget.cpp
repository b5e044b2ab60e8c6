#include "common/control/budget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::control {
namespace {

using core::StrCat;

// Refill, decision and take in one statement. The CTE `cur` locks the bucket row (FOR UPDATE
// waits for a concurrent take and then sees its result), so concurrent takes serialise on the
// row and each computes from its predecessor's outcome. The settings come from the org's row as
// it is at that moment. 1e-9 absorbs rounding, so that rates such as 1/3 add up to whole tokens.
//   $1 org_id, $2 now (ms since the epoch), $3 tokens, $4 priority lane.
constexpr std::string_view kTakeSql = R"sql(
WITH cur AS (
  SELECT b.org_id,
         least(o.burst::float8,
               b.tokens + greatest($2::bigint - b.updated_at_ms, 0)
                          * o.rate_per_second::float8 / 1000.0) AS refilled,
         o.rate_per_second::float8 AS rate,
         o.burst::float8 AS burst,
         CASE WHEN $4::boolean THEN 0 ELSE o.priority_reserve::float8 END AS kept,
         CASE WHEN $4::boolean THEN b.api_usage_max::float8
              ELSE o.daily_quota_share::float8 * b.api_usage_max END AS usage_cap,
         b.api_usage_used AS used,
         b.api_usage_max AS max
  FROM sfbridge.rate_buckets b JOIN sfbridge.orgs o ON o.org_id = b.org_id
  WHERE b.org_id = $1
  FOR UPDATE OF b
), decided AS (
  SELECT cur.*,
         coalesce(used >= usage_cap, false) AS over_quota,
         NOT coalesce(used >= usage_cap, false) AND refilled - kept >= $3::int - 1e-9 AS granted
  FROM cur
), taken AS (
  UPDATE sfbridge.rate_buckets b
  SET tokens = d.refilled - CASE WHEN d.granted THEN $3::int ELSE 0 END,
      updated_at_ms = greatest(b.updated_at_ms, $2::bigint),
      calls_total = b.calls_total + CASE WHEN d.granted THEN $3::int ELSE 0 END,
      api_usage_used = b.api_usage_used + CASE WHEN d.granted THEN $3::int ELSE 0 END
  FROM decided d
  WHERE b.org_id = d.org_id
)
SELECT granted, over_quota, refilled, kept, rate, burst, used, max
FROM decided
)sql";

// A new bucket starts full. Nothing happens when it exists already (a concurrent first use).
constexpr std::string_view kCreateSql = R"sql(
INSERT INTO sfbridge.rate_buckets (org_id, tokens, updated_at_ms)
SELECT org_id, burst, $2::bigint FROM sfbridge.orgs WHERE org_id = $1
ON CONFLICT (org_id) DO NOTHING
)sql";

constexpr std::string_view kOrgExistsSql = "SELECT 1 FROM sfbridge.orgs WHERE org_id = $1";

constexpr std::string_view kObserveSql = R"sql(
INSERT INTO sfbridge.rate_buckets (org_id, tokens, updated_at_ms, api_usage_used, api_usage_max,
                                   api_usage_at_ms)
SELECT org_id, burst, $4::bigint, $2::bigint, $3::bigint, $4::bigint
FROM sfbridge.orgs WHERE org_id = $1
ON CONFLICT (org_id) DO UPDATE
SET api_usage_used = EXCLUDED.api_usage_used,
    api_usage_max = EXCLUDED.api_usage_max,
    api_usage_at_ms = EXCLUDED.api_usage_at_ms
)sql";

constexpr std::string_view kStateSql = R"sql(
SELECT coalesce(least(o.burst::float8,
                      b.tokens + greatest($2::bigint - b.updated_at_ms, 0)
                                 * o.rate_per_second::float8 / 1000.0),
                o.burst::float8),
       coalesce(b.calls_total, 0), coalesce(b.api_usage_used, -1), coalesce(b.api_usage_max, -1)
FROM sfbridge.orgs o LEFT JOIN sfbridge.rate_buckets b ON b.org_id = o.org_id
WHERE o.org_id = $1
)sql";

absl::Status UnknownOrg(std::string_view org_id) {
  return absl::NotFoundError(StrCat("rate budget: unknown org '", org_id, "'"));
}

std::string Tokens(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

absl::StatusOr<Grant> RateBudget::TryTake(std::string_view org_id, Lane lane, int tokens) {
  if (tokens < 1) {
    return absl::InvalidArgumentError(StrCat("rate budget: cannot take ", tokens, " tokens"));
  }
  const int64_t now_ms = core::ToUnixMillis(clock_.Now());
  const postgres::Params params = {std::string(org_id), std::to_string(now_ms),
                                   std::to_string(tokens),
                                   lane == Lane::kPriority ? "true" : "false"};
  auto r = conn_.ExecPrepared(std::string(kTakeSql), params);
  if (r.ok() && r->rows.empty()) {
    if (absl::Status s = CreateBucket(org_id, now_ms); !s.ok()) return s;
    r = conn_.ExecPrepared(std::string(kTakeSql), params);
  }
  if (!r.ok()) return core::Annotate(r.status(), StrCat("rate budget of org ", org_id));
  if (r->rows.empty()) return UnknownOrg(org_id);  // the org was deleted in between

  const auto& row = r->rows[0];
  const bool granted = row[0] == "t";
  const bool over_quota = row[1] == "t";
  const double refilled = std::stod(*row[2]);
  const double kept = std::stod(*row[3]);
  const double rate = std::stod(*row[4]);
  const double burst = std::stod(*row[5]);

  Grant g;
  g.granted = granted;
  g.tokens_left = granted ? refilled - tokens : refilled;
  if (granted) return g;
  g.wait = kQuotaWait;
  if (over_quota) {
    g.reason = StrCat(
        lane == Lane::kPriority ? "daily API quota reached: " : "daily quota share reached: ",
        *row[6], "/", *row[7]);
  } else if (tokens + kept > burst + 1e-9) {
    g.reason = StrCat("request of ", tokens, " token(s) exceeds burst ", Tokens(burst),
                      " minus what the lane must leave ", Tokens(kept));
  } else if (rate <= 0) {
    g.reason = "rate_per_second is 0";
  } else {
    const double missing = tokens + kept - refilled;
    g.wait = std::chrono::milliseconds(
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil(missing / rate * 1000.0 - 1e-6))));
    g.reason = StrCat("waiting for tokens: ", Tokens(refilled), " in the bucket, ",
                      Tokens(tokens + kept), " needed");
  }
  return g;
}

absl::Status RateBudget::CreateBucket(std::string_view org_id, int64_t now_ms) {
  auto created = conn_.Exec(kCreateSql, {std::string(org_id), std::to_string(now_ms)});
  if (!created.ok()) return core::Annotate(created.status(), StrCat("rate budget of ", org_id));
  if (created->affected_rows == 1) return absl::OkStatus();
  auto exists = conn_.Exec(kOrgExistsSql, {std::string(org_id)});
  if (!exists.ok()) return core::Annotate(exists.status(), StrCat("rate budget of ", org_id));
  return exists->rows.empty() ? UnknownOrg(org_id) : absl::OkStatus();
}

absl::Status RateBudget::Take(std::string_view org_id, Lane lane, core::Clock::MonoTime deadline,
                              std::stop_token stop, int tokens) {
  while (true) {
    if (stop.stop_requested()) return absl::CancelledError("rate budget: stopped");
    auto g = TryTake(org_id, lane, tokens);
    if (!g.ok()) return g.status();
    if (g->granted) return absl::OkStatus();
    core::Clock::MonoTime now = clock_.Monotonic();
    if (deadline - now < g->wait) {
      return absl::ResourceExhaustedError(StrCat("rate budget of org ", org_id, ": ", g->reason,
                                                 " (next try in ", g->wait.count(),
                                                 " ms, past the deadline)"));
    }
    // Sleep the whole wait, in slices so that a stop request is noticed.
    for (auto left = std::chrono::nanoseconds(g->wait); left.count() > 0;) {
      if (stop.stop_requested()) return absl::CancelledError("rate budget: stopped");
      auto slice = std::min<std::chrono::nanoseconds>(left, kStopPollInterval);
      clock_.SleepFor(slice);
      left -= slice;
    }
  }
}

absl::Status RateBudget::ObserveLimitInfo(std::string_view org_id, int64_t used, int64_t max) {
  if (max < 1 || used < 0) {
    return absl::InvalidArgumentError(
        StrCat("rate budget: implausible api usage ", used, "/", max, " for org ", org_id));
  }
  auto r = conn_.Exec(kObserveSql, {std::string(org_id), std::to_string(used), std::to_string(max),
                                    std::to_string(core::ToUnixMillis(clock_.Now()))});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("rate budget of org ", org_id));
  return r->affected_rows == 1 ? absl::OkStatus() : UnknownOrg(org_id);
}

absl::StatusOr<BudgetState> RateBudget::State(std::string_view org_id) {
  auto r = conn_.Exec(kStateSql,
                      {std::string(org_id), std::to_string(core::ToUnixMillis(clock_.Now()))});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("rate budget of org ", org_id));
  if (r->rows.empty()) return UnknownOrg(org_id);
  const auto& row = r->rows[0];
  return BudgetState{std::stod(*row[0]), std::stoll(*row[1]), std::stoll(*row[2]),
                     std::stoll(*row[3])};
}

}  // namespace sfbridge::control
