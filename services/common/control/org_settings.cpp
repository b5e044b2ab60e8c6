#include "common/control/org_settings.h"

#include <cstdio>

#include "common/control/sql_arrays.h"
#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::control {
namespace {

using core::StrCat;

constexpr std::string_view kOrgColumns =
    "org_id, coalesce(display_name, ''), coalesce(api_version, ''), objects, "
    "rate_per_second::float8, burst, daily_quota_share::float8, priority_reserve::float8, state, "
    "last_error, webhook_url";

constexpr std::string_view kUpsertOrgSql = R"sql(
INSERT INTO sfbridge.orgs AS o (org_id, display_name, api_version, objects, rate_per_second,
                               burst, daily_quota_share, priority_reserve, webhook_url)
VALUES ($1, nullif($2, ''), nullif($3, ''), $4::text[], $5::numeric, $6::int, $7::numeric,
        $8::numeric, $9)
ON CONFLICT (org_id) DO UPDATE
SET display_name = EXCLUDED.display_name, api_version = EXCLUDED.api_version,
    objects = EXCLUDED.objects, rate_per_second = EXCLUDED.rate_per_second,
    burst = EXCLUDED.burst, daily_quota_share = EXCLUDED.daily_quota_share,
    priority_reserve = EXCLUDED.priority_reserve, webhook_url = EXCLUDED.webhook_url,
    updated_at = now()
)sql";

constexpr std::string_view kObjectColumns = R"sql(
object_name, state, error, records_done, records_estimate,
(extract(epoch FROM backfill_started_at) * 1000)::bigint,
(extract(epoch FROM backfill_completed_at) * 1000)::bigint,
(extract(epoch FROM last_poll_at) * 1000)::bigint,
cursor_modstamp_ms, cursor_id, backfill_cursor_modstamp_ms, backfill_cursor_id,
schema_fingerprint
)sql";

constexpr std::string_view kSetObjectStateSql = R"sql(
INSERT INTO sfbridge.objects AS o (org_id, object_name, state, error, backfill_started_at)
VALUES ($1, $2, $3, $4, CASE WHEN $3 = 'backfilling' THEN now() END)
ON CONFLICT (org_id, object_name) DO UPDATE
SET state = EXCLUDED.state,
    error = EXCLUDED.error,
    backfill_started_at = CASE WHEN EXCLUDED.state = 'backfilling' AND o.state <> 'backfilling'
                               THEN now() ELSE o.backfill_started_at END,
    backfill_completed_at = CASE
        WHEN EXCLUDED.state = 'backfilling' AND o.state <> 'backfilling' THEN NULL
        WHEN EXCLUDED.state = 'live' AND o.state = 'backfilling' THEN now()
        ELSE o.backfill_completed_at END,
    updated_at = now()
)sql";

constexpr std::string_view kProgressSql = R"sql(
UPDATE sfbridge.objects
SET records_done = $3::bigint, records_estimate = $4::bigint,
    backfill_cursor_modstamp_ms = $5::bigint, backfill_cursor_id = $6, updated_at = now()
WHERE org_id = $1 AND object_name = $2
)sql";

// Returns whether the row exists (exists) and whether it moved (moved).
constexpr std::string_view kAdvanceSql = R"sql(
WITH moved AS (
  UPDATE sfbridge.objects
  SET cursor_modstamp_ms = $3::bigint, cursor_id = $4, last_poll_at = now(), updated_at = now()
  WHERE org_id = $1 AND object_name = $2
    AND (cursor_modstamp_ms IS NULL
         OR (cursor_modstamp_ms, cursor_id COLLATE "C") < ($3::bigint, $4::text COLLATE "C"))
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM moved),
       EXISTS (SELECT 1 FROM sfbridge.objects WHERE org_id = $1 AND object_name = $2)
)sql";

