#include "writer/apply.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/postgres/copy_format.h"
#include "writer/naming.h"
#include "writer/table_schema.h"
#include "writer/values.h"

namespace sfbridge::writer {
namespace {

using core::StrAppend;
using core::StrCat;
using postgres::Transaction;

// The changes of one call, by index, as views (record_view.h), whoever holds their bytes.
class ChangeList {
 public:
  explicit ChangeList(const std::vector<ChangeView>& views) : views_(views) {}
  const ChangeView& operator[](size_t i) const { return views_[i]; }
  size_t size() const { return views_.size(); }
  bool empty() const { return views_.empty(); }

 private:
  const std::vector<ChangeView>& views_;
};

struct Column {
  const std::string* field;  // API name
  std::string name;          // unquoted
  std::string type;
  std::string base_type;  // without a type modifier: what a parameter is cast to
  ColumnKind kind;
};

// One change rendered as a COPY line of the staging layout:
//   id, _modstamp_ms, every column (absent ones \N) | _deleted, _group
// where [begin, body_end) is also a line of the table's own layout (id, _modstamp_ms, columns).
struct Line {
  uint32_t begin = 0, body_end = 0, end = 0;  // end is past the '\n'
  int group = -1;                             // field set; -1 for a deletion
};

// {"a","b"}: a text[] literal in which any text survives.
std::string TextArray(const std::vector<std::string_view>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

void AppendInt(std::string& out, int64_t v) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), v);
  out.append(digits, end);
}

void AppendCopyText(std::string& out, std::string_view text) {
  if (text.find_first_of("\\\t\n\r") == std::string::npos) {
    out.append(text);
  } else {
    postgres::AppendCopyField(out, std::string(text));
  }
}

// API field name -> column index: open addressing over a power-of-two table with FNV-1a, which
// is several times cheaper per lookup than std::unordered_map for names this short, and the
// lookup runs once per field of every change.
class FieldIndex {
 public:
  void Add(std::string_view name, int column) {
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    Insert(name, column);
    ++count_;
  }
  // -1 when `name` has no column.
  int Find(std::string_view name) const {
    if (slots_.empty()) return -1;
    for (size_t i = Hash(name) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.column < 0) return -1;
      if (s.name == name) return s.column;
    }
  }

 private:
  struct Slot {
    std::string_view name;
    int column = -1;
  };
  static size_t Hash(std::string_view s) {
    uint64_t h = 14695981039346656037ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
  void Insert(std::string_view name, int column) {
    for (size_t i = Hash(name) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].column < 0) {
        slots_[i] = Slot{name, column};
        return;
      }
    }
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.column >= 0) Insert(s.name, s.column);
    }
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0, count_ = 0;
};

// What the table holds for a record before this call (from the probe).
struct Stored {
  std::optional<int64_t> row_ms, tomb_ms;
};

// Every change rendered into one buffer. Changes that cannot be applied are parked here and
// take no part in choosing the newest version.
struct Rendering {
  std::string buf;
  std::vector<Line> lines;                             // by position in `indexes`
  std::vector<bool> valid;                             // false: parked
  std::vector<std::pair<size_t, std::string>> parked;  // position, reason
  std::map<std::string, int> groups;                   // present-column mask ('0'/'1') -> group
};

// Touches nothing but its arguments and its result: safe on another thread.
Rendering Render(const ChangeList& changes, const std::vector<size_t>& indexes,
                 const std::vector<Column>& columns, const FieldIndex& by_field,
                 std::string_view object) {
  Rendering out;
  std::string& buf = out.buf;
  buf.reserve(indexes.size() * (32 + columns.size() * 12));
  out.lines.resize(indexes.size());
  out.valid.assign(indexes.size(), false);
  std::string mask;
  std::vector<const FieldView*> slots(columns.size());
  for (size_t k = 0; k < indexes.size(); ++k) {
    const ChangeView& c = changes[indexes[k]];
    if (c.record_id().empty()) {
      out.parked.emplace_back(k, "empty record_id");
      continue;
    }
    if (c.system_modstamp_ms() <= 0) {
      out.parked.emplace_back(k, "no SystemModstamp");
      continue;
    }
    Line& line = out.lines[k];
    line.begin = buf.size();
    AppendCopyText(buf, c.record_id());
    buf.push_back('\t');
    AppendInt(buf, c.system_modstamp_ms());
    std::string reason;
    if (c.deleted()) {
      for (size_t col = 0; col < columns.size(); ++col) buf.append("\t\\N");
    } else {
      mask.assign(columns.size(), '0');
      std::fill(slots.begin(), slots.end(), nullptr);
      // A name listed twice: the later entry counts, as in the map.
      for (const FieldEntry& f : c.fields()) {
        if (int col = by_field.Find(f.name); col >= 0) {
          slots[col] = &f.value;
        } else if (f.name != "Id") {
          reason = StrCat("unknown field ", f.name, " of ", object);
          break;
        }
      }
      for (size_t col = 0; col < columns.size() && reason.empty(); ++col) {
        buf.push_back('\t');
        if (!slots[col]) {
          buf.append("\\N");
          continue;
        }
        mask[col] = '1';
        absl::Status s = AppendCopyValue(buf, *slots[col], columns[col].kind);
        if (!s.ok())
          reason = StrCat("field ", *columns[col].field, " of ", object, ": ", s.message());
      }
      if (reason.empty()) {
        line.group =
            out.groups.try_emplace(mask, static_cast<int>(out.groups.size())).first->second;
      }
    }
    if (!reason.empty()) {
      buf.resize(line.begin);
      out.parked.emplace_back(k, std::move(reason));
      continue;
    }
    line.body_end = buf.size();
    buf.append(c.deleted() ? "\tt\t\\N\n" : "\tf\t");
    if (!c.deleted()) {
      AppendInt(buf, line.group);
      buf.push_back('\n');
    }
    line.end = buf.size();
    out.valid[k] = true;
  }
  return out;
}

