#include "writer/apply.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/core/status.h"
#include "common/core/strings.h"
#include "writer/naming.h"
#include "writer/table_schema.h"
#include "writer/values.h"

namespace sfbridge::writer {
namespace {

using core::StrAppend;
using core::StrCat;
using postgres::Transaction;

// The changes of one call, by index, whether the caller holds them by value or by pointer.
class ChangeList {
 public:
  explicit ChangeList(const std::vector<v1::RecordChange>& values) : values_(&values) {}
  explicit ChangeList(const std::vector<const v1::RecordChange*>& pointers)
      : pointers_(&pointers) {}
  const v1::RecordChange& operator[](size_t i) const {
    return values_ != nullptr ? (*values_)[i] : *(*pointers_)[i];
  }
  size_t size() const { return values_ != nullptr ? values_->size() : pointers_->size(); }
  bool empty() const { return size() == 0; }

 private:
  const std::vector<v1::RecordChange>* values_ = nullptr;
  const std::vector<const v1::RecordChange*>* pointers_ = nullptr;
};

struct Column {
  const std::string* field;  // API name
  std::string name;          // unquoted
  std::string type;
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

void AppendCopyText(std::string& out, const std::string& text) {
  if (text.find_first_of("\\\t\n\r") == std::string::npos) {
    out.append(text);
  } else {
    postgres::AppendCopyField(out, text);
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
                 const std::string& object) {
  Rendering out;
  std::string& buf = out.buf;
  buf.reserve(indexes.size() * (32 + columns.size() * 12));
  out.lines.resize(indexes.size());
  out.valid.assign(indexes.size(), false);
  std::string mask;
  std::vector<const v1::FieldValue*> slots(columns.size());
  for (size_t k = 0; k < indexes.size(); ++k) {
    const v1::RecordChange& c = changes[indexes[k]];
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
      for (const auto& [name, value] : c.fields()) {
        if (int col = by_field.Find(name); col >= 0) {
          slots[col] = &value;
        } else if (name != "Id") {
          reason = StrCat("unknown field ", name, " of ", object);
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

// What the table and the tombstones hold for `ids` now; ids with neither are absent.
absl::StatusOr<std::unordered_map<std::string, Stored>> Probe(
    Transaction& tx, const std::string& qtable, const std::string& qtomb, const std::string& object,
    const std::vector<std::string_view>& ids) {
  std::unordered_map<std::string, Stored> stored;
  if (ids.empty()) return stored;
  // Correlated subqueries are always index lookups, one per id, whatever the planner would
  // guess about a join against the array (a sequential scan of the table, at worst). The
  // tombstones are only looked at when the object has any.
  auto r = tx.Exec(StrCat("SELECT id, row_ms, tomb_ms FROM (SELECT l.id, (SELECT t._modstamp_ms "
                          "FROM ",
                          qtable,
                          " t WHERE t.id = l.id) AS row_ms, CASE WHEN (SELECT "
                          "EXISTS (SELECT 1 FROM ",
                          qtomb,
                          " WHERE object = $1)) THEN (SELECT "
                          "tb.modstamp_ms FROM ",
                          qtomb,
                          " tb WHERE tb.object = $1 AND "
                          "tb.id = l.id) END AS tomb_ms FROM unnest($2::text[]) AS l(id) "
                          "OFFSET 0) x WHERE row_ms IS NOT NULL OR tomb_ms IS NOT NULL"),
                   {object, TextArray(ids)});
  if (!r.ok()) return r.status();
  for (const auto& row : r->rows) {
    Stored& s = stored[*row[0]];
    if (row[1]) s.row_ms = std::stoll(*row[1]);
    if (row[2]) s.tomb_ms = std::stoll(*row[2]);
  }
  return stored;
}

// Applies the changes at `indexes` (all of one org and object) and fills in their outcomes.
absl::Status ApplyObject(Transaction& tx, const std::string& schema, const ChangeList& changes,
                         const std::vector<size_t>& indexes, ApplyStats& stats) {
  const std::string& org_id = changes[indexes[0]].org_id();
  const std::string& object = changes[indexes[0]].object_name();
  ObjectStats& os = stats.objects[object];
  auto park = [&](size_t i, std::string reason) {
    stats.outcomes[i] = RecordOutcome{Outcome::kParked, 0, std::move(reason)};
    stats.parked.push_back(i);
    ++os.parked;
  };

  auto mapping = LoadTableMapping(tx, schema, org_id, object);
  if (!mapping.ok()) return mapping.status();
  if (!*mapping) {
    for (size_t i : indexes) {
      park(i,
           StrCat("unknown object ", object, ": no table in schema ", schema, " for org ", org_id));
    }
    return absl::OkStatus();
  }
  const std::string qtable = StrCat(tx.QuoteName(schema), ".", tx.QuoteName((*mapping)->table));
  const std::string qtomb = StrCat(tx.QuoteName(schema), ".", tx.QuoteName(kTombstones));
  // Writers of one table take turns: what the probe below reads stays true until commit.
  if (absl::Status s = tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))",
                               {qtable, std::to_string(kApplyLockSeed)})
                           .status();
      !s.ok()) {
    return s;
  }
  std::vector<Column> columns;
  FieldIndex by_field;
  for (const auto& [field, info] : (*mapping)->fields) {
    if (field == "Id") continue;
    by_field.Add(field, static_cast<int>(columns.size()));
    columns.push_back(Column{&field, info.column, info.type, KindOf(info.type)});
  }

  // Render on a helper thread while the server looks up what is stored for these records.
  std::vector<std::string_view> ids;
  ids.reserve(indexes.size());
  for (size_t i : indexes) {
    if (!changes[i].record_id().empty() && changes[i].system_modstamp_ms() > 0) {
      ids.push_back(changes[i].record_id());
    }
  }
  // In index order (for C-like collations), so that the lookups walk the index forward.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  Rendering rendering;
  std::thread renderer([&] { rendering = Render(changes, indexes, columns, by_field, object); });
  auto probed = Probe(tx, qtable, qtomb, object, ids);
  renderer.join();
  if (!probed.ok()) return probed.status();
  const std::unordered_map<std::string, Stored>& stored = *probed;
  for (auto& [k, reason] : rendering.parked) park(indexes[k], std::move(reason));
  const std::string& buf = rendering.buf;
  const std::vector<Line>& lines = rendering.lines;
  const std::vector<bool>& valid = rendering.valid;
  const std::map<std::string, int>& groups = rendering.groups;

  // The newest version of each record: highest modstamp, then a deletion, then the later one.
  std::unordered_map<std::string_view, size_t> winner_of;
  winner_of.reserve(indexes.size());
  for (size_t k = 0; k < indexes.size(); ++k) {
    if (!valid[k]) continue;
    const v1::RecordChange& c = changes[indexes[k]];
    auto [it, inserted] = winner_of.try_emplace(c.record_id(), k);
    if (inserted) continue;
    const v1::RecordChange& w = changes[indexes[it->second]];
    if (std::make_pair(c.system_modstamp_ms(), c.deleted()) >=
        std::make_pair(w.system_modstamp_ms(), w.deleted())) {
      it->second = k;
    }
  }
  std::vector<size_t> winners;
  winners.reserve(winner_of.size());
  for (size_t k = 0; k < indexes.size(); ++k) {
    if (valid[k] && winner_of[changes[indexes[k]].record_id()] == k) winners.push_back(k);
  }
  if (winners.empty()) return absl::OkStatus();

  // Decide each winner from what is stored: new rows are COPYed straight into the table, newer
  // versions of stored rows and deletions go through staging, the rest is stale.
  std::string fresh, staged;
  int64_t fresh_rows = 0, staged_upserts = 0, staged_deletes = 0;
  std::set<int> staged_groups;
  for (size_t k : winners) {
    const v1::RecordChange& c = changes[indexes[k]];
    const int64_t ms = c.system_modstamp_ms();
    RecordOutcome& out = stats.outcomes[indexes[k]];
    const Line& line = lines[k];
    auto it = stored.find(c.record_id());
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
      staged.append(buf, line.begin, line.end - line.begin);
      ++staged_deletes;
      continue;
    }
    if ((s.row_ms && *s.row_ms > ms) || (s.tomb_ms && *s.tomb_ms >= ms)) {
      out = RecordOutcome{Outcome::kStale, s.row_ms ? *s.row_ms : *s.tomb_ms, ""};
      ++os.stale;
      continue;
    }
    out = RecordOutcome{Outcome::kApplied, ms, ""};
    ++os.applied;
    if (s.row_ms) {
      staged.append(buf, line.begin, line.end - line.begin);
      staged_groups.insert(line.group);
      ++staged_upserts;
    } else {
      fresh.append(buf, line.begin, line.body_end - line.begin);
      fresh.push_back('\n');
      ++fresh_rows;
    }
  }
  std::string().swap(rendering.buf);  // the lines now live in `fresh` and `staged`

  std::vector<std::string> table_columns = {"id", "_modstamp_ms"};
  for (const Column& col : columns) table_columns.push_back(tx.QuoteName(col.name));
  if (fresh_rows > 0) {
    // No row and no tombstone at or after this version: a plain COPY is exactly the insert.
    if (absl::Status s = tx.CopyIn(qtable, table_columns, fresh); !s.ok()) return s;
  }
  if (!staged.empty()) {
    // Staging: a TEMP table of the table's layout, one per layout and connection.
    std::string layout = qtable;
    for (const Column& col : columns) StrAppend(&layout, "|", col.name, " ", col.type);
    const std::string stage =
        StrCat("pg_temp.", tx.QuoteName("sfbridge_stage_" + StableHash(layout)));
    std::string ddl =
        StrCat("CREATE TEMP TABLE IF NOT EXISTS ", stage, " (id text, _modstamp_ms bigint");
    for (const Column& col : columns) StrAppend(&ddl, ", ", tx.QuoteName(col.name), " ", col.type);
    StrAppend(&ddl, ", _deleted boolean, _group integer) ON COMMIT DELETE ROWS; TRUNCATE ", stage);
    if (absl::Status s = tx.Exec(ddl).status(); !s.ok()) return s;
    std::vector<std::string> stage_columns = table_columns;
    stage_columns.push_back("_deleted");
    stage_columns.push_back("_group");
    if (absl::Status s = tx.CopyIn(stage, stage_columns, staged); !s.ok()) return s;

    // The version guards are repeated in SQL, so the statements are right on their own.
    int64_t upserted = 0;
    for (const auto& [mask, group] : groups) {
      if (!staged_groups.contains(group)) continue;
      std::string names, values, sets;
      for (size_t col = 0; col < columns.size(); ++col) {
        if (mask[col] != '1') continue;
        const std::string q = tx.QuoteName(columns[col].name);
        StrAppend(&names, ", ", q);
        StrAppend(&values, ", s.", q);
        StrAppend(&sets, ", ", q, " = excluded.", q);
      }
      auto r = tx.Exec(
          StrCat("INSERT INTO ", qtable, " AS t (id, _modstamp_ms", names, ") ",
                 "SELECT s.id, s._modstamp_ms", values, " FROM ", stage,
                 " s WHERE s._group = ", group, " AND NOT EXISTS (SELECT 1 FROM ", qtomb,
                 " tb WHERE tb.object = $1 AND tb.id = s.id AND tb.modstamp_ms >= s._modstamp_ms) ",
                 "ON CONFLICT (id) DO UPDATE SET _modstamp_ms = excluded._modstamp_ms, "
                 "_synced_at = now()",
                 sets, " WHERE excluded._modstamp_ms >= t._modstamp_ms"),
          {object});
      if (!r.ok()) return r.status();
      upserted += r->affected_rows;
    }
    if (upserted != staged_upserts) {
      return absl::AbortedError(StrCat("expected to update ", staged_upserts, " rows, updated ",
                                       upserted, ": the table changed under the batch; retry"));
    }
    if (staged_deletes > 0) {
      auto r = tx.Exec(StrCat("WITH gone AS (DELETE FROM ", qtable, " t USING ", stage,
                              " s WHERE s._deleted AND t.id = s.id "
                              "AND t._modstamp_ms <= s._modstamp_ms RETURNING t.id) ",
                              "INSERT INTO ", qtomb, " AS tb (object, id, modstamp_ms) ",
                              "SELECT $1, s.id, s._modstamp_ms FROM ", stage,
                              " s WHERE s._deleted ON CONFLICT (object, id) DO UPDATE SET "
                              "modstamp_ms = excluded.modstamp_ms, deleted_at = now() "
                              "WHERE excluded.modstamp_ms > tb.modstamp_ms"),
                       {object});
      if (!r.ok()) return r.status();
    }
  }

  for (size_t k = 0; k < indexes.size(); ++k) {
    if (!valid[k]) continue;
    const size_t w = winner_of[changes[indexes[k]].record_id()];
    if (w == k) continue;
    stats.outcomes[indexes[k]] =
        RecordOutcome{Outcome::kStale, stats.outcomes[indexes[w]].stored_modstamp_ms, ""};
    ++os.stale;
  }
  return absl::OkStatus();
}

absl::StatusOr<ApplyStats> ApplyList(Transaction& tx, const std::string& schema,
                                     const ChangeList& changes) {
  ApplyStats stats;
  stats.outcomes.resize(changes.size());
  if (changes.empty()) return stats;
  // CREATE TEMP TABLE IF NOT EXISTS would otherwise send a NOTICE every batch.
  if (absl::Status s = tx.Exec("SET LOCAL client_min_messages = warning").status(); !s.ok()) {
    return s;
  }
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
    absl::Status s = ApplyObject(tx, schema, changes, indexes, stats);
    if (!s.ok()) {
      return core::Annotate(s, StrCat("apply ", changes[indexes[0]].object_name()));
    }
  }
  std::sort(stats.parked.begin(), stats.parked.end());
  return stats;
}

}  // namespace

absl::StatusOr<ApplyStats> ApplyChanges(Transaction& tx, const std::string& schema,
                                        const std::vector<v1::RecordChange>& changes) {
  return ApplyList(tx, schema, ChangeList(changes));
}

absl::StatusOr<ApplyStats> ApplyChanges(Transaction& tx, const std::string& schema,
                                        const std::vector<const v1::RecordChange*>& changes) {
  return ApplyList(tx, schema, ChangeList(changes));
}

absl::StatusOr<ApplyStats> ApplyBatch(postgres::Connection& conn, const std::string& schema,
                                      const std::vector<v1::RecordChange>& changes,
                                      const std::vector<OffsetUpdate>& offsets) {
  ApplyStats stats;
  absl::Status s = conn.InTransaction([&](Transaction& tx) -> absl::Status {
    auto applied = ApplyChanges(tx, schema, changes);
    if (!applied.ok()) return applied.status();
    stats = *std::move(applied);
    return StoreOffsets(tx, offsets);
  });
  if (!s.ok()) return s;
  return stats;
}

}  // namespace sfbridge::writer
