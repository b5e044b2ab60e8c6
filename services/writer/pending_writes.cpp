#include "writer/pending_writes.h"

#include "common/core/strings.h"

namespace sfbridge::writer {
namespace {

// The secret the proxy's tokens derive from: one random row, readable only by its owner.
constexpr std::string_view kSecret = R"sql(
CREATE TABLE IF NOT EXISTS sfbridge.proxy_secret (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  secret   bytea NOT NULL
);
REVOKE ALL ON sfbridge.proxy_secret FROM PUBLIC;
-- A transaction's unconfirmed held writes, one row each: inserted in the client's transaction
-- and deleted in it once confirmed, so a row is never committed (the check refuses to) and no
-- other session ever sees one. In a table no client may touch (DISCARD TEMP cannot drop it).
CREATE UNLOGGED TABLE IF NOT EXISTS sfbridge.pending_marks (
  backend_pid integer NOT NULL,
  target      regclass NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_marks_backend ON sfbridge.pending_marks (backend_pid);
REVOKE ALL ON sfbridge.pending_marks FROM PUBLIC;
)sql";

// Its one row, once (by a role that may: another that installed it made the row then).
constexpr std::string_view kSecretRow = R"sql(
DO $secret$ BEGIN
  IF has_table_privilege('sfbridge.proxy_secret', 'INSERT') THEN
    INSERT INTO sfbridge.proxy_secret (secret)
      VALUES (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()))
      ON CONFLICT DO NOTHING;
  END IF;
END $secret$;
)sql";

constexpr std::string_view kPendingWrite = R"sql(
CREATE OR REPLACE FUNCTION sfbridge.pending_write(token text, target regclass, op text, rows jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  expected bytea;
  obj text;
  tombstones text;
  cols text;
  upd_cols text;
  vals text;
  sets text;
  result jsonb := '[]';
BEGIN
  SELECT sha256(s.secret || convert_to(':' || pg_backend_pid(), 'UTF8')) INTO expected
    FROM sfbridge.proxy_secret s;
  IF token IS NULL OR expected IS NULL OR token !~ '^[0-9a-f]{64}$'
     OR decode(token, 'hex') <> expected THEN
    RAISE EXCEPTION 'permission denied for function pending_write'
      USING ERRCODE = '42501',
            DETAIL = 'Synced tables change only once Salesforce has accepted the change.',
            HINT = 'Write the table through the sfbridge proxy.';
  END IF;
  SELECT st.object_name, format('%I.%I', st.schema_name, '_tombstones') INTO obj, tombstones
    FROM sfbridge.synced_tables st
   WHERE to_regclass(format('%I.%I', st.schema_name, st.table_name)) = target;
  IF obj IS NULL THEN
    RAISE EXCEPTION '% is not a synced table', target USING ERRCODE = '42501';
  END IF;
  IF op = 'resolved' THEN
    DELETE FROM sfbridge.pending_marks WHERE backend_pid = pg_backend_pid();
    RETURN result;
  END IF;
  -- The table's columns the first row names, in table order.
  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
         string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
           FILTER (WHERE a.attname <> 'id'),
         string_agg('r.' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
           FILTER (WHERE a.attname <> 'id'),
         string_agg(format('%1$I = excluded.%1$I', a.attname), ', ' ORDER BY a.attnum)
           FILTER (WHERE a.attname <> 'id')
    INTO cols, upd_cols, vals, sets
    FROM pg_attribute a
   WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
     AND (rows -> 0) ? a.attname::text;
  IF op IN ('insert', 'update', 'delete') THEN
    INSERT INTO sfbridge.pending_marks VALUES (pg_backend_pid(), target);
  END IF;
  -- Queues the synced table's deferred check for the changes below (and only for them).
  PERFORM set_config('sfbridge.pending_write', 'on', true);
  CASE op
  WHEN 'insert' THEN
    EXECUTE format('WITH w AS (INSERT INTO %1$s (%2$s) SELECT %2$s FROM '
                   'jsonb_populate_recordset(NULL::%1$s, $1) RETURNING *) '
                   'SELECT coalesce(jsonb_agg(to_jsonb(w)), ''[]'') FROM w', target, cols)
      USING rows INTO result;
  WHEN 'update' THEN
    IF upd_cols IS NULL THEN
      op := 'lock';
    ELSE
      EXECUTE format('WITH w AS (UPDATE %1$s t SET (%2$s) = ROW(%3$s) FROM '
                     'jsonb_populate_recordset(NULL::%1$s, $1) r WHERE t.id = r.id '
                     'RETURNING t.*) SELECT coalesce(jsonb_agg(to_jsonb(w)), ''[]'') FROM w',
                     target, upd_cols, vals)
        USING rows INTO result;
    END IF;
  WHEN 'delete' THEN
    EXECUTE format('WITH w AS (DELETE FROM %1$s t WHERE t.id IN (SELECT r.id FROM '
                   'jsonb_populate_recordset(NULL::%1$s, $1) r) RETURNING t.*) '
                   'SELECT coalesce(jsonb_agg(to_jsonb(w)), ''[]'') FROM w', target)
      USING rows INTO result;
  WHEN 'confirm' THEN
    EXECUTE format('DELETE FROM %1$s t WHERE t.id IN (SELECT x ->> ''_replaces'' FROM '
                   'jsonb_array_elements($1) x WHERE x ? ''_replaces'')', target)
      USING rows;
    EXECUTE format('INSERT INTO %1$s AS t (%2$s) SELECT %2$s FROM '
                   'jsonb_populate_recordset(NULL::%1$s, $1) ON CONFLICT (id) DO UPDATE SET %3$s '
                   'WHERE t._modstamp_ms <= excluded._modstamp_ms', target, cols, sets)
      USING rows;
    EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(t)), ''[]'') FROM %1$s t WHERE t.id IN '
                   '(SELECT r.id FROM jsonb_populate_recordset(NULL::%1$s, $1) r)', target)
      USING rows INTO result;
  WHEN 'tombstone' THEN
    EXECUTE format('INSERT INTO %1$s AS t (object, id, modstamp_ms) SELECT $2, r.id, '
                   'r._modstamp_ms FROM jsonb_populate_recordset(NULL::%2$s, $1) r '
                   'ON CONFLICT (object, id) DO UPDATE SET modstamp_ms = '
                   'greatest(t.modstamp_ms, excluded.modstamp_ms)', tombstones, target)
      USING rows, obj;
  WHEN 'lock' THEN
    NULL;
  ELSE
    RAISE EXCEPTION 'pending_write: unknown operation %', op USING ERRCODE = '22023';
  END CASE;
  IF op = 'lock' THEN
    EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(l)), ''[]'') FROM (SELECT * FROM %1$s t '
                   'WHERE t.id IN (SELECT r.id FROM jsonb_populate_recordset(NULL::%1$s, $1) r) '
                   'FOR UPDATE) l', target)
      USING rows INTO result;
  END IF;
  PERFORM set_config('sfbridge.pending_write', 'off', true);
  RETURN result;