// What one round trip learned, under the locks it took.
struct Probed {
  std::optional<std::string> version;  // of the object's synced_tables row; none: unregistered
  std::unordered_map<std::string, Stored> stored;  // ids with neither row nor tombstone absent
};

// The query for what the table and the tombstones hold for `ids`: rows (id, row_ms, tomb_ms,
// NULL), none for ids with neither. Correlated subqueries are always index lookups, one per id,
// whatever the planner would guess about a join against the array (a sequential scan of the
// table, at worst). The tombstones are only looked at when the object has any.
std::string ProbeSql(const Transaction& tx, const std::string& qtable, const std::string& qtomb,
                     std::string_view object, const std::vector<std::string_view>& ids) {
  const std::string lobject = tx.QuoteLiteral(object);
  return StrCat("SELECT id, row_ms, tomb_ms, NULL FROM (SELECT l.id, (SELECT t._modstamp_ms FROM ",
                qtable, " t WHERE t.id = l.id) AS row_ms, CASE WHEN (SELECT EXISTS (SELECT 1 FROM ",
                qtomb, " WHERE object = ", lobject, ")) THEN (SELECT tb.modstamp_ms FROM ", qtomb,
                " tb WHERE tb.object = ", lobject, " AND tb.id = l.id) END AS tomb_ms FROM unnest(",
                tx.QuoteLiteral(TextArray(ids)),
                "::text[]) AS l(id) OFFSET 0) x WHERE row_ms IS NOT NULL OR tomb_ms IS NOT NULL");
}

// One simple query, so one round trip: takes the table lock the writes need anyway (ROW
// EXCLUSIVE: a concurrent EnsureTable (ACCESS EXCLUSIVE) either finished before or waits until
// this transaction ends) and the table's advisory lock (writers of one table take turns, so what
// is read next stays true until commit), then reads the layout's version and what the table and
// the tombstones hold for `ids`.
absl::StatusOr<Probed> LockAndProbe(Transaction& tx, const std::string& qtable,
                                    const std::string& qtomb, const std::string& schema,
                                    const std::string& table, const std::string& org_id,
                                    const std::string& object,
                                    const std::vector<std::string_view>& ids) {
  const std::string lobject = tx.QuoteLiteral(object);
  std::string sql = StrCat(
      "LOCK TABLE ", qtable,
      " IN ROW EXCLUSIVE MODE; SELECT pg_advisory_xact_lock(hashtextextended(",
      tx.QuoteLiteral(qtable), ", ", std::to_string(kApplyLockSeed), ")); ",
      "SELECT NULL::text, NULL::bigint, NULL::bigint, st.xmin::text FROM sfbridge.synced_tables st "
      "WHERE st.org_id = ",
      tx.QuoteLiteral(org_id), " AND st.object_name = ", lobject,
      " AND st.schema_name = ", tx.QuoteLiteral(schema),
      " AND st.table_name = ", tx.QuoteLiteral(table));
  if (!ids.empty()) StrAppend(&sql, " UNION ALL ", ProbeSql(tx, qtable, qtomb, object, ids));
  auto r = tx.Exec(sql);
  if (!r.ok()) return r.status();
  Probed out;
  for (const auto& row : r->rows) {
    if (!row[0]) {
      out.version = row[3];
      continue;
    }
    Stored& s = out.stored[*row[0]];
    if (row[1]) s.row_ms = std::stoll(*row[1]);
    if (row[2]) s.tomb_ms = std::stoll(*row[2]);
  }
  return out;
}

// The probe alone, under locks the caller already holds.
absl::StatusOr<std::unordered_map<std::string, Stored>> ProbeStored(
    Transaction& tx, const std::string& qtable, const std::string& qtomb, std::string_view object,
    const std::vector<std::string_view>& ids) {
  std::unordered_map<std::string, Stored> stored;
  if (ids.empty()) return stored;
  auto r = tx.Exec(ProbeSql(tx, qtable, qtomb, object, ids));
  if (!r.ok()) return r.status();
  for (const auto& row : r->rows) {
    Stored& s = stored[*row[0]];
    if (row[1]) s.row_ms = std::stoll(*row[1]);
    if (row[2]) s.tomb_ms = std::stoll(*row[2]);
  }
  return stored;
}

std::vector<const v1::RecordChange*> Pointers(const std::vector<v1::RecordChange>& changes) {
  std::vector<const v1::RecordChange*> pointers;
  pointers.reserve(changes.size());
  for (const v1::RecordChange& c : changes) pointers.push_back(&c);
  return pointers;
}

// A table's columns as Render and the writes use them; refers into `mapping`.
struct Layout {
  explicit Layout(const TableMapping& mapping) {
    for (const auto& [field, info] : mapping.fields) {
      if (field == "Id") continue;
      by_field.Add(field, static_cast<int>(columns.size()));
      columns.push_back(Column{&field, info.column, info.type, info.base_type, KindOf(info.type)});
    }
  }
  std::vector<Column> columns;
  FieldIndex by_field;
};

// Up to ApplyOptions::few_changes changes of an object (and this many parameters) are written
// with plain statements (WriteFew); more go through COPY and staging (WriteMany), which costs a
// few more round trips and a TEMP table's file operations but scales.
inline constexpr size_t kMaxParameters = 30'000;

