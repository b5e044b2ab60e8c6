#include "common/control/leases.h"

#include <algorithm>

#include "common/control/sql_arrays.h"
#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::control {
namespace {

using core::StrCat;

// A holder only ever renews or deletes leases that are its own and unexpired, which no other
// holder touches; expired and free leases are only taken by kTakeSql, which locks them in name
// order, so concurrent takers cannot deadlock each other.
//   Parameters unless said otherwise: $1 org_id, $2 holder, $3 now (ms), $4 ttl (ms).

constexpr std::string_view kHeartbeatSql = R"sql(
INSERT INTO sfbridge.replicas (org_id, holder, heartbeat_at_ms, expires_at_ms)
VALUES ($1, $2, $3::bigint, $3::bigint + $4::bigint)
ON CONFLICT (org_id, holder) DO UPDATE
SET heartbeat_at_ms = EXCLUDED.heartbeat_at_ms, expires_at_ms = EXCLUDED.expires_at_ms
)sql";

constexpr std::string_view kRenewSql = R"sql(
UPDATE sfbridge.leases SET expires_at_ms = $3::bigint + $4::bigint
WHERE org_id = $1 AND holder = $2 AND expires_at_ms > $3::bigint
)sql";

// Replicas dead for 100 ttls are forgotten (holder names are per process, so they pile up).
//   $1 org_id, $2 now, $3 ttl.
constexpr std::string_view kLiveReplicasSql = R"sql(
WITH forgotten AS (
  DELETE FROM sfbridge.replicas
  WHERE org_id = $1 AND expires_at_ms < $2::bigint - 100 * $3::bigint
)
SELECT count(*) FROM sfbridge.replicas WHERE org_id = $1 AND expires_at_ms > $2::bigint
)sql";

// Gives up own leases beyond the fair share ($5; the first by name are kept) and of objects no
// longer replicated ($4), and clears anybody's expired leases of such objects.
//   $1 org_id, $2 holder, $3 now.
constexpr std::string_view kGiveUpSql = R"sql(
DELETE FROM sfbridge.leases l
WHERE l.org_id = $1
  AND ((l.holder = $2 AND l.expires_at_ms > $3::bigint) OR l.expires_at_ms <= $3::bigint)
  AND (NOT l.object_name = ANY($4::text[])
       OR (l.holder = $2 AND l.expires_at_ms > $3::bigint AND l.object_name IN (
             SELECT object_name FROM sfbridge.leases
             WHERE org_id = $1 AND holder = $2 AND expires_at_ms > $3::bigint
               AND object_name = ANY($4::text[])
             ORDER BY object_name OFFSET $5::int)))
)sql";

// Takes free or expired leases (an own expired lease counts as expired) up to the room left in
// the fair share ($6) of the objects replicated ($5). A lease taken by someone else since this
// statement's snapshot fails the ON CONFLICT condition and is left alone.
constexpr std::string_view kTakeSql = R"sql(
WITH mine AS (
  SELECT count(*) AS n FROM sfbridge.leases
  WHERE org_id = $1 AND holder = $2 AND expires_at_ms > $3::bigint
), candidates AS (
  SELECT o.name
  FROM unnest($5::text[]) AS o(name)
  LEFT JOIN sfbridge.leases l ON l.org_id = $1 AND l.object_name = o.name
  WHERE l.object_name IS NULL OR l.expires_at_ms <= $3::bigint
  ORDER BY o.name
  LIMIT greatest(0, $6::int - (SELECT n FROM mine))
)
INSERT INTO sfbridge.leases AS l (org_id, object_name, holder, expires_at_ms)
SELECT $1, name, $2, $3::bigint + $4::bigint FROM candidates ORDER BY name
ON CONFLICT (org_id, object_name) DO UPDATE
SET holder = EXCLUDED.holder, expires_at_ms = EXCLUDED.expires_at_ms
WHERE l.expires_at_ms <= $3::bigint
)sql";

