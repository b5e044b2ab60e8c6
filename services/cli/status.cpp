#include "cli/status.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_keys.h"
#include "common/control/budget.h"
#include "common/control/bulk_jobs.h"
#include "common/control/names.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "common/kafka/admin.h"
#include "common/postgres/connection.h"

namespace sfbridge::cli {
namespace {

using core::StrCat;

// One partition of the org's records topic: where the writer is (stored with the rows) and,
// when Kafka was asked, where the topic is.
struct Offset {
  std::string topic;
  int partition = 0;
  std::optional<int64_t> next_offset;  // none stored yet: the writer has applied nothing here
  std::optional<int64_t> high_watermark;
  std::optional<int64_t> low_watermark;

  // Messages not yet applied, when Kafka was asked.
  std::optional<int64_t> Lag() const {
    if (!high_watermark) return std::nullopt;
    int64_t from = next_offset.value_or(low_watermark.value_or(0));
    return std::max<int64_t>(0, *high_watermark - from);
  }
};

struct OrgReport {
  control::OrgSettings settings;
  std::vector<control::ObjectStatus> objects;
  std::map<std::string, control::BulkJobRow> bulk;  // each object's latest Bulk API job
  std::optional<control::BudgetState> budget;
  std::string budget_error;
  std::vector<Offset> offsets;
  std::string lag_error;  // why the lag is unknown ("" when it is known or not asked for)
  bool lag_known = false;