bool IsSmall(const ApplyOptions& options, size_t changes, size_t columns) {
  return changes <= options.few_changes && changes * (columns + 2) <= kMaxParameters;
}

// The winners to write, as positions into the rendering.
struct Writes {
  std::vector<size_t> fresh;    // no row and no tombstone at or after the version
  std::vector<size_t> upserts;  // newer than the stored row
  std::vector<size_t> deletes;  // every winning deletion (a stale one still records its tombstone)
};

struct TableRef {
  const std::string& qtable;
  const std::string& qtomb;
  const std::string& object;
  std::string object_sql;  // how the statements name the object: "$1" or a literal
  const std::vector<Column>& columns;
  std::vector<std::string> qcolumns;  // the columns' names quoted
};

// The table's own COPY layout: id, _modstamp_ms, then every column.
std::vector<std::string> CopyColumns(const TableRef& t) {
  std::vector<std::string> names = {"id", "_modstamp_ms"};
  names.insert(names.end(), t.qcolumns.begin(), t.qcolumns.end());
  return names;
}

// The LayoutCache key of an object.
std::string LayoutKey(std::string_view schema, std::string_view org_id, std::string_view object) {
  return StrCat(schema, "\n", org_id, "\n", object);
}

// INSERT ... ON CONFLICT of the rows `source` yields (columns id, _modstamp_ms and those of
// `mask`, as s.*) with the version guards: not at or before a tombstone, not older than the row.
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

// Deleting the rows `source` names (s.id, s._modstamp_ms) unless they are newer ...
std::string DeleteRowsSql(const TableRef& t, std::string_view source, std::string_view filter) {
  return StrCat("DELETE FROM ", t.qtable, " t USING ", source, " WHERE ", filter,
                "t.id = s.id AND t._modstamp_ms <= s._modstamp_ms RETURNING t.id");
}
// ... and moving their tombstones forward.
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

absl::Status CheckUpserted(int64_t upserted, int64_t expected) {
  if (upserted == expected) return absl::OkStatus();
  return absl::AbortedError(StrCat("expected to write ", expected, " rows, wrote ", upserted,
                                   ": the table changed under the batch; retry"));
}

// The fields of a rendered line back as parameters: COPY text unescaped, \N as NULL.
std::vector<postgres::Value> LineFields(std::string_view line) {
  std::vector<postgres::Value> fields;
  size_t pos = 0;
  while (true) {
    const size_t tab = std::min(line.find('\t', pos), line.size());
    const std::string_view f = line.substr(pos, tab - pos);
    if (f == "\\N") {
      fields.emplace_back(std::nullopt);
    } else {
      std::string text;
      text.reserve(f.size());
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '\\' || i + 1 == f.size()) {
          text.push_back(f[i]);
          continue;
        }
        const char e = f[++i];
        text.push_back(e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e);
      }
      fields.emplace_back(std::move(text));
    }
    if (tab == line.size()) return fields;
    pos = tab + 1;
  }
}