std::string Number(double v) {
  char buf[40];
  snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::optional<int64_t> OptionalInt(const postgres::Value& v) {
  if (!v) return std::nullopt;
  return std::stoll(*v);
}

absl::Status NoObject(std::string_view org_id, std::string_view object) {
  return absl::NotFoundError(StrCat("no object ", object, " in org ", org_id));
}

// A foreign-key violation on a row of an org means the org does not exist.
absl::Status OrgFailure(const absl::Status& s, std::string_view org_id, std::string_view what) {
  if (core::ToString(s.message()).find("SQLSTATE 23503") != std::string::npos) {
    return absl::NotFoundError(StrCat(what, ": unknown org '", org_id, "'"));
  }
  return core::Annotate(s, what);
}

absl::StatusOr<OrgSettings> OrgFromRow(std::vector<postgres::Value>& row) {
  OrgSettings o;
  o.org_id = std::move(*row[0]);
  o.display_name = std::move(*row[1]);
  o.api_version = std::move(*row[2]);
  if (row[3]) {
    o.objects = ParseTextArray(*row[3]);
    if (!o.objects) {
      return absl::DataLossError(StrCat("org ", o.org_id, ": unreadable objects ", *row[3]));
    }
  }
  o.rate_per_second = std::stod(*row[4]);
  o.burst = std::stoi(*row[5]);
  o.daily_quota_share = std::stod(*row[6]);
  o.priority_reserve = std::stod(*row[7]);
  o.state = std::move(*row[8]);
  o.last_error = std::move(row[9]);
  o.webhook_url = std::move(row[10]);
  return o;
}

}  // namespace

absl::StatusOr<OrgSettings> LoadOrg(postgres::Connection& conn, std::string_view org_id) {
  auto r = conn.Exec(StrCat("SELECT ", kOrgColumns, " FROM sfbridge.orgs WHERE org_id = $1"),
                     {std::string(org_id)});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("load org ", org_id));
  if (r->rows.empty()) return absl::NotFoundError(StrCat("unknown org '", org_id, "'"));
  return OrgFromRow(r->rows[0]);
}

absl::StatusOr<std::vector<OrgSettings>> LoadOrgs(postgres::Connection& conn) {
  auto r = conn.Exec(StrCat("SELECT ", kOrgColumns, " FROM sfbridge.orgs ORDER BY org_id"));
  if (!r.ok()) return core::Annotate(r.status(), "load orgs");
  std::vector<OrgSettings> out;
  for (auto& row : r->rows) {
    auto o = OrgFromRow(row);
    if (!o.ok()) return o.status();
    out.push_back(*std::move(o));
  }
  return out;
}

absl::Status UpsertOrg(postgres::Connection& conn, const OrgSettings& s) {
  if (s.org_id.empty()) return absl::InvalidArgumentError("org settings: empty org_id");
  if (!(s.rate_per_second >= 0) || s.burst < 1 || !(s.daily_quota_share > 0) ||
      s.daily_quota_share > 1 || !(s.priority_reserve >= 0)) {
    return absl::InvalidArgumentError(
        StrCat("org ", s.org_id, ": settings out of range (rate_per_second ", s.rate_per_second,
               " must be >= 0, burst ", s.burst, " >= 1, daily_quota_share ", s.daily_quota_share,
               " in (0, 1], priority_reserve ", s.priority_reserve, " >= 0)"));
  }
  auto r =
      conn.Exec(kUpsertOrgSql, {s.org_id, s.display_name, s.api_version,
                                s.objects ? postgres::Value(ToTextArray(*s.objects)) : std::nullopt,
                                Number(s.rate_per_second), std::to_string(s.burst),
                                Number(s.daily_quota_share), Number(s.priority_reserve),
                                s.webhook_url ? postgres::Value(*s.webhook_url) : std::nullopt});
  return r.ok() ? absl::OkStatus() : core::Annotate(r.status(), StrCat("upsert org ", s.org_id));
}

absl::Status SetOrgState(postgres::Connection& conn, std::string_view org_id,
                         std::string_view state, std::optional<std::string_view> error) {
  auto r = conn.Exec(
      "UPDATE sfbridge.orgs SET state = $2, last_error = $3, updated_at = now() "
      "WHERE org_id = $1",
      {std::string(org_id), std::string(state),
       error ? postgres::Value(std::string(*error)) : std::nullopt});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("set state of org ", org_id));
  if (r->affected_rows == 0) return absl::NotFoundError(StrCat("unknown org '", org_id, "'"));
  return absl::OkStatus();
}

std::string_view ObjectStateName(ObjectState state) {
  switch (state) {
    case ObjectState::kPending:
      return "pending";
    case ObjectState::kBackfilling:
      return "backfilling";
    case ObjectState::kLive:
      return "live";
    case ObjectState::kError:
      return "error";
    case ObjectState::kDisabled:
      return "disabled";
  }
  return "pending";
}

std::optional<ObjectState> ParseObjectState(std::string_view name) {
  for (ObjectState s : {ObjectState::kPending, ObjectState::kBackfilling, ObjectState::kLive,
                        ObjectState::kError, ObjectState::kDisabled}) {
    if (ObjectStateName(s) == name) return s;
  }
  return std::nullopt;
}

