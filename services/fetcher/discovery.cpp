#include "fetcher/discovery.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/control/events.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/json_writer.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/salesforce/json_records.h"
#include "fetcher/kafka_sink.h"

namespace sfbridge::fetcher {
namespace {

using core::StrCat;
using std::chrono::milliseconds;

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

std::string ErrorDetail(std::string_view message, bool retryable) {
  core::JsonWriter w;
  w.BeginObject().Member("error", message).Member("retryable", retryable).EndObject();
  return w.Take();
}

}  // namespace

Discovery::Discovery(DiscoveryContext ctx, DiscoveryOptions options)
    : ctx_(std::move(ctx)), options_(options), next_pass_(ctx_.clock->Monotonic()) {}

core::Clock::MonoTime Discovery::next_due() const {
  if (pass_queue_) return core::Clock::MonoTime::min();
  core::Clock::MonoTime due = next_pass_;
  for (const auto& [name, retry] : retries_) due = std::min(due, retry.due);
  return due;
}

bool Discovery::Due() const { return next_due() <= ctx_.clock->Monotonic(); }

void Discovery::RequestPass() { next_pass_ = ctx_.clock->Monotonic(); }

std::vector<std::string> Discovery::object_names() const {
  std::vector<std::string> names;
  for (const auto& [name, plan] : plans_) names.push_back(name);
  return names;
}

milliseconds Discovery::Backoff(int attempts) const {
  milliseconds d = options_.retry_initial;
  for (int i = 1; i < attempts && d < options_.retry_max; ++i) d *= 2;
  return std::min(d, options_.retry_max);
}

void Discovery::CountCall(std::string_view object, std::string_view kind, bool ok) {
  if (ctx_.metrics == nullptr) return;
  ctx_.metrics->api_calls
      .WithLabels(
          {ctx_.org_id, std::string(object), std::string(kind), "discovery", ok ? "ok" : "error"})
      .Increment();
}

absl::StatusOr<DiscoveryStep> Discovery::Step() {
  const auto now = ctx_.clock->Monotonic();
  if (pass_queue_ && !pass_queue_->empty()) {
    const std::string name = pass_queue_->back();
    auto step = DescribeObject(name);
    if (step.ok()) pass_queue_->pop_back();
    if (step.ok() && pass_queue_->empty()) {
      pass_queue_.reset();
      ++passes_;
      next_pass_ = ctx_.clock->Monotonic() + options_.describe_interval;
      core::Logger("fetcher")->info("org={} objects={} pass={} discovery pass done", ctx_.org_id,
                                    plans_.size(), passes_);
    }
    return step;
  }
  if (next_pass_ <= now) return DescribeGlobal();
  for (const auto& [name, retry] : retries_) {
    if (retry.due <= now) return DescribeObject(name);
  }
  return DiscoveryStep{};  // nothing was due
}

absl::StatusOr<DiscoveryStep> Discovery::DescribeGlobal() {
  auto log = core::Logger("fetcher");
  absl::StatusOr<control::OrgSettings> settings = control::LoadOrg(*ctx_.conn, ctx_.org_id);
  if (!settings.ok()) return settings.status();

  DiscoveryStep step{.call = "describe_global"};
  absl::StatusOr<std::vector<salesforce::SObjectSummary>> global = ctx_.client->DescribeGlobal();
  CountCall("", "describe_global", global.ok());
  absl::StatusOr<std::vector<std::string>> names =
      global.ok() ? mapping::SelectObjects(*global, settings->objects)
                  : absl::StatusOr<std::vector<std::string>>(
                        core::Annotate(global.status(), "describeGlobal"));
  if (!names.ok()) {
    step.salesforce_error = names.status();
    const milliseconds wait = Backoff(++global_failures_);
    next_pass_ = ctx_.clock->Monotonic() + wait;
    log->warn("org={} discovery failed, retrying in {} ms: {}", ctx_.org_id, wait.count(),
              core::ToString(names.status().message()));
    return step;
  }
  global_failures_ = 0;
  selected_ = std::set<std::string>(names->begin(), names->end());
  for (auto it = plans_.begin(); it != plans_.end();) {
    if (selected_.contains(it->first)) {
      ++it;
    } else {
      log->info("org={} object={} no longer selected", ctx_.org_id, it->first);
      it = plans_.erase(it);
      step.plans_changed = true;
    }
  }
  for (auto it = retries_.begin(); it != retries_.end();) {
    it = selected_.contains(it->first) ? std::next(it) : retries_.erase(it);
  }
  // Described from the back: keep the org's order.
  pass_queue_ = std::vector<std::string>(names->rbegin(), names->rend());
  if (pass_queue_->empty()) {
    pass_queue_.reset();
    ++passes_;
    next_pass_ = ctx_.clock->Monotonic() + options_.describe_interval;
  }
  return step;
}

absl::StatusOr<DiscoveryStep> Discovery::DescribeObject(const std::string& name) {
  auto log = core::Logger("fetcher");
  DiscoveryStep step{.call = name};
  absl::StatusOr<salesforce::SObjectDescribe> describe = ctx_.client->Describe(name);
  CountCall(name, "describe", describe.ok());

  absl::StatusOr<std::vector<control::ObjectStatus>> rows =
      control::LoadObjects(*ctx_.conn, ctx_.org_id);
  if (!rows.ok()) return rows.status();
  const control::ObjectStatus* row = nullptr;
  for (const control::ObjectStatus& r : *rows) {
    if (r.object_name == name) row = &r;
  }

  if (!describe.ok()) {
    const absl::Status error = core::Annotate(describe.status(), StrCat("describe ", name));
    Retry& retry = retries_[name];
    const milliseconds wait = Backoff(++retry.attempts);
    retry.due = ctx_.clock->Monotonic() + wait;
    step.salesforce_error = error;
    if (!plans_.contains(name)) {
      const std::string message = core::ToString(error.message());
      if (absl::Status s = control::SetObjectState(*ctx_.conn, ctx_.org_id, name,
                                                   control::ObjectState::kError, message);
          !s.ok()) {
        return s;
      }
      (void)control::RecordEvent(*ctx_.conn, ctx_.org_id, std::optional<std::string_view>(name),
                                 control::kEventObjectError,
                                 ErrorDetail(message, core::IsRetryable(error)));
    }
    log->error("org={} object={} describe failed (attempt {}), retrying in {} ms: {}", ctx_.org_id,
               name, retry.attempts, wait.count(), core::ToString(error.message()));
    return step;
  }

  if (row == nullptr) {
    absl::Status s =
        control::SetObjectState(*ctx_.conn, ctx_.org_id, name, control::ObjectState::kPending);
    if (!s.ok()) return s;
  }
  absl::StatusOr<mapping::FieldPlan> plan = mapping::MakeFieldPlan(*describe);
  if (!plan.ok()) {
    log->error("org={} object={} cannot be read: {}", ctx_.org_id, name,
               std::string(plan.status().message()));
    absl::Status s =
        control::SetObjectState(*ctx_.conn, ctx_.org_id, name, control::ObjectState::kError,
                                std::string(plan.status().message()));
    if (!s.ok()) return s;
    retries_.erase(name);
    step.plans_changed = plans_.erase(name) > 0;
    return step;
  }

  v1::ObjectSchema schema = mapping::ToObjectSchema(
      ctx_.org_id, *describe, static_cast<int64_t>(core::ToUnixMillis(ctx_.clock->Now())));
  absl::StatusOr<int64_t> previous = LastSchemaVersion(*ctx_.conn, ctx_.org_id, name);
  if (!previous.ok()) return previous.status();
  const bool changed = row == nullptr || !row->schema_fingerprint.has_value() ||
                       *row->schema_fingerprint != schema.fingerprint() || *previous == 0;
  const int64_t version = changed ? *previous + 1 : *previous;
  schema.set_version(version);

  auto known = plans_.find(name);
  const bool plan_changed =
      known == plans_.end() || known->second.schema_fingerprint != plan->schema_fingerprint;
  // An unchanged schema was published and acknowledged before; only a change is news.
  if (changed || known == plans_.end()) {
    std::string value;
    if (!schema.SerializeToString(&value)) {
      return absl::InternalError(StrCat("cannot serialize the schema of ", name));
    }
    absl::Status sent = ctx_.producer->SendAll(control::SchemasTopic(ctx_.org_id), {{name, value}});
    if (!sent.ok()) return core::Annotate(sent, StrCat("publish the schema of ", name));
  }
  if (changed) {
    absl::Status s = control::RecordEvent(
        *ctx_.conn, ctx_.org_id, std::optional<std::string_view>(name), kEventSchemaVersion,
        core::JsonWriter()
            .BeginObject()
            .Key("version")
            .Int(version)
            .Member("fingerprint", schema.fingerprint())
            .EndObject()
            .Take());
    if (!s.ok()) return s;
    s = control::SetSchemaFingerprint(*ctx_.conn, ctx_.org_id, name, schema.fingerprint());
    if (!s.ok()) return s;
  }
  if (plan_changed) {
    log->info("org={} object={} schema_version={} fields={} fetched_fields={} described",
              ctx_.org_id, name, version, describe->fields.size(), plan->fields.size());
    plans_[name] = *std::move(plan);
    step.plans_changed = true;
  }
  retries_.erase(name);
  return step;
}

}  // namespace sfbridge::fetcher