// A few changes: one parameterized statement per field set and one for the deletions, straight
// against the table.
absl::Status WriteFew(Transaction& tx, const TableRef& t, const Rendering& rendering,
                      const Writes& writes) {
  auto line_fields = [&](size_t k) {
    const Line& line = rendering.lines[k];
    return LineFields(
        std::string_view(rendering.buf).substr(line.begin, line.body_end - line.begin));
  };
  std::map<int, std::vector<size_t>> by_group;
  for (const auto* list : {&writes.fresh, &writes.upserts}) {
    for (size_t k : *list) by_group[rendering.lines[k].group].push_back(k);
  }
  for (const auto& [mask, group] : rendering.groups) {
    auto it = by_group.find(group);
    if (it == by_group.end()) continue;
    postgres::Params params = {t.object};
    std::string rows, names = "id, _modstamp_ms";
    for (size_t col = 0; col < t.columns.size(); ++col) {
      if (mask[col] == '1') StrAppend(&names, ", ", t.qcolumns[col]);
    }
    for (size_t k : it->second) {
      std::vector<postgres::Value> fields = line_fields(k);
      StrAppend(&rows, rows.empty() ? "(" : ", (");
      for (size_t f = 0; f < fields.size(); ++f) {
        if (f >= 2 && mask[f - 2] != '1') continue;
        params.push_back(std::move(fields[f]));
        const std::string& type = f == 0 ? "text" : f == 1 ? "bigint" : t.columns[f - 2].base_type;
        StrAppend(&rows, f == 0 ? "$" : ", $", std::to_string(params.size()), "::", type);
      }
      rows.push_back(')');
    }
    auto r =
        tx.Exec(UpsertSql(t, mask, StrCat("(VALUES ", rows, ") AS s(", names, ")"), ""), params);
    if (!r.ok()) return r.status();
    if (absl::Status s = CheckUpserted(r->affected_rows, static_cast<int64_t>(it->second.size()));
        !s.ok()) {
      return s;
    }
  }
  if (!writes.deletes.empty()) {
    postgres::Params params = {t.object};
    std::string rows;
    for (size_t k : writes.deletes) {
      std::vector<postgres::Value> fields = line_fields(k);
      params.push_back(std::move(fields[0]));
      params.push_back(std::move(fields[1]));
      StrAppend(&rows, rows.empty() ? "" : ", ", "($", std::to_string(params.size() - 1),
                "::text, $", std::to_string(params.size()), "::bigint)");
    }
    const std::string source = StrCat("(VALUES ", rows, ") AS s(id, _modstamp_ms)");
    if (absl::Status s = tx.Exec(DeleteSql(t, source, ""), params).status(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Many changes: new rows COPYed straight into the table, the rest through a TEMP staging table.
absl::Status WriteMany(Transaction& tx, const TableRef& t, Rendering& rendering,
                       const Writes& writes) {
  const std::string& buf = rendering.buf;
  std::string fresh, staged;
  for (size_t k : writes.fresh) {
    const Line& line = rendering.lines[k];
    fresh.append(buf, line.begin, line.body_end - line.begin);
    fresh.push_back('\n');
  }
  std::set<int> staged_groups;
  for (const auto* list : {&writes.upserts, &writes.deletes}) {
    for (size_t k : *list) {
      const Line& line = rendering.lines[k];
      staged.append(buf, line.begin, line.end - line.begin);
      if (line.group >= 0) staged_groups.insert(line.group);
    }
  }
  std::string().swap(rendering.buf);  // the lines now live in `fresh` and `staged`

  const std::vector<std::string> table_columns = CopyColumns(t);
  if (!fresh.empty()) {
    // No row and no tombstone at or after this version: a plain COPY is exactly the insert.
    if (absl::Status s = tx.CopyIn(t.qtable, table_columns, fresh); !s.ok()) return s;
  }
  if (staged.empty()) return absl::OkStatus();
  // Staging: a TEMP table of the table's layout, one per layout and connection.
  std::string layout = t.qtable;
  for (const Column& col : t.columns) StrAppend(&layout, "|", col.name, " ", col.type);
  const std::string stage =
      StrCat("pg_temp.", tx.QuoteName("sfbridge_stage_" + StableHash(layout)));
  // CREATE TEMP TABLE IF NOT EXISTS would otherwise send a NOTICE every batch.
  std::string ddl = StrCat(
      "SET LOCAL client_min_messages = warning; CREATE TEMP TABLE IF NOT "
      "EXISTS ",
      stage, " (id text, _modstamp_ms bigint");
  for (const Column& col : t.columns) StrAppend(&ddl, ", ", tx.QuoteName(col.name), " ", col.type);
  StrAppend(&ddl, ", _deleted boolean, _group integer) ON COMMIT DELETE ROWS; TRUNCATE ", stage);
  if (absl::Status s = tx.Exec(ddl).status(); !s.ok()) return s;
  std::vector<std::string> stage_columns = table_columns;
  stage_columns.push_back("_deleted");
  stage_columns.push_back("_group");
  if (absl::Status s = tx.CopyIn(stage, stage_columns, staged); !s.ok()) return s;

  // The version guards are repeated in SQL, so the statements are right on their own.
  const std::string source = StrCat(stage, " s");
  int64_t upserted = 0;
  for (const auto& [mask, group] : rendering.groups) {
    if (!staged_groups.contains(group)) continue;
    auto r =
        tx.Exec(UpsertSql(t, mask, source, StrCat("s._group = ", std::to_string(group), " AND ")),
                {t.object});
    if (!r.ok()) return r.status();
    upserted += r->affected_rows;
  }
  if (absl::Status s = CheckUpserted(upserted, static_cast<int64_t>(writes.upserts.size()));
      !s.ok()) {
    return s;
  }
  if (writes.deletes.empty()) return absl::OkStatus();
  return tx.Exec(DeleteSql(t, source, "s._deleted AND "), {t.object}).status();
}

// The newest version of each record: highest modstamp, then a deletion, then the later one.
struct Winners {
  std::unordered_map<std::string_view, size_t> of;  // record id -> position of its winner
  std::vector<size_t> list;                         // positions, in order
};

Winners ChooseWinners(const ChangeList& changes, const std::vector<size_t>& indexes,
                      const std::vector<bool>& valid) {
  Winners w;
  w.of.reserve(indexes.size());
  for (size_t k = 0; k < indexes.size(); ++k) {
    if (!valid[k]) continue;
    const ChangeView& c = changes[indexes[k]];
    auto [it, inserted] = w.of.try_emplace(c.record_id(), k);
    if (inserted) continue;
    const ChangeView& best = changes[indexes[it->second]];
    if (std::make_pair(c.system_modstamp_ms(), c.deleted()) >=
        std::make_pair(best.system_modstamp_ms(), best.deleted())) {
      it->second = k;
    }
  }
  w.list.reserve(w.of.size());
  for (size_t k = 0; k < indexes.size(); ++k) {
    if (valid[k] && w.of.at(changes[indexes[k]].record_id()) == k) w.list.push_back(k);
  }
  return w;
}

// Decides each winner from what is stored (its outcome, counted in `os`): new rows, newer
// versions of stored rows and deletions are to be written, the rest is stale.
Writes Decide(const ChangeList& changes, const std::vector<size_t>& indexes, const Winners& winners,
              const std::unordered_map<std::string, Stored>& stored, ApplyStats& stats,
              ObjectStats& os) {
  Writes writes;
  for (size_t k : winners.list) {
    const ChangeView& c = changes[indexes[k]];
    const int64_t ms = c.system_modstamp_ms();
    RecordOutcome& out = stats.outcomes[indexes[k]];
    auto it = stored.find(std::string(c.record_id()));
    const Stored s = it == stored.end() ? Stored{} : it->second;
    if (c.deleted()) {
      if (s.row_ms && *s.row_ms > ms) {
        out = RecordOutcome{Outcome::kStale, *s.row_ms, ""};
        ++os.stale;
      } else if (s.tomb_ms && *s.tomb_ms > ms) {
        out = RecordOutcome{Outcome::kStale, *s.tomb_ms, ""};
        ++os.stale;
      } else {
        out = RecordOutcome{Outcome::kApplied, ms, ""};
        ++os.deleted;
      }
      // A stale deletion still records its tombstone (it never moves one back): Salesforce did
      // delete the record at that version.
      writes.deletes.push_back(k);
      continue;
    }
    if ((s.row_ms && *s.row_ms > ms) || (s.tomb_ms && *s.tomb_ms >= ms)) {
      out = RecordOutcome{Outcome::kStale, s.row_ms ? *s.row_ms : *s.tomb_ms, ""};
      ++os.stale;
      continue;
    }
    out = RecordOutcome{Outcome::kApplied, ms, ""};
    ++os.applied;
    (s.row_ms ? writes.upserts : writes.fresh).push_back(k);
  }
  return writes;
}

// Versions that lost to a newer one of the same call are stale at what their winner left.
void MarkLosers(const ChangeList& changes, const std::vector<size_t>& indexes,
                const std::vector<bool>& valid, const Winners& winners, ApplyStats& stats,
                ObjectStats& os) {
  for (size_t k = 0; k < indexes.size(); ++k) {
    if (!valid[k]) continue;
    const size_t w = winners.of.at(changes[indexes[k]].record_id());
    if (w == k) continue;
    stats.outcomes[indexes[k]] =
        RecordOutcome{Outcome::kStale, stats.outcomes[indexes[w]].stored_modstamp_ms, ""};
    ++os.stale;
  }
}

// Fresh-first. A backfill (and any batch of records new to the table) needs no probe: when the
// object has no tombstone, a record with no row is simply inserted, so the batch can be COPYed
// straight into the table under a savepoint, and the primary key tells whether any record did
// have a row (unique_violation: the savepoint is rolled back and the batch takes the probe path).
// Correctness never depends on choosing right; only the cost does. Tables whose fresh-first
// COPY met a stored row probe first for their next kProbeFirstCalls calls, and a sample of the
// batch's ids is looked up before trying (a replayed or updating batch mostly holds stored ids).
constexpr int kProbeFirstCalls = 20;
constexpr size_t kFreshSample = 16;

// Per table (schema-qualified name): calls left that probe first. A hint shared by the process's
// connections; thread-safe.
class ProbeFirstHints {
 public:
  bool ProbeFirst(const std::string& qtable) {
    std::lock_guard lock(mu_);
    auto it = left_.find(qtable);
    if (it == left_.end()) return false;
    if (--it->second <= 0) left_.erase(it);
    return true;
  }
  void Missed(const std::string& qtable) {
    std::lock_guard lock(mu_);
    left_[qtable] = kProbeFirstCalls;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int> left_;
};

ProbeFirstHints& Hints() {
  static ProbeFirstHints* hints = new ProbeFirstHints;
  return *hints;
}

// True when the object has no tombstone and no id of `sample` has a row: worth trying
// fresh-first.
absl::StatusOr<bool> LooksFresh(Transaction& tx, const std::string& qtable,
                                const std::string& qtomb, std::string_view object,
                                const std::vector<std::string_view>& ids) {
  std::vector<std::string_view> sample;
  const size_t step = std::max<size_t>(1, ids.size() / kFreshSample);
  for (size_t i = 0; i < ids.size(); i += step) sample.push_back(ids[i]);
  if (!ids.empty() && sample.back() != ids.back()) sample.push_back(ids.back());
  auto r = tx.Exec(StrCat("SELECT NOT EXISTS (SELECT 1 FROM ", qtomb,
                          " WHERE object = $1) AND NOT EXISTS (SELECT 1 FROM ", qtable,
                          " WHERE id = ANY ($2::text[]))"),
                   {std::string(object), TextArray(sample)});
  if (!r.ok()) return r.status();
  return r->rows.at(0).at(0) == "t";
}

// Fresh-first: renders the changes at `indexes` (no deletion, no record twice) in chunks on a
// helper thread and streams them, as they are made, into one COPY straight into the table under
// a savepoint. `parked` gets the changes that cannot be applied (positions in `indexes`); every
// other one is written. False, with the savepoint rolled back, when a record had a row after all.
constexpr size_t kStreamChunk = 500;

absl::StatusOr<bool> StreamFreshFirst(Transaction& tx, const std::string& qtable,
                                      const std::vector<std::string>& table_columns,
                                      const ChangeList& changes, const std::vector<size_t>& indexes,
                                      const std::vector<Column>& columns,
                                      const FieldIndex& by_field, std::string_view object,
                                      std::vector<std::pair<size_t, std::string>>& parked) {
  if (absl::Status s = tx.Exec("SAVEPOINT sfbridge_fresh_first").status(); !s.ok()) return s;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Rendering> ready;
  bool finished = false;
  std::thread renderer([&] {
    std::vector<size_t> part;
    for (size_t begin = 0; begin < indexes.size(); begin += kStreamChunk) {
      const size_t end = std::min(indexes.size(), begin + kStreamChunk);
      part.assign(indexes.begin() + begin, indexes.begin() + end);
      Rendering r = Render(changes, part, columns, by_field, object);
      for (auto& p : r.parked) p.first += begin;
      std::lock_guard lock(mu);
      ready.push_back(std::move(r));
      cv.notify_one();
    }
    std::lock_guard lock(mu);
    finished = true;
    cv.notify_one();
  });
  absl::Status copied = tx.CopyIn(qtable, table_columns, [&](std::string& chunk) {
    Rendering r;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !ready.empty() || finished; });
      if (ready.empty()) return false;
      r = std::move(ready.front());
      ready.pop_front();
    }
    for (size_t k = 0; k < r.lines.size(); ++k) {
      if (!r.valid[k]) continue;
      chunk.append(r.buf, r.lines[k].begin, r.lines[k].body_end - r.lines[k].begin);
      chunk.push_back('\n');
    }
    for (auto& p : r.parked) parked.push_back(std::move(p));
    return true;
  });
  renderer.join();
  if (copied.code() == absl::StatusCode::kAlreadyExists) {  // unique_violation
    if (absl::Status s = tx.RollbackToSavepoint("sfbridge_fresh_first"); !s.ok()) return s;
    parked.clear();
    return false;
  }
  if (!copied.ok()) return copied;
  if (absl::Status s = tx.Exec("RELEASE SAVEPOINT sfbridge_fresh_first").status(); !s.ok()) {
    return s;
  }
  return true;
}

// Applies the changes at `indexes` (all of one org and object) and fills in their outcomes.
absl::Status ApplyObject(Transaction& tx, const std::string& schema, const ChangeList& changes,
                         const std::vector<size_t>& indexes, const ApplyOptions& options,
                         ApplyStats& stats) {
  const std::string org_id(changes[indexes[0]].org_id());
  const std::string object(changes[indexes[0]].object_name());
  ObjectStats& os = stats.objects[object];
  auto park = [&](size_t i, std::string reason) {
    stats.outcomes[i] = RecordOutcome{Outcome::kParked, 0, std::move(reason)};
    stats.parked.push_back(i);
    ++os.parked;
  };

  const std::string key = LayoutKey(schema, org_id, object);
  std::optional<LayoutCache::Entry> cached;
  if (options.layouts != nullptr) cached = options.layouts->Get(key);
  std::string table;
  if (cached) {
    table = cached->table;
  } else {
    auto name = SyncedTableName(tx, schema, org_id, object);
    if (!name.ok()) return name.status();
    if (!*name) {
      for (size_t i : indexes) {
        park(i, StrCat("unknown object ", object, ": no table in schema ", schema, " for org ",
                       org_id));
      }
      return absl::OkStatus();
    }
    table = **name;
  }
  const std::string qtable = StrCat(tx.QuoteName(schema), ".", tx.QuoteName(table));
  const std::string qtomb = StrCat(tx.QuoteName(schema), ".", tx.QuoteName(kTombstones));

  std::vector<std::string_view> ids;
  ids.reserve(indexes.size());
  bool any_deletion = false;
  for (size_t i : indexes) {
    if (!changes[i].record_id().empty() && changes[i].system_modstamp_ms() > 0) {
      ids.push_back(changes[i].record_id());
      any_deletion = any_deletion || changes[i].deleted();
    }
  }
  const size_t versions = ids.size();
  // In index order (for C-like collations), so that the lookups walk the index forward.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // Fresh-first (apply.h) needs no choice between versions (each record once) and no stored
  // state (deletions need it for their outcome and tombstone); the probe then waits for its
  // guess to fail.
  const bool fresh_first = indexes.size() > options.few_changes && !ids.empty() && !any_deletion &&
                           ids.size() == versions && !Hints().ProbeFirst(qtable);

  // Many changes are rendered on a helper thread while the server takes the locks and looks up
  // what is stored, with the cached layout when there is one (rendered again in the rare case
  // that it turns out to be stale); a few are rendered in place.
  std::shared_ptr<const TableMapping> mapping = cached ? cached->mapping : nullptr;
  std::optional<Layout> layout;
  if (mapping) layout.emplace(*mapping);
  Rendering rendering;
  bool rendered = false;
  std::thread renderer;
  if (!fresh_first && layout && !IsSmall(options, indexes.size(), layout->columns.size())) {
    rendered = true;
    renderer = std::thread(
        [&] { rendering = Render(changes, indexes, layout->columns, layout->by_field, object); });
  }
  absl::StatusOr<Probed> probed = LockAndProbe(tx, qtable, qtomb, schema, table, org_id, object,
                                               fresh_first ? std::vector<std::string_view>{} : ids);
  if (renderer.joinable()) renderer.join();
  if (!probed.ok()) return probed.status();
  if (!probed->version) {
    return absl::AbortedError(
        StrCat("table ", qtable, " is no longer registered for ", object, "; retry"));
  }
  if (!cached || cached->version != *probed->version) {
    auto loaded = LoadTableMapping(tx, schema, table, org_id, object);
    if (!loaded.ok()) return loaded.status();
    mapping = std::make_shared<const TableMapping>(*std::move(loaded));
    layout.emplace(*mapping);
    rendered = false;
    if (options.layouts != nullptr) {
      options.layouts->Put(key, LayoutCache::Entry{table, *probed->version, mapping});
    }
  }
  const std::vector<Column>& columns = layout->columns;
  const bool small = IsSmall(options, indexes.size(), columns.size());
  TableRef target{qtable, qtomb, object, "$1", columns, {}};
  for (const Column& col : columns) target.qcolumns.push_back(tx.QuoteName(col.name));
  if (fresh_first) {
    absl::StatusOr<bool> looks_fresh = LooksFresh(tx, qtable, qtomb, object, ids);
    if (!looks_fresh.ok()) return looks_fresh.status();
    if (*looks_fresh) {
      // In id order, so that the primary key grows at its right end as in a sorted load.
      std::vector<size_t> order = indexes;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return changes[a].record_id() < changes[b].record_id();
      });
      std::vector<std::pair<size_t, std::string>> parked;
      absl::StatusOr<bool> copied =
          StreamFreshFirst(tx, qtable, CopyColumns(target), changes, order, columns,
                           layout->by_field, object, parked);
      if (!copied.ok()) return copied.status();
      if (*copied) {
        for (size_t i : indexes) {
          stats.outcomes[i] = RecordOutcome{Outcome::kApplied, changes[i].system_modstamp_ms(), ""};
          ++os.applied;
        }
        for (auto& [k, reason] : parked) {
          --os.applied;
          park(order[k], std::move(reason));
        }
        return absl::OkStatus();
      }
      Hints().Missed(qtable);
    }
    auto stored = ProbeStored(tx, qtable, qtomb, object, ids);
    if (!stored.ok()) return stored.status();
    probed->stored = *std::move(stored);
  }
  if (!rendered) {
    rendering = Render(changes, indexes, columns, layout->by_field, object);
  }
  const std::unordered_map<std::string, Stored>& stored = probed->stored;
  for (auto& [k, reason] : rendering.parked) park(indexes[k], std::move(reason));
  const std::vector<bool>& valid = rendering.valid;

  const Winners winners = ChooseWinners(changes, indexes, valid);
  if (winners.list.empty()) return absl::OkStatus();
  const Writes writes = Decide(changes, indexes, winners, stored, stats, os);
  absl::Status written =
      small ? WriteFew(tx, target, rendering, writes) : WriteMany(tx, target, rendering, writes);
  if (!written.ok()) return written;

  MarkLosers(changes, indexes, valid, winners, stats, os);
  return absl::OkStatus();
}