END
$fn$;
REVOKE ALL ON FUNCTION sfbridge.pending_write(text, regclass, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sfbridge.pending_write(text, regclass, text, jsonb) TO PUBLIC;
)sql";

// A trigger function: it cannot be called directly, so EXECUTE stays PUBLIC's (creating the
// trigger needs it).
constexpr std::string_view kCheck = R"sql(
CREATE OR REPLACE FUNCTION sfbridge.pending_write_check()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM sfbridge.pending_marks WHERE backend_pid = pg_backend_pid()) THEN
    RAISE EXCEPTION 'a write to synced table % is not confirmed by Salesforce', TG_TABLE_NAME
      USING ERRCODE = '42501',
            DETAIL = 'A transaction with writes Salesforce has not accepted cannot commit.',
            HINT = 'Write synced tables through the sfbridge proxy, and let it end the transaction.';
  END IF;
  RETURN NULL;
END
$fn$;
)sql";

constexpr std::string_view kSchemaUsage = "GRANT USAGE ON SCHEMA sfbridge TO PUBLIC;";

// Creates or replaces a function, unless another role owns it (it was installed by another
// role, e.g. before ownership of the schema's tables was handed to this one): that version is
// left as it is rather than failing the writer.
absl::Status CreateOwnFunction(postgres::Transaction& tx, std::string_view signature,
                               std::string_view sql) {
  absl::StatusOr<postgres::QueryResult> mine = tx.Exec(
      "SELECT p.oid IS NULL OR pg_has_role(p.proowner, 'USAGE') FROM "
      "(SELECT to_regprocedure($1)::oid AS oid) f LEFT JOIN pg_catalog.pg_proc p ON p.oid = f.oid",
      {std::string(signature)});
  if (!mine.ok()) return mine.status();
  if (mine->rows.empty() || mine->rows[0][0] != "t") return absl::OkStatus();
  return tx.Exec(sql).status();
}

}  // namespace

absl::Status EnsurePendingWriteFunction(postgres::Transaction& tx) {
  if (absl::Status st = tx.Exec(kSecret).status(); !st.ok()) return st;
  if (absl::Status st = tx.Exec(kSecretRow).status(); !st.ok()) return st;
  if (absl::Status st = CreateOwnFunction(tx, "sfbridge.pending_write(text, regclass, text, jsonb)",
                                          kPendingWrite);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = CreateOwnFunction(tx, "sfbridge.pending_write_check()", kCheck); !st.ok()) {
    return st;
  }
  return tx.Exec(kSchemaUsage).status();
}

absl::Status EnsurePendingWriteTrigger(postgres::Transaction& tx,
                                       const std::string& qualified_table) {
  return tx
      .Exec(core::StrCat(
          "DO $sfbridge$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = ",
          tx.QuoteLiteral(qualified_table),
          "::regclass AND tgname = 'sfbridge_pending_write') THEN "
          "CREATE CONSTRAINT TRIGGER sfbridge_pending_write AFTER INSERT OR UPDATE OR DELETE ON ",
          qualified_table,
          " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
          "WHEN (current_setting('sfbridge.pending_write', true) = 'on') "
          "EXECUTE FUNCTION sfbridge.pending_write_check(); END IF; END $sfbridge$"))
      .status();
}

}  // namespace sfbridge::writer
