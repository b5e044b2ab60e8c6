#include "common/control/bulk_jobs.h"

#include <utility>

#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::control {
namespace {

using core::StrCat;

constexpr std::string_view kColumns = R"sql(
object_name, job_id, job_state, records_processed, locator, records_done, max_modstamp_ms,
max_id, job_created_ms, fallback_reason, deleted,
(extract(epoch FROM updated_at) * 1000)::bigint)sql";

std::optional<int64_t> OptionalInt(const postgres::Value& v) {
  if (!v) return std::nullopt;
  return std::stoll(*v);
}

postgres::Value OptionalText(const std::optional<int64_t>& v) {
  if (!v) return std::nullopt;
  return std::to_string(*v);
}

BulkJobRow FromRow(std::vector<postgres::Value>& row) {
  BulkJobRow b;
  b.object_name = std::move(*row[0]);
  b.job_id = row[1].value_or("");
  b.job_state = row[2].value_or("");
  b.records_processed = std::stoll(*row[3]);
  b.locator = row[4].value_or("");
  b.records_done = std::stoll(*row[5]);
  if (row[6] && row[7]) b.max_key = Cursor{std::stoll(*row[6]), std::move(*row[7])};
  b.job_created_ms = OptionalInt(row[8]);
  b.fallback_reason = std::move(row[9]);
  b.deleted = row[10] && (*row[10] == "t" || *row[10] == "true");
  b.updated_at_ms = OptionalInt(row[11]);
  return b;
}

}  // namespace

absl::StatusOr<std::optional<BulkJobRow>> LoadBulkJob(postgres::Connection& conn,
                                                      std::string_view org_id,
                                                      std::string_view object) {
  auto r = conn.Exec(StrCat("SELECT ", kColumns,
                            " FROM sfbridge.bulk_jobs WHERE org_id = $1 AND object_name = $2"),
                     {std::string(org_id), std::string(object)});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("load Bulk job of ", object));
  if (r->rows.empty()) return std::optional<BulkJobRow>();
  return std::optional<BulkJobRow>(FromRow(r->rows[0]));
}

absl::StatusOr<std::vector<BulkJobRow>> LoadBulkJobs(postgres::Connection& conn,
                                                     std::string_view org_id) {
  auto r = conn.Exec(StrCat("SELECT ", kColumns,
                            " FROM sfbridge.bulk_jobs WHERE org_id = $1 ORDER BY object_name"),
                     {std::string(org_id)});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("load Bulk jobs of org ", org_id));
  std::vector<BulkJobRow> out;
  for (auto& row : r->rows) out.push_back(FromRow(row));
  return out;
}

absl::Status SaveBulkJob(postgres::Connection& conn, std::string_view org_id, const BulkJobRow& b) {
  auto r = conn.Exec(
      R"sql(
INSERT INTO sfbridge.bulk_jobs (org_id, object_name, job_id, job_state, records_processed,
  locator, records_done, max_modstamp_ms, max_id, job_created_ms, fallback_reason, deleted)
VALUES ($1, $2, nullif($3, ''), $4, $5::bigint, nullif($6, ''), $7::bigint, $8::bigint, $9,
        $10::bigint, $11, $12::boolean)
ON CONFLICT (org_id, object_name) DO UPDATE SET
  job_id = EXCLUDED.job_id, job_state = EXCLUDED.job_state,
  records_processed = EXCLUDED.records_processed, locator = EXCLUDED.locator,
  records_done = EXCLUDED.records_done, max_modstamp_ms = EXCLUDED.max_modstamp_ms,
  max_id = EXCLUDED.max_id, job_created_ms = EXCLUDED.job_created_ms,
  fallback_reason = EXCLUDED.fallback_reason, deleted = EXCLUDED.deleted, updated_at = now())sql",
      {std::string(org_id), b.object_name, b.job_id, b.job_state,
       std::to_string(b.records_processed), b.locator, std::to_string(b.records_done),
       b.max_key ? postgres::Value(std::to_string(b.max_key->modstamp_ms)) : std::nullopt,
       b.max_key ? postgres::Value(b.max_key->id) : std::nullopt, OptionalText(b.job_created_ms),
       b.fallback_reason, b.deleted ? "true" : "false"});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("save Bulk job of ", b.object_name));
  return absl::OkStatus();
}

}  // namespace sfbridge::control