absl::StatusOr<ApplyStats> ApplyList(Transaction& tx, const std::string& schema,
                                     const ChangeList& changes, const ApplyOptions& options) {
  ApplyStats stats;
  stats.outcomes.resize(changes.size());
  if (changes.empty()) return stats;
  // Objects in order of first appearance, so that locks are taken in a predictable order.
  std::vector<std::vector<size_t>> objects;
  std::map<std::pair<std::string_view, std::string_view>, size_t> object_of;
  for (size_t i = 0; i < changes.size(); ++i) {
    auto [it, inserted] =
        object_of.try_emplace({changes[i].org_id(), changes[i].object_name()}, objects.size());
    if (inserted) objects.emplace_back();
    objects[it->second].push_back(i);
  }
  for (const auto& indexes : objects) {
    absl::Status s = ApplyObject(tx, schema, changes, indexes, options, stats);
    if (!s.ok()) {
      // Perhaps the layout changed in a way its version does not show: read it afresh next time.
      if (options.layouts != nullptr) {
        options.layouts->Forget(
            LayoutKey(schema, changes[indexes[0]].org_id(), changes[indexes[0]].object_name()));
      }
      return core::Annotate(s, StrCat("apply ", changes[indexes[0]].object_name()));
    }
  }
  std::sort(stats.parked.begin(), stats.parked.end());
  return stats;
}

}  // namespace

