#include "common/control/migrations.h"

#include <string>

#include "common/core/status.h"
#include "common/core/strings.h"

namespace sfbridge::control {
namespace {

// Version 1: the control plane. Times the budget and leases compare are bigint milliseconds
// since the epoch taken from the caller's clock (so they can be simulated); timestamps that are
// only shown to people are timestamptz.
constexpr std::string_view kControlPlane = R"sql(
CREATE TABLE sfbridge.orgs (
  org_id            text PRIMARY KEY,
  display_name      text,
  api_version       text,
  objects           text[],
  rate_per_second   numeric NOT NULL DEFAULT 1/3.0 CHECK (rate_per_second >= 0),
  burst             integer NOT NULL DEFAULT 5 CHECK (burst >= 1),
  daily_quota_share numeric NOT NULL DEFAULT 0.5
                    CHECK (daily_quota_share > 0 AND daily_quota_share <= 1),
  priority_reserve  numeric NOT NULL DEFAULT 1 CHECK (priority_reserve >= 0),
  state             text NOT NULL DEFAULT 'ok',
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN sfbridge.orgs.objects IS
  'API names to replicate; NULL means every queryable and replicateable object';
COMMENT ON COLUMN sfbridge.orgs.daily_quota_share IS
  'largest share of the org''s DailyApiRequests that normal-lane work may use';
COMMENT ON COLUMN sfbridge.orgs.priority_reserve IS
  'tokens of the bucket that only the priority lane (proxy writes) may take';

CREATE TABLE sfbridge.objects (
  org_id                      text NOT NULL REFERENCES sfbridge.orgs ON DELETE CASCADE,
  object_name                 text NOT NULL,
  state                       text NOT NULL DEFAULT 'pending'
                              CHECK (state IN ('pending', 'backfilling', 'live', 'error',
                                               'disabled')),
  error                       text,
  records_done                bigint NOT NULL DEFAULT 0,
  records_estimate            bigint,
  backfill_started_at         timestamptz,
  backfill_completed_at       timestamptz,
  last_poll_at                timestamptz,
  cursor_modstamp_ms          bigint,
  cursor_id                   text,
  backfill_cursor_modstamp_ms bigint,
  backfill_cursor_id          text,
  schema_fingerprint          text,
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, object_name),
  CHECK ((cursor_modstamp_ms IS NULL) = (cursor_id IS NULL)),
  CHECK ((backfill_cursor_modstamp_ms IS NULL) = (backfill_cursor_id IS NULL))
);

CREATE TABLE sfbridge.rate_buckets (
  org_id          text PRIMARY KEY REFERENCES sfbridge.orgs ON DELETE CASCADE,
  tokens          double precision NOT NULL,
  updated_at_ms   bigint NOT NULL,
  api_usage_used  bigint,
  api_usage_max   bigint,
  api_usage_at_ms bigint,
  calls_total     bigint NOT NULL DEFAULT 0
);

CREATE TABLE sfbridge.leases (
  org_id        text NOT NULL REFERENCES sfbridge.orgs ON DELETE CASCADE,
  object_name   text NOT NULL,
  holder        text NOT NULL,
  expires_at_ms bigint NOT NULL,
  PRIMARY KEY (org_id, object_name)
);
CREATE INDEX leases_holder ON sfbridge.leases (org_id, holder);

CREATE TABLE sfbridge.replicas (
  org_id          text NOT NULL REFERENCES sfbridge.orgs ON DELETE CASCADE,
  holder          text NOT NULL,
  heartbeat_at_ms bigint NOT NULL,
  expires_at_ms   bigint NOT NULL,
  PRIMARY KEY (org_id, holder)
);

CREATE TABLE sfbridge.events (
  id          bigserial PRIMARY KEY,
  org_id      text NOT NULL,
  object_name text,
  kind        text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_org ON sfbridge.events (org_id, id);

-- Every event is also sent to LISTEN sfbridge_events, delivered when its transaction commits.
-- NOTIFY payloads are limited to 8000 bytes: a detail too large is left out of the payload
-- (it stays in the row; "truncated": true says to read it there).
CREATE FUNCTION sfbridge.notify_event() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  payload text;
BEGIN
  payload := jsonb_build_object('id', NEW.id, 'org_id', NEW.org_id,
                                'object_name', NEW.object_name, 'kind', NEW.kind,
                                'detail', NEW.detail)::text;
  IF octet_length(payload) > 7900 THEN
    payload := jsonb_build_object('id', NEW.id, 'org_id', NEW.org_id,
                                  'object_name', NEW.object_name, 'kind', NEW.kind,
                                  'truncated', true)::text;
  END IF;
  PERFORM pg_notify('sfbridge_events', payload);
  RETURN NULL;
END
$fn$;
CREATE TRIGGER events_notify AFTER INSERT ON sfbridge.events
  FOR EACH ROW EXECUTE FUNCTION sfbridge.notify_event();

CREATE TABLE sfbridge.consumer_offsets (
  consumer_group text NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  next_offset    bigint NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);

CREATE TABLE sfbridge.field_mappings (
  org_id      text NOT NULL REFERENCES sfbridge.orgs ON DELETE CASCADE,
  object_name text NOT NULL,
  field_name  text NOT NULL,
  column_name text NOT NULL,
  field_type  text NOT NULL,
  PRIMARY KEY (org_id, object_name, field_name),
  UNIQUE (org_id, object_name, column_name)
);
)sql";

// Version 2: where an org's events are also POSTed (NULL: nowhere).
constexpr std::string_view kWebhook = R"sql(
ALTER TABLE sfbridge.orgs ADD COLUMN webhook_url text;
COMMENT ON COLUMN sfbridge.orgs.webhook_url IS
  'URL every event of the org is POSTed to as JSON (NULL: none)';
COMMENT ON COLUMN sfbridge.orgs.state IS
  'ok, or why the org cannot be read at all (auth_error: the credentials were refused)';
)sql";

// Version 3: the Bulk API 2.0 job of each object's backfill (bulk_jobs.h).
constexpr std::string_view kBulkJobs = R"sql(
CREATE TABLE sfbridge.bulk_jobs (
  org_id            text NOT NULL REFERENCES sfbridge.orgs ON DELETE CASCADE,
  object_name       text NOT NULL,
  job_id            text,
  job_state         text NOT NULL DEFAULT '',
  records_processed bigint NOT NULL DEFAULT 0,
  locator           text,
  records_done      bigint NOT NULL DEFAULT 0,
  max_modstamp_ms   bigint,
  max_id            text,
  job_created_ms    bigint,
  fallback_reason   text,
  deleted           boolean NOT NULL DEFAULT false,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, object_name),
  CHECK ((max_modstamp_ms IS NULL) = (max_id IS NULL))
);
COMMENT ON TABLE sfbridge.bulk_jobs IS
  'The latest Bulk API 2.0 query job of each object''s backfill: where delivery stands (locator '
  'of the next page, records published, highest key), or why REST took over';
)sql";

