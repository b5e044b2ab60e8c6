#include "common/control/events.h"

#include <cstdio>

#include "common/core/json_writer.h"
#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::control {
namespace {

constexpr std::string_view kInsertSql = R"sql(
INSERT INTO sfbridge.events (org_id, object_name, kind, detail)
VALUES ($1, $2, $3, coalesce($4::jsonb, '{}'::jsonb))
)sql";

constexpr std::string_view kInsertReturningSql = R"sql(
INSERT INTO sfbridge.events (org_id, object_name, kind, detail)
VALUES ($1, $2, $3, coalesce($4::jsonb, '{}'::jsonb))
RETURNING id, detail::text, (extract(epoch FROM created_at) * 1000)::bigint
)sql";

// The lock is taken by a statement of its own: the check after it must see, in a snapshot taken
// once the lock is held, what a previous holder committed.
constexpr std::string_view kOnceLockSql =
    "SELECT pg_advisory_xact_lock(hashtextextended('sfbridge.events ' || $1 || ' ' || $2, 0))";
constexpr std::string_view kExistsSql = R"sql(
SELECT EXISTS (SELECT 1 FROM sfbridge.events
               WHERE org_id = $1 AND kind = $3 AND object_name IS NOT DISTINCT FROM $2)
)sql";

absl::Status DetailError(absl::Status s, std::string_view kind, std::string_view org_id) {
  if (core::ToString(s.message()).find("SQLSTATE 23514") != std::string::npos ||
      core::ToString(s.message()).find("SQLSTATE 22P02") != std::string::npos) {
    s = absl::InvalidArgumentError("detail is not a JSON object");
  }
  return core::Annotate(s, core::StrCat("event ", kind, " of org ", org_id));
}

absl::StatusOr<Event> Insert(postgres::Transaction& tx, std::string_view org_id,
                             std::optional<std::string_view> object, std::string_view kind,
                             std::string_view detail_json);

postgres::Params InsertParams(std::string_view org_id, std::optional<std::string_view> object,
                              std::string_view kind, std::string_view detail_json) {
  return {std::string(org_id), object ? postgres::Value(std::string(*object)) : std::nullopt,
          std::string(kind),
          detail_json.empty() ? std::nullopt : postgres::Value(std::string(detail_json))};
}

}  // namespace

absl::Status RecordEvent(postgres::Connection& conn, std::string_view org_id,
                         std::optional<std::string_view> object, std::string_view kind,
                         std::string_view detail_json) {
  return conn.InTransaction([&](postgres::Transaction& tx) {
    return RecordEvent(tx, org_id, object, kind, detail_json);
  });
}

absl::Status RecordEvent(postgres::Transaction& tx, std::string_view org_id,
                         std::optional<std::string_view> object, std::string_view kind,
                         std::string_view detail_json) {
  auto r = tx.Exec(kInsertSql, InsertParams(org_id, object, kind, detail_json));
  if (!r.ok()) {
    absl::Status s = r.status();
    if (core::ToString(s.message()).find("SQLSTATE 23514") != std::string::npos) {
      s = absl::InvalidArgumentError("detail is not a JSON object");
    }
    return core::Annotate(s, core::StrCat("event ", kind, " of org ", org_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<Event> InsertEvent(postgres::Connection& conn, std::string_view org_id,
                                  std::optional<std::string_view> object, std::string_view kind,
                                  std::string_view detail_json) {
  absl::StatusOr<Event> event;
  absl::Status s = conn.InTransaction([&](postgres::Transaction& tx) -> absl::Status {
    event = Insert(tx, org_id, object, kind, detail_json);
    return event.status();
  });
  if (!s.ok()) return s;
  return event;
}

absl::StatusOr<std::optional<Event>> RecordEventOnce(postgres::Connection& conn,
                                                     std::string_view org_id,
                                                     std::optional<std::string_view> object,
                                                     std::string_view kind,
                                                     std::string_view detail_json) {
  std::optional<Event> recorded;
  absl::Status s = conn.InTransaction([&](postgres::Transaction& tx) -> absl::Status {
    auto locked = tx.Exec(kOnceLockSql, {std::string(org_id), std::string(kind)});
    if (!locked.ok()) return locked.status();
    auto exists =
        tx.Exec(kExistsSql,
                {std::string(org_id), object ? postgres::Value(std::string(*object)) : std::nullopt,
                 std::string(kind)});
    if (!exists.ok()) return exists.status();
    if (exists->rows[0][0] == "t") return absl::OkStatus();
    absl::StatusOr<Event> event = Insert(tx, org_id, object, kind, detail_json);
    if (!event.ok()) return event.status();
    recorded = *std::move(event);
    return absl::OkStatus();
  });
  if (!s.ok()) return core::Annotate(s, core::StrCat("event ", kind, " of org ", org_id));
  return recorded;
}

std::string EventJson(const Event& e) {
  core::JsonWriter w;
  w.BeginObject().Key("id").Int(e.id).Member("org_id", e.org_id).Key("object_name");
  if (e.object_name) {
    w.String(*e.object_name);
  } else {
    w.Null();
  }
  w.Member("kind", e.kind)
      .Key("created_at_ms")
      .Int(e.created_at_ms)
      .Key("detail")
      .Raw(e.detail_json.empty() ? "{}" : e.detail_json)
      .EndObject();
  return w.Take();
}

absl::StatusOr<std::vector<Event>> LoadEvents(postgres::Connection& conn, std::string_view org_id,
                                              int64_t after_id, int limit) {
  auto r = conn.Exec(
      "SELECT id, org_id, object_name, kind, detail::text, "
      "(extract(epoch FROM created_at) * 1000)::bigint "
      "FROM sfbridge.events WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3",
      {std::string(org_id), std::to_string(after_id), std::to_string(limit)});
  if (!r.ok()) return core::Annotate(r.status(), core::StrCat("events of org ", org_id));
  std::vector<Event> out;
  for (auto& row : r->rows) {
    out.push_back(Event{std::stoll(*row[0]), std::move(*row[1]), std::move(row[2]),
                        std::move(*row[3]), std::move(*row[4]), std::stoll(*row[5])});
  }
  return out;
}

namespace {

absl::StatusOr<Event> Insert(postgres::Transaction& tx, std::string_view org_id,
                             std::optional<std::string_view> object, std::string_view kind,
                             std::string_view detail_json) {
  auto r = tx.Exec(kInsertReturningSql, InsertParams(org_id, object, kind, detail_json));
  if (!r.ok()) return DetailError(r.status(), kind, org_id);
  Event e;
  e.id = std::stoll(*r->rows[0][0]);
  e.org_id = std::string(org_id);
  if (object) e.object_name = std::string(*object);
  e.kind = std::string(kind);
  e.detail_json = std::move(*r->rows[0][1]);
  e.created_at_ms = std::stoll(*r->rows[0][2]);
  return e;
}

}  // namespace
}  // namespace sfbridge::control