std::optional<LayoutCache::Entry> LayoutCache::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void LayoutCache::Put(const std::string& key, Entry entry) {
  std::lock_guard lock(mu_);
  entries_.insert_or_assign(key, std::move(entry));
}

void LayoutCache::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

absl::StatusOr<ApplyStats> ApplyChanges(Transaction& tx, const std::string& schema,
                                        const std::vector<v1::RecordChange>& changes,
                                        const ApplyOptions& options) {
  return ApplyChanges(tx, schema, Pointers(changes), options);
}

absl::StatusOr<ApplyStats> ApplyChanges(Transaction& tx, const std::string& schema,
                                        const std::vector<const v1::RecordChange*>& changes,
                                        const ApplyOptions& options) {
  std::vector<FieldEntry> fields;
  const std::vector<ChangeView> views = ViewsOf(changes, fields);
  return ApplyList(tx, schema, ChangeList(views), options);
}

absl::StatusOr<ApplyStats> ApplyChanges(Transaction& tx, const std::string& schema,
                                        const std::vector<ChangeView>& changes,
                                        const ApplyOptions& options) {
  return ApplyList(tx, schema, ChangeList(changes), options);
}

std::optional<ApplyStats> ApplyInOneRoundTrip(postgres::Connection& conn, const std::string& schema,
                                              const std::vector<v1::RecordChange>& changes,
                                              LayoutCache& layouts, const ApplyOptions& options) {
  if (changes.empty() || changes.size() > options.few_changes) return std::nullopt;
  const std::string& org_id = changes[0].org_id();
  const std::string& object = changes[0].object_name();
  for (const v1::RecordChange& c : changes) {
    if (c.org_id() != org_id || c.object_name() != object) return std::nullopt;
  }
  const std::string key = LayoutKey(schema, org_id, object);
  std::optional<LayoutCache::Entry> cached = layouts.Get(key);
  if (!cached) return std::nullopt;
  const Layout layout(*cached->mapping);
  if (!IsSmall(options, changes.size(), layout.columns.size())) return std::nullopt;
  std::vector<FieldEntry> fields;
  const std::vector<ChangeView> views = ViewsOf(Pointers(changes), fields);
  const ChangeList list(views);
  std::vector<size_t> indexes(changes.size());
  for (size_t i = 0; i < indexes.size(); ++i) indexes[i] = i;
  const Rendering rendering = Render(list, indexes, layout.columns, layout.by_field, object);
  if (!rendering.parked.empty()) return std::nullopt;
  const Winners winners = ChooseWinners(list, indexes, rendering.valid);
  const bool deletions = changes[winners.list[0]].deleted();
  const int group = rendering.lines[winners.list[0]].group;
  for (size_t k : winners.list) {
    if (changes[k].deleted() != deletions || rendering.lines[k].group != group) return std::nullopt;
  }

  const std::string qtable =
      StrCat(conn.QuoteName(schema), ".", conn.QuoteName(cached->mapping->table));
  const std::string qtomb = StrCat(conn.QuoteName(schema), ".", conn.QuoteName(kTombstones));
  TableRef target{qtable, qtomb, object, conn.QuoteLiteral(object), layout.columns, {}};
  for (const Column& col : layout.columns) target.qcolumns.push_back(conn.QuoteName(col.name));
  std::string mask;
  for (const auto& [m, g] : rendering.groups) {
    if (g == group) mask = m;
  }

  // The winners as literals: s(id, _modstamp_ms[, the field set's columns]).
  std::string rows, names = "id, _modstamp_ms";
  for (size_t col = 0; !deletions && col < layout.columns.size(); ++col) {
    if (mask[col] == '1') StrAppend(&names, ", ", target.qcolumns[col]);
  }
  for (size_t k : winners.list) {
    const Line& line = rendering.lines[k];
    const std::vector<postgres::Value> fields =
        LineFields(std::string_view(rendering.buf).substr(line.begin, line.body_end - line.begin));
    StrAppend(&rows, rows.empty() ? "(" : ", (");
    for (size_t f = 0; f < fields.size(); ++f) {
      if (f >= 2 && (deletions || mask[f - 2] != '1')) continue;
      const std::string& type = f == 0   ? "text"
                                : f == 1 ? "bigint"
                                         : layout.columns[f - 2].base_type;
      StrAppend(&rows, f == 0 ? "" : ", ", fields[f] ? conn.QuoteLiteral(*fields[f]) : "NULL",
                "::", type);
    }
    rows.push_back(')');
  }
  // Every write is conditioned on the layout's version (v); what was stored is read from the
  // statement's snapshot, before its own writes.
  const std::string current = "EXISTS (SELECT 1 FROM v) AND ";
  std::string sql = StrCat(
      "LOCK TABLE ", qtable,
      " IN ROW EXCLUSIVE MODE; SELECT pg_advisory_xact_lock(hashtextextended(",
      conn.QuoteLiteral(qtable), ", ", std::to_string(kApplyLockSeed), ")); ",
      "WITH v AS (SELECT 1 FROM sfbridge.synced_tables st WHERE st.org_id = ",
      conn.QuoteLiteral(org_id), " AND st.object_name = ", target.object_sql,
      " AND st.schema_name = ", conn.QuoteLiteral(schema),
      " AND st.table_name = ", conn.QuoteLiteral(cached->mapping->table),
      " AND st.xmin::text = ", conn.QuoteLiteral(cached->version), "), s(", names, ") AS (VALUES ",
      rows, "), before AS (SELECT s.id, (SELECT t._modstamp_ms FROM ", qtable,
      " t WHERE t.id = s.id) AS row_ms, (SELECT tb.modstamp_ms FROM ", qtomb,
      " tb WHERE tb.object = ", target.object_sql, " AND tb.id = s.id) AS tomb_ms FROM s), ");
  if (deletions) {
    StrAppend(&sql, "gone AS (", DeleteRowsSql(target, "s", current), "), w AS (",
              TombstonesSql(target, "s", current), " RETURNING 1) ");
  } else {
    StrAppend(&sql, "w AS (", UpsertSql(target, mask, "s", current), " RETURNING 1) ");
  }
  StrAppend(&sql,
            "SELECT b.id, b.row_ms, b.tomb_ms, EXISTS (SELECT 1 FROM v), "
            "(SELECT count(*) FROM w) FROM before b");
  auto r = conn.Exec(sql);
  if (!r.ok() || r->rows.empty() || r->rows[0][3] != "t") {
    layouts.Forget(key);
    return std::nullopt;
  }

  std::unordered_map<std::string, Stored> stored;
  for (const auto& row : r->rows) {
    Stored& st = stored[*row[0]];
    if (row[1]) st.row_ms = std::stoll(*row[1]);
    if (row[2]) st.tomb_ms = std::stoll(*row[2]);
  }
  ApplyStats stats;
  stats.outcomes.resize(changes.size());
  ObjectStats& os = stats.objects[object];
  const Writes writes = Decide(list, indexes, winners, stored, stats, os);
  MarkLosers(list, indexes, rendering.valid, winners, stats, os);
  const size_t written = std::stoull(*r->rows[0][4]);
  const size_t expected = deletions ? written : writes.fresh.size() + writes.upserts.size();
  if (written != expected) {
    // Cannot happen under the locks: the guards in SQL and Decide read the same snapshot.
    core::Logger("writer")->error("{} {}: wrote {} rows where {} were expected", org_id, object,
                                  written, expected);
  }
  return stats;
}

absl::StatusOr<ApplyStats> ApplyBatch(postgres::Connection& conn, const std::string& schema,
                                      const std::vector<v1::RecordChange>& changes,
                                      const std::vector<OffsetUpdate>& offsets,
                                      const ApplyOptions& options) {
  ApplyStats stats;
  absl::Status s = conn.InTransaction([&](Transaction& tx) -> absl::Status {
    auto applied = ApplyChanges(tx, schema, changes, options);
    if (!applied.ok()) return applied.status();
    stats = *std::move(applied);
    return StoreOffsets(tx, offsets);
  });
  if (!s.ok()) return s;
  return stats;
}

}  // namespace sfbridge::writer