constexpr std::string_view kBootstrap = R"sql(
CREATE SCHEMA IF NOT EXISTS sfbridge;
CREATE TABLE IF NOT EXISTS sfbridge.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
)sql";

absl::Status Lock(postgres::Transaction& tx) {
  return tx.Exec("SELECT pg_advisory_xact_lock($1)", {std::to_string(kMigrationLockKey)}).status();
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kAll = {
      {1, "control plane", kControlPlane},
      {2, "org webhook", kWebhook},
      {3, "bulk jobs", kBulkJobs},
  };
  return kAll;
}

absl::Status Migrate(postgres::Connection& conn) {
  // CREATE ... IF NOT EXISTS is not safe against a concurrent creator, hence the lock here too.
  absl::Status s = conn.InTransaction([](postgres::Transaction& tx) -> absl::Status {
    if (absl::Status l = Lock(tx); !l.ok()) return l;
    return tx.Exec(kBootstrap).status();
  });
  if (!s.ok()) return core::Annotate(s, "migrate: bootstrap");
  for (const Migration& m : Migrations()) {
    s = conn.InTransaction([&m](postgres::Transaction& tx) -> absl::Status {
      if (absl::Status l = Lock(tx); !l.ok()) return l;
      auto done = tx.Exec("SELECT 1 FROM sfbridge.schema_migrations WHERE version = $1",
                          {std::to_string(m.version)});
      if (!done.ok()) return done.status();
      if (!done->rows.empty()) return absl::OkStatus();
      if (absl::Status r = tx.Exec(m.sql).status(); !r.ok()) return r;
      return tx
          .Exec("INSERT INTO sfbridge.schema_migrations (version, name) VALUES ($1, $2)",
                {std::to_string(m.version), std::string(m.name)})
          .status();
    });
    if (!s.ok()) {
      return core::Annotate(s, core::StrCat("migrate: version ", m.version, " (", m.name, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SchemaVersion(postgres::Connection& conn) {
  auto r =
      conn.Exec("SELECT CASE WHEN to_regclass('sfbridge.schema_migrations') IS NULL THEN 0 END");
  if (!r.ok()) return r.status();
  if (r->rows[0][0]) return 0;
  r = conn.Exec("SELECT coalesce(max(version), 0) FROM sfbridge.schema_migrations");
  if (!r.ok()) return r.status();
  return std::stoi(*r->rows[0][0]);
}

}  // namespace sfbridge::control