  std::optional<int64_t> TotalLag() const {
    if (!lag_known) return std::nullopt;
    int64_t total = 0;
    for (const Offset& o : offsets) total += o.Lag().value_or(0);
    return total;
  }
};

std::optional<std::string> OptNum(const std::optional<int64_t>& v) {
  return v ? std::optional(std::to_string(*v)) : std::nullopt;
}

std::string Fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

std::optional<double> Percent(const control::ObjectStatus& o) {
  if (o.state == control::ObjectState::kLive) return 100.0;
  if (!o.records_estimate || *o.records_estimate <= 0) return std::nullopt;
  double p = 100.0 * static_cast<double>(o.records_done) / static_cast<double>(*o.records_estimate);
  return p > 100 ? 100 : p;
}

std::string Age(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 60'000) return StrCat(Fixed(ms / 1000.0, 1), "s ago");
  if (ms < 3'600'000) return StrCat(ms / 60'000, "m", (ms / 1000) % 60, "s ago");
  if (ms < 86'400'000) return StrCat(ms / 3'600'000, "h", (ms / 60'000) % 60, "m ago");
  return StrCat(ms / 86'400'000, "d", (ms / 3'600'000) % 24, "h ago");
}

std::string Pad(std::string text, size_t width) {
  if (text.size() < width) text.resize(width, ' ');
  return text;
}

// A text member, or null.
void Str(core::JsonWriter& w, std::string_view key, const std::optional<std::string>& v) {
  w.Key(key);
  if (v) {
    w.String(*v);
  } else {
    w.Null();
  }
}
// A number member from its decimal text, or null.
void Num(core::JsonWriter& w, std::string_view key, const std::optional<std::string>& v) {
  w.Key(key);
  if (v) {
    w.Raw(*v);
  } else {
    w.Null();
  }
}

// "bulk job 750... InProgress: 120000 processed, 50000 delivered", or why REST took over.
std::string BulkLine(const control::BulkJobRow& b) {
  if (b.fallback_reason) return StrCat("bulk: read through REST instead: ", *b.fallback_reason);
  if (b.job_id.empty()) return "bulk: no job";
  return StrCat("bulk job ", b.job_id, " ", b.job_state.empty() ? "?" : b.job_state, ": ",
                b.records_processed, " processed, ", b.records_done, " delivered");
}

std::string Json(const std::vector<OrgReport>& reports, int64_t now_ms) {
  core::JsonWriter w;
  w.BeginObject().Key("now_ms").Int(now_ms).Key("orgs").BeginArray();
  for (const OrgReport& r : reports) {
    w.BeginObject();
    Str(w, "org_id", r.settings.org_id);
    Str(w, "display_name", r.settings.display_name);
    Str(w, "state", r.settings.state);
    Str(w, "last_error", r.settings.last_error);
    w.Key("budget").BeginObject();
    Num(w, "rate_per_second", Fixed(r.settings.rate_per_second, 6));
    Num(w, "burst", std::to_string(r.settings.burst));
    Num(w, "daily_quota_share", Fixed(r.settings.daily_quota_share, 6));
    if (r.budget) {
      Num(w, "tokens", Fixed(r.budget->tokens, 3));
      Num(w, "calls_total", std::to_string(r.budget->calls_total));
      Num(w, "api_usage_used",
          r.budget->api_usage_used >= 0 ? std::optional(std::to_string(r.budget->api_usage_used))
                                        : std::nullopt);
      Num(w, "api_usage_max",
          r.budget->api_usage_max >= 0 ? std::optional(std::to_string(r.budget->api_usage_max))
                                       : std::nullopt);
    } else {
      Str(w, "error", r.budget_error);
    }
    w.EndObject();
    w.Key("objects").BeginArray();
    for (const control::ObjectStatus& o : r.objects) {
      w.BeginObject();
      Str(w, "object", o.object_name);
      Str(w, "state", std::string(control::ObjectStateName(o.state)));
      Num(w, "records_done", std::to_string(o.records_done));
      Num(w, "records_estimate",
          o.records_estimate ? std::optional(std::to_string(*o.records_estimate)) : std::nullopt);
      std::optional<double> p = Percent(o);
      Num(w, "progress_percent", p ? std::optional(Fixed(*p, 1)) : std::nullopt);
      Num(w, "last_poll_at_ms",
          o.last_poll_at_ms ? std::optional(std::to_string(*o.last_poll_at_ms)) : std::nullopt);
      Num(w, "last_poll_age_ms",
          o.last_poll_at_ms ? std::optional(std::to_string(now_ms - *o.last_poll_at_ms))
                            : std::nullopt);
      Str(w, "error", o.error);
      if (auto b = r.bulk.find(o.object_name); b != r.bulk.end()) {
        w.Key("bulk").BeginObject();
        Str(w, "job_id", b->second.job_id.empty() ? std::nullopt : std::optional(b->second.job_id));
        Str(w, "job_state", b->second.job_state);
        Num(w, "records_processed", std::to_string(b->second.records_processed));
        Num(w, "records_done", std::to_string(b->second.records_done));
        Str(w, "fallback_reason", b->second.fallback_reason);
        w.Key("deleted").Bool(b->second.deleted);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    Num(w, "consumer_lag", OptNum(r.TotalLag()));
    if (!r.lag_error.empty()) Str(w, "consumer_lag_error", r.lag_error);
    w.Key("consumer_offsets").BeginArray();
    for (const Offset& off : r.offsets) {
      w.BeginObject();
      Str(w, "topic", off.topic);
      Num(w, "partition", std::to_string(off.partition));
      Num(w, "next_offset", OptNum(off.next_offset));
      Num(w, "high_watermark", OptNum(off.high_watermark));
      Num(w, "lag", OptNum(off.Lag()));
      w.EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return w.Take() + "\n";
}

void Text(std::ostream& out, const std::vector<OrgReport>& reports, int64_t now_ms) {
  for (const OrgReport& r : reports) {
    out << "org " << r.settings.org_id;
    if (!r.settings.display_name.empty() && r.settings.display_name != r.settings.org_id) {
      out << " (" << r.settings.display_name << ")";
    }
    out << "  state=" << r.settings.state;
    if (r.settings.last_error) out << "  error: " << *r.settings.last_error;
    out << "\n";

    out << "  budget   rate=" << Fixed(r.settings.rate_per_second, 3)
        << "/s burst=" << r.settings.burst;
    if (r.budget) {
      out << " tokens=" << Fixed(r.budget->tokens, 2) << " calls_total=" << r.budget->calls_total;
      if (r.budget->api_usage_max > 0) {
        out << "  api usage " << r.budget->api_usage_used << "/" << r.budget->api_usage_max << " ("
            << Fixed(100.0 * r.budget->api_usage_used / r.budget->api_usage_max, 1)
            << "%, share allowed " << Fixed(100.0 * r.settings.daily_quota_share, 0) << "%)";
      } else {
        out << "  api usage not observed yet (share allowed "
            << Fixed(100.0 * r.settings.daily_quota_share, 0) << "%)";
      }
    } else {
      out << "  (state unavailable: " << r.budget_error << ")";
    }
    out << "\n";

    size_t width = 8;
    for (const auto& o : r.objects) width = std::max(width, o.object_name.size() + 2);
    out << "  " << Pad("OBJECT", width) << Pad("STATE", 13) << Pad("PROGRESS", 26)
        << Pad("LAST POLL", 14) << "ERROR\n";
    for (const control::ObjectStatus& o : r.objects) {
      std::optional<double> p = Percent(o);
      std::string progress = p ? StrCat(Fixed(*p, 1), "%") : std::string("-");
      progress += StrCat(" (", o.records_done, "/",
                         o.records_estimate ? std::to_string(*o.records_estimate) : "?", ")");
      out << "  " << Pad(o.object_name, width)
          << Pad(std::string(control::ObjectStateName(o.state)), 13) << Pad(progress, 26)
          << Pad(o.last_poll_at_ms ? Age(now_ms - *o.last_poll_at_ms) : "never", 14)
          << (o.error ? *o.error : "-") << "\n";
      if (auto b = r.bulk.find(o.object_name); b != r.bulk.end()) {
        out << "  " << Pad("", width) << BulkLine(b->second) << "\n";
      }
    }
    if (r.objects.empty()) out << "  (no objects yet)\n";
    if (r.offsets.empty()) {
      out << "  writer   no offsets stored yet\n";
    } else {
      if (std::optional<int64_t> lag = r.TotalLag()) {
        out << "  writer   lag " << *lag << " message" << (*lag == 1 ? "" : "s") << " ("
            << r.offsets.front().topic << ":";
      } else {
        out << "  writer   lag unknown ("
            << (r.lag_error.empty() ? "pass --kafka.brokers to see it" : r.lag_error) << ") ("
            << r.offsets.front().topic << ":";
      }
      for (const Offset& off : r.offsets) {
        out << " [" << off.partition << "] at "
            << (off.next_offset ? std::to_string(*off.next_offset) : "-");
        if (std::optional<int64_t> lag = off.Lag()) out << " lag " << *lag;
      }
      out << ")\n";
    }
    out << "\n";
  }
}

// Fills in the records topic's watermarks; partitions the writer has not stored an offset for
// yet are added, so that their whole backlog counts as lag.
void AddWatermarks(const std::string& brokers, const std::string& topic, OrgReport& r) {
  absl::StatusOr<std::vector<kafka::PartitionWatermarks>> marks =
      kafka::TopicWatermarks(brokers, topic, 5000);
  if (!marks.ok()) {
    r.lag_error = std::string(marks.status().message());
    return;
  }
  std::erase_if(r.offsets, [&](const Offset& o) { return o.topic != topic; });
  for (const kafka::PartitionWatermarks& w : *marks) {
    auto it = std::find_if(r.offsets.begin(), r.offsets.end(),
                           [&](const Offset& o) { return o.partition == w.partition; });
    if (it == r.offsets.end()) {
      r.offsets.push_back({.topic = topic, .partition = w.partition});
      it = std::prev(r.offsets.end());
    }
    it->high_watermark = w.high;
    it->low_watermark = w.low;
  }
  std::sort(r.offsets.begin(), r.offsets.end(),
            [](const Offset& a, const Offset& b) { return a.partition < b.partition; });
  r.lag_known = true;
}

}  // namespace

void AddStatusKeys(core::ConfigSchema& schema) {
  schema.Add(PostgresUrlKey())
      .Add({.name = "org.id", .help = "Show only this org; empty: every org."})
      .Add({.name = "kafka.brokers",
            .help = "Kafka bootstrap servers host:port,...; when set, the writer's consumer lag "
                    "per partition is shown."})
      .Add({.name = "format",
            .help = "text (a table for people) or json (for machines).",
            .default_value = "text",
            .choices = {"text", "json"}});
}

absl::Status RunStatus(const core::Config& config, std::ostream& out) {
  absl::StatusOr<std::unique_ptr<postgres::Connection>> pg =
      postgres::Connection::Connect(config.GetString("postgres.url"));
  if (!pg.ok()) return pg.status();
  postgres::Connection& conn = **pg;

  std::vector<control::OrgSettings> orgs;
  const std::string& org_id = config.GetString("org.id");
  if (!org_id.empty()) {
    absl::StatusOr<control::OrgSettings> org = control::LoadOrg(conn, org_id);
    if (!org.ok()) {
      if (org.status().code() == absl::StatusCode::kNotFound) {
        return absl::InvalidArgumentError(StrCat("org.id: no org '", org_id, "' in sfbridge.orgs"));
      }
      return org.status();
    }
    orgs.push_back(*std::move(org));
  } else {
    absl::StatusOr<std::vector<control::OrgSettings>> all = control::LoadOrgs(conn);
    if (!all.ok()) return all.status();
    orgs = *std::move(all);
  }

  absl::StatusOr<postgres::QueryResult> now =
      conn.Exec("SELECT (extract(epoch FROM now()) * 1000)::bigint");
  if (!now.ok()) return now.status();
  const int64_t now_ms = std::stoll(*now->rows[0][0]);

  std::vector<OrgReport> reports;
  control::RateBudget budget(conn, core::SystemClock::Instance());
  for (control::OrgSettings& settings : orgs) {
    OrgReport r;
    absl::StatusOr<std::vector<control::ObjectStatus>> objects =
        control::LoadObjects(conn, settings.org_id);
    if (!objects.ok()) return objects.status();
    r.objects = *std::move(objects);
    // Older control planes have no bulk_jobs table: no Bulk lines then.
    if (auto bulk = control::LoadBulkJobs(conn, settings.org_id); bulk.ok()) {
      for (control::BulkJobRow& b : *bulk) r.bulk[b.object_name] = std::move(b);
    }
    absl::StatusOr<control::BudgetState> state = budget.State(settings.org_id);
    if (state.ok()) {
      r.budget = *state;
    } else {
      r.budget_error = std::string(state.status().message());
    }
    absl::StatusOr<postgres::QueryResult> offsets = conn.Exec(
        "SELECT topic, partition, next_offset FROM sfbridge.consumer_offsets "
        "WHERE consumer_group = $1 ORDER BY topic, partition",
        {control::WriterConsumerGroup(settings.org_id)});
    if (!offsets.ok()) return offsets.status();
    for (const auto& row : offsets->rows) {
      r.offsets.push_back(
          {.topic = *row[0], .partition = std::stoi(*row[1]), .next_offset = std::stoll(*row[2])});
    }
    if (const std::string& brokers = config.GetString("kafka.brokers"); !brokers.empty()) {
      AddWatermarks(brokers, control::RecordsTopic(settings.org_id), r);
    }
    r.settings = std::move(settings);
    reports.push_back(std::move(r));
  }
  if (config.GetString("format") == "json") {
    out << Json(reports, now_ms);
  } else if (reports.empty()) {
    out << "no orgs in sfbridge.orgs\n";
  } else {
    Text(out, reports, now_ms);
  }
  out.flush();
  return absl::OkStatus();
}

}  // namespace sfbridge::cli
