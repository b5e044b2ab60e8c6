#include "common/control/events.h"

#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::control {
namespace {

constexpr std::string_view kInsertSql = R"sql(
INSERT INTO sfbridge.events (org_id, object_name, kind, detail)
VALUES ($1, $2, $3, coalesce($4::jsonb, '{}'::jsonb))
)sql";

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

}  // namespace sfbridge::control
