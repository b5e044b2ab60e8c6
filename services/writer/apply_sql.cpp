#include "writer/apply_sql.h"

#include "common/core/strings.h"

namespace sfbridge::writer {

using core::StrAppend;
using core::StrCat;

std::vector<std::string> CopyColumns(const TableRef& t) {
  std::vector<std::string> names = {"id", "_modstamp_ms"};
  names.insert(names.end(), t.qcolumns.begin(), t.qcolumns.end());
  return names;
}

std::string LockSql(const std::string& qtable, const std::string& qtable_literal) {
  return StrCat("LOCK TABLE ", qtable,
                " IN ROW EXCLUSIVE MODE; SELECT pg_advisory_xact_lock(hashtextextended(",
                qtable_literal, ", ", std::to_string(kApplyLockSeed), ")); ");
}

std::string RegisteredSql(const std::string& org_id, const std::string& object,
                          const std::string& schema, const std::string& table) {
  return StrCat("st.org_id = ", org_id, " AND st.object_name = ", object,
                " AND st.schema_name = ", schema, " AND st.table_name = ", table);
}

std::string ProbeSql(const std::string& qtable, const std::string& qtomb, const std::string& object,
                     const std::string& ids) {
  return StrCat("SELECT id, row_ms, tomb_ms, NULL FROM (SELECT l.id, (SELECT t._modstamp_ms FROM ",
                qtable, " t WHERE t.id = l.id) AS row_ms, CASE WHEN (SELECT EXISTS (SELECT 1 FROM ",
                qtomb, " WHERE object = ", object, ")) THEN (SELECT tb.modstamp_ms FROM ", qtomb,
                " tb WHERE tb.object = ", object, " AND tb.id = l.id) END AS tomb_ms FROM unnest(",
                ids,
                "::text[]) AS l(id) OFFSET 0) x WHERE row_ms IS NOT NULL OR tomb_ms IS NOT NULL");
}

std::string LooksFreshSql(const std::string& qtable, const std::string& qtomb) {
  return StrCat("SELECT NOT EXISTS (SELECT 1 FROM ", qtomb,
                " WHERE object = $1) AND NOT EXISTS (SELECT 1 FROM ", qtable,
                " WHERE id = ANY ($2::text[]))");
}

std::vector<size_t> KeptFields(const TableRef& t, const std::string* mask) {
  std::vector<size_t> kept = {0, 1};
  for (size_t col = 0; mask != nullptr && col < t.columns.size(); ++col) {
    if ((*mask)[col] == '1') kept.push_back(col + 2);
  }
  return kept;
}

const std::string& CastOf(const TableRef& t, size_t field) {
  static const std::string kText = "text", kBigint = "bigint";
  return field == 0 ? kText : field == 1 ? kBigint : t.columns[field - 2].base_type;
}

std::string SourceNames(const TableRef& t, const std::string* mask) {
  std::string names = "id, _modstamp_ms";
  for (size_t f : KeptFields(t, mask)) {
    if (f >= 2) StrAppend(&names, ", ", t.qcolumns[f - 2]);
  }
  return names;
}

std::string ValuesSource(const TableRef& t, const std::string& rows, const std::string* mask) {
  return StrCat("(VALUES ", rows, ") AS s(", SourceNames(t, mask), ")");
}

std::string UpsertSql(const TableRef& t, const std::string& mask, std::string_view source,
                      std::string_view filter) {
  std::string names, values, sets;
  for (size_t col = 0; col < t.columns.size(); ++col) {
    if (mask[col] != '1') continue;
    const std::string& q = t.qcolumns[col];
    StrAppend(&names, ", ", q);
    StrAppend(&values, ", s.", q);
    StrAppend(&sets, ", ", q, " = excluded.", q);
  }
  return StrCat("INSERT INTO ", t.qtable, " AS t (id, _modstamp_ms", names, ") ",
                "SELECT s.id, s._modstamp_ms", values, " FROM ", source, " WHERE ", filter,
                "NOT EXISTS (SELECT 1 FROM ", t.qtomb, " tb WHERE tb.object = ", t.object_sql,
                " AND tb.id = s.id AND tb.modstamp_ms >= s._modstamp_ms) ",
                "ON CONFLICT (id) DO UPDATE SET _modstamp_ms = excluded._modstamp_ms, "
                "_synced_at = now()",
                sets, " WHERE excluded._modstamp_ms >= t._modstamp_ms");
}

std::string DeleteRowsSql(const TableRef& t, std::string_view source, std::string_view filter) {
  return StrCat("DELETE FROM ", t.qtable, " t USING ", source, " WHERE ", filter,
                "t.id = s.id AND t._modstamp_ms <= s._modstamp_ms RETURNING t.id");
}

std::string TombstonesSql(const TableRef& t, std::string_view source, std::string_view filter) {
  return StrCat("INSERT INTO ", t.qtomb, " AS tb (object, id, modstamp_ms) SELECT ", t.object_sql,
                ", s.id, s._modstamp_ms FROM ", source, " WHERE ", filter,
                "true ON CONFLICT (object, id) DO UPDATE SET "
                "modstamp_ms = excluded.modstamp_ms, deleted_at = now() "
                "WHERE excluded.modstamp_ms > tb.modstamp_ms");
}

std::string DeleteSql(const TableRef& t, std::string_view source, std::string_view filter) {
  return StrCat("WITH gone AS (", DeleteRowsSql(t, source, filter), ") ",
                TombstonesSql(t, source, filter));
}

std::string OneRoundTripSql(const TableRef& t, const std::string& lock,
                            const std::string& current_layout, const std::string& rows,
                            const std::string* mask) {
  // What was stored is read from the statement's snapshot, before its own writes.
  const std::string current = "EXISTS (SELECT 1 FROM v) AND ";
  std::string sql =
      StrCat(lock, "WITH v AS (SELECT 1 FROM sfbridge.synced_tables st WHERE ", current_layout,
             "), s(", SourceNames(t, mask), ") AS (VALUES ", rows,
             "), before AS (SELECT s.id, (SELECT t._modstamp_ms FROM ", t.qtable,
             " t WHERE t.id = s.id) AS row_ms, (SELECT tb.modstamp_ms FROM ", t.qtomb,
             " tb WHERE tb.object = ", t.object_sql, " AND tb.id = s.id) AS tomb_ms FROM s), ");
  if (mask == nullptr) {
    StrAppend(&sql, "gone AS (", DeleteRowsSql(t, "s", current), "), w AS (",
              TombstonesSql(t, "s", current), " RETURNING 1) ");
  } else {
    StrAppend(&sql, "w AS (", UpsertSql(t, *mask, "s", current), " RETURNING 1) ");
  }
  StrAppend(&sql,
            "SELECT b.id, b.row_ms, b.tomb_ms, EXISTS (SELECT 1 FROM v), "
            "(SELECT count(*) FROM w) FROM before b");
  return sql;
}

std::string StagingSql(const std::string& stage, const std::vector<std::string>& qcolumns_typed) {
  // CREATE TEMP TABLE IF NOT EXISTS would otherwise send a NOTICE every batch.
  std::string ddl =
      StrCat("SET LOCAL client_min_messages = warning; CREATE TEMP TABLE IF NOT EXISTS ", stage,
             " (id text, _modstamp_ms bigint");
  for (const std::string& c : qcolumns_typed) StrAppend(&ddl, ", ", c);
  StrAppend(&ddl, ", _deleted boolean, _group integer) ON COMMIT DELETE ROWS; TRUNCATE ", stage);
  return ddl;
}

}  // namespace sfbridge::writer