//   $1 org_id, $2 holder, $3 now.
constexpr std::string_view kHeldSql = R"sql(
SELECT object_name FROM sfbridge.leases
WHERE org_id = $1 AND holder = $2 AND expires_at_ms > $3::bigint
ORDER BY object_name
)sql";

constexpr std::string_view kReleaseLeasesSql =
    "DELETE FROM sfbridge.leases WHERE org_id = $1 AND holder = $2";
constexpr std::string_view kReleaseReplicaSql =
    "DELETE FROM sfbridge.replicas WHERE org_id = $1 AND holder = $2";

}  // namespace

LeaseManager::LeaseManager(postgres::Connection& conn, core::Clock& clock, std::string org_id,
                           std::string holder, std::chrono::milliseconds ttl)
    : conn_(conn),
      clock_(clock),
      org_id_(std::move(org_id)),
      holder_(std::move(holder)),
      ttl_(ttl) {}

absl::Status LeaseManager::Heartbeat() {
  return Beat({org_id_, holder_, std::to_string(core::ToUnixMillis(clock_.Now())),
               std::to_string(ttl_.count())});
}

absl::Status LeaseManager::Beat(const postgres::Params& params) {
  auto beat = conn_.Exec(kHeartbeatSql, params);
  if (!beat.ok()) {
    if (std::string(beat.status().message()).find("SQLSTATE 23503") != std::string::npos) {
      return absl::NotFoundError(StrCat(Context(), ": unknown org"));
    }
    return core::Annotate(beat.status(), Context());
  }
  auto renew = conn_.Exec(kRenewSql, params);
  return renew.ok() ? absl::OkStatus() : core::Annotate(renew.status(), Context());
}

std::string LeaseManager::Context() const {
  return StrCat("leases of org ", org_id_, ", holder ", holder_);
}

absl::StatusOr<std::vector<std::string>> LeaseManager::Acquire(
    const std::vector<std::string>& objects) {
  // Decisions use one instant, so that a lease cannot expire between two of the statements.
  const std::string now = std::to_string(core::ToUnixMillis(clock_.Now()));
  const std::string ttl = std::to_string(ttl_.count());

  std::vector<std::string> wanted = objects;
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  const std::string wanted_array = ToTextArray(wanted);

  const postgres::Params base = {org_id_, holder_, now, ttl};
  if (absl::Status s = Beat(base); !s.ok()) return s;
  auto live = conn_.Exec(kLiveReplicasSql, {org_id_, now, ttl});
  if (!live.ok()) return core::Annotate(live.status(), Context());
  const int64_t replicas = std::max<int64_t>(1, std::stoll(*live->rows[0][0]));
  const int64_t fair = (static_cast<int64_t>(wanted.size()) + replicas - 1) / replicas;

  const std::string fair_text = std::to_string(fair);
  if (auto give_up = conn_.Exec(kGiveUpSql, {org_id_, holder_, now, wanted_array, fair_text});
      !give_up.ok()) {
    return core::Annotate(give_up.status(), Context());
  }
  if (auto take = conn_.Exec(kTakeSql, {org_id_, holder_, now, ttl, wanted_array, fair_text});
      !take.ok()) {
    return core::Annotate(take.status(), Context());
  }
  auto held = conn_.Exec(kHeldSql, {org_id_, holder_, now});
  if (!held.ok()) return core::Annotate(held.status(), Context());
  std::vector<std::string> out;
  out.reserve(held->rows.size());
  for (auto& row : held->rows) out.push_back(std::move(*row[0]));
  return out;
}

absl::Status LeaseManager::Release() {
  absl::Status s = conn_.InTransaction([&](postgres::Transaction& tx) -> absl::Status {
    if (auto r = tx.Exec(kReleaseLeasesSql, {org_id_, holder_}); !r.ok()) return r.status();
    return tx.Exec(kReleaseReplicaSql, {org_id_, holder_}).status();
  });
  return s.ok() ? s : core::Annotate(s, Context());
}

}  // namespace sfbridge::control
