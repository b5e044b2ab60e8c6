#include "fetcher/discovery.h"

#include <optional>
#include <utility>

#include "common/control/events.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "fetcher/kafka_sink.h"

namespace sfbridge::fetcher {
namespace {

using core::StrCat;

constexpr std::string_view kLastVersionSql = R"sql(
SELECT (detail->>'version')::bigint FROM sfbridge.events
WHERE org_id = $1 AND object_name = $2 AND kind = $3
ORDER BY id DESC LIMIT 1
)sql";

absl::StatusOr<int64_t> LastSchemaVersion(postgres::Connection& conn, const std::string& org_id,
                                          const std::string& object) {
  absl::StatusOr<postgres::QueryResult> r =
      conn.Exec(kLastVersionSql, {org_id, object, std::string(kEventSchemaVersion)});
  if (!r.ok()) return core::Annotate(r.status(), StrCat("schema version of ", object));
  if (r->rows.empty() || r->rows[0].empty() || !r->rows[0][0].has_value()) return 0;
  return std::stoll(*r->rows[0][0]);
}

void CountCall(const DiscoveryContext& ctx, std::string_view object, std::string_view kind) {
  if (ctx.metrics == nullptr) return;
  ctx.metrics->api_calls.WithLabels({ctx.org_id, std::string(object), std::string(kind)})
      .Increment();
}

}  // namespace

absl::StatusOr<std::vector<DiscoveredObject>> DiscoverObjects(const DiscoveryContext& ctx) {
  auto log = core::Logger("fetcher");
  absl::StatusOr<control::OrgSettings> settings = control::LoadOrg(*ctx.conn, ctx.org_id);
  if (!settings.ok()) return settings.status();

  if (absl::Status s = ctx.take_token(); !s.ok()) return s;
  CountCall(ctx, "", "describe_global");
  absl::StatusOr<std::vector<salesforce::SObjectSummary>> global = ctx.client->DescribeGlobal();
  if (!global.ok()) return core::Annotate(global.status(), "describeGlobal");
  absl::StatusOr<std::vector<std::string>> names = SelectObjects(*global, settings->objects);
  if (!names.ok()) return names.status();

  absl::StatusOr<std::vector<control::ObjectStatus>> rows =
      control::LoadObjects(*ctx.conn, ctx.org_id);
  if (!rows.ok()) return rows.status();
  auto stored_row = [&](const std::string& name) -> const control::ObjectStatus* {
    for (const control::ObjectStatus& row : *rows) {
      if (row.object_name == name) return &row;
    }
    return nullptr;
  };

  const std::string topic = control::SchemasTopic(ctx.org_id);
  std::vector<DiscoveredObject> out;
  for (const std::string& name : *names) {
    if (absl::Status s = ctx.take_token(); !s.ok()) return s;
    CountCall(ctx, name, "describe");
    absl::StatusOr<salesforce::SObjectDescribe> describe = ctx.client->Describe(name);
    if (!describe.ok()) return core::Annotate(describe.status(), StrCat("describe ", name));

    const control::ObjectStatus* row = stored_row(name);
    if (row == nullptr) {
      absl::Status s =
          control::SetObjectState(*ctx.conn, ctx.org_id, name, control::ObjectState::kPending);
      if (!s.ok()) return s;
    }

    absl::StatusOr<FieldPlan> plan = MakeFieldPlan(*describe);
    if (!plan.ok()) {
      log->error("org={} object={} cannot be read: {}", ctx.org_id, name,
                 std::string(plan.status().message()));
      absl::Status s =
          control::SetObjectState(*ctx.conn, ctx.org_id, name, control::ObjectState::kError,
                                  std::string(plan.status().message()));
      if (!s.ok()) return s;
      continue;
    }

    v1::ObjectSchema schema = ToObjectSchema(
        ctx.org_id, *describe, static_cast<int64_t>(core::ToUnixMillis(ctx.clock->Now())));
    absl::StatusOr<int64_t> previous = LastSchemaVersion(*ctx.conn, ctx.org_id, name);
    if (!previous.ok()) return previous.status();
    const bool changed = row == nullptr || !row->schema_fingerprint.has_value() ||
                         *row->schema_fingerprint != schema.fingerprint() || *previous == 0;
    const int64_t version = changed ? *previous + 1 : *previous;
    schema.set_version(version);

    std::string value;
    if (!schema.SerializeToString(&value)) {
      return absl::InternalError(StrCat("cannot serialize the schema of ", name));
    }
    absl::Status sent = ctx.producer->SendAll(topic, {{name, value}});
    if (!sent.ok()) return core::Annotate(sent, StrCat("publish the schema of ", name));
    if (changed) {
      absl::Status s = control::RecordEvent(
          *ctx.conn, ctx.org_id, std::optional<std::string_view>(name), kEventSchemaVersion,
          StrCat("{\"version\":", version, ",\"fingerprint\":\"", schema.fingerprint(), "\"}"));
      if (!s.ok()) return s;
      s = control::SetSchemaFingerprint(*ctx.conn, ctx.org_id, name, schema.fingerprint());
      if (!s.ok()) return s;
    }
    log->info("org={} object={} schema_version={} fields={} fetched_fields={} discovered",
              ctx.org_id, name, version, describe->fields.size(), plan->fields.size());
    out.push_back(DiscoveredObject{*std::move(plan), version});
  }
  return out;
}

}  // namespace sfbridge::fetcher