absl::Status SetObjectState(postgres::Connection& conn, std::string_view org_id,
                            std::string_view object, ObjectState state,
                            std::optional<std::string_view> error) {
  auto r = conn.Exec(kSetObjectStateSql,
                     {std::string(org_id), std::string(object), std::string(ObjectStateName(state)),
                      error ? postgres::Value(std::string(*error)) : std::nullopt});
  if (!r.ok()) {
    return OrgFailure(r.status(), org_id, StrCat("set state of ", object, " in org ", org_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ObjectStatus>> LoadObjects(postgres::Connection& conn,
                                                      std::string_view org_id) {
  auto r = conn.Exec(StrCat("SELECT ", kObjectColumns,
                            " FROM sfbridge.objects WHERE org_id = $1 ORDER BY object_name"),
                     {std::string(org_id)});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("load objects of org ", org_id));
  std::vector<ObjectStatus> out;
  out.reserve(r->rows.size());
  for (auto& row : r->rows) {
    ObjectStatus o;
    o.object_name = std::move(*row[0]);
    auto state = ParseObjectState(*row[1]);
    if (!state) {
      return absl::DataLossError(StrCat("object ", o.object_name, ": unknown state ", *row[1]));
    }
    o.state = *state;
    o.error = std::move(row[2]);
    o.records_done = std::stoll(*row[3]);
    o.records_estimate = OptionalInt(row[4]);
    o.backfill_started_at_ms = OptionalInt(row[5]);
    o.backfill_completed_at_ms = OptionalInt(row[6]);
    o.last_poll_at_ms = OptionalInt(row[7]);
    if (row[8]) o.cursor = Cursor{std::stoll(*row[8]), std::move(*row[9])};
    if (row[10]) o.backfill_cursor = Cursor{std::stoll(*row[10]), std::move(*row[11])};
    o.schema_fingerprint = std::move(row[12]);
    out.push_back(std::move(o));
  }
  return out;
}

absl::Status SetBackfillProgress(postgres::Connection& conn, std::string_view org_id,
                                 std::string_view object, int64_t records_done,
                                 std::optional<int64_t> records_estimate,
                                 std::optional<Cursor> resume_after) {
  auto r = conn.Exec(
      kProgressSql,
      {std::string(org_id), std::string(object), std::to_string(records_done),
       records_estimate ? postgres::Value(std::to_string(*records_estimate)) : std::nullopt,
       resume_after ? postgres::Value(std::to_string(resume_after->modstamp_ms)) : std::nullopt,
       resume_after ? postgres::Value(resume_after->id) : std::nullopt});
  if (!r.ok()) {
    return core::Annotate(r.status(), StrCat("backfill progress of ", object, " in ", org_id));
  }
  return r->affected_rows == 0 ? NoObject(org_id, object) : absl::OkStatus();
}

absl::StatusOr<bool> AdvanceCursor(postgres::Connection& conn, std::string_view org_id,
                                   std::string_view object, const Cursor& to) {
  auto r = conn.Exec(kAdvanceSql, {std::string(org_id), std::string(object),
                                   std::to_string(to.modstamp_ms), to.id});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("cursor of ", object, " in ", org_id));
  if (r->rows[0][1] != "t") return NoObject(org_id, object);
  return r->rows[0][0] == "t";
}

absl::Status MarkPolled(postgres::Connection& conn, std::string_view org_id,
                        std::string_view object) {
  auto r = conn.Exec(
      "UPDATE sfbridge.objects SET last_poll_at = now(), updated_at = now() "
      "WHERE org_id = $1 AND object_name = $2",
      {std::string(org_id), std::string(object)});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("poll time of ", object, " in ", org_id));
  return r->affected_rows == 0 ? NoObject(org_id, object) : absl::OkStatus();
}

absl::Status SetSchemaFingerprint(postgres::Connection& conn, std::string_view org_id,
                                  std::string_view object, std::string_view fingerprint) {
  auto r = conn.Exec(
      "UPDATE sfbridge.objects SET schema_fingerprint = $3, updated_at = now() "
      "WHERE org_id = $1 AND object_name = $2",
      {std::string(org_id), std::string(object), std::string(fingerprint)});
  if (!r.ok()) {
    return core::Annotate(r.status(), StrCat("schema fingerprint of ", object, " in ", org_id));
  }
  return r->affected_rows == 0 ? NoObject(org_id, object) : absl::OkStatus();
}

}  // namespace sfbridge::control
