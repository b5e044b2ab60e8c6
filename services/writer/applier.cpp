#include "writer/applier.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>

#include "common/control/sql_arrays.h"
#include "common/core/logging.h"
#include "common/core/status.h"
#include "common/core/strings.h"
#include "writer/apply_sql.h"
#include "writer/row_rendering.h"
#include "writer/table_schema.h"
#include "writer/write_paths.h"

namespace sfbridge::writer {
namespace {

using core::StrAppend;
using core::StrCat;
using postgres::Transaction;

// The text[] literal of `ids`.
std::string TextArray(const std::vector<std::string_view>& ids) {
  return control::ToTextArray(std::vector<std::string>(ids.begin(), ids.end()));
}

// Fresh-first (applier.h, step 4). A backfill (and any batch of records new to the table) needs
// no probe: when the object has no tombstone, a record with no row is simply inserted, so the
// batch can be COPYed straight into the table under a savepoint, and the primary key tells
// whether any record did have a row (unique_violation: the savepoint is rolled back and the
// batch takes the probe path). Correctness never depends on choosing right; only the cost does.
// Tables whose fresh-first COPY met a stored row probe first for their next kProbeFirstCalls
// calls, and a sample of the batch's ids is looked up before trying (a replayed or updating batch
// mostly holds stored ids).
constexpr int kProbeFirstCalls = 20;
constexpr size_t kFreshSample = 16;

// Up to ApplierOptions::few_changes changes of an object (and this many parameters) are written
// with plain statements (WriteFew); more go through COPY and staging (WriteMany), which costs a
// few more round trips and a TEMP table's file operations but scales.
inline constexpr size_t kMaxParameters = 30'000;

bool IsSmall(const ApplierOptions& options, size_t changes, size_t columns) {
  return changes <= options.few_changes && changes * (columns + 2) <= kMaxParameters;
}

// What one round trip learned, under the locks it took.
struct Probed {
  std::optional<std::string> version;  // of the object's synced_tables row; none: unregistered
  StoredVersions stored;               // ids with neither row nor tombstone absent
};

void AddStored(const std::vector<postgres::Value>& row, StoredVersions& stored) {
  Stored& s = stored[*row[0]];
  if (row[1]) s.row_ms = std::stoll(*row[1]);
  if (row[2]) s.tomb_ms = std::stoll(*row[2]);
}

// One simple query, so one round trip: takes the locks (LockSql), then reads the layout's
// version and what the table and the tombstones hold for `ids`.
absl::StatusOr<Probed> LockAndProbe(Transaction& tx, const std::string& qtable,
                                    const std::string& qtomb, const std::string& schema,
                                    const std::string& table, const std::string& org_id,
                                    const std::string& object,
                                    const std::vector<std::string_view>& ids) {
  const std::string lobject = tx.QuoteLiteral(object);
  std::string sql = StrCat(LockSql(qtable, tx.QuoteLiteral(qtable)),
                           "SELECT NULL::text, NULL::bigint, NULL::bigint, st.xmin::text FROM "
                           "sfbridge.synced_tables st WHERE ",
                           RegisteredSql(tx.QuoteLiteral(org_id), lobject, tx.QuoteLiteral(schema),
                                         tx.QuoteLiteral(table)));
  if (!ids.empty()) {
    StrAppend(&sql, " UNION ALL ",
              ProbeSql(qtable, qtomb, lobject, tx.QuoteLiteral(TextArray(ids))));
  }
  auto r = tx.Exec(sql);
  if (!r.ok()) return r.status();
  Probed out;
  for (const auto& row : r->rows) {
    if (!row[0]) {
      out.version = row[3];
      continue;
    }
    AddStored(row, out.stored);
  }
  return out;
}

// The probe alone, under locks the caller already holds.
absl::StatusOr<StoredVersions> ProbeStored(Transaction& tx, const std::string& qtable,
                                           const std::string& qtomb, std::string_view object,
                                           const std::vector<std::string_view>& ids) {
  StoredVersions stored;
  if (ids.empty()) return stored;
  auto r =
      tx.Exec(ProbeSql(qtable, qtomb, tx.QuoteLiteral(object), tx.QuoteLiteral(TextArray(ids))));
  if (!r.ok()) return r.status();
  for (const auto& row : r->rows) AddStored(row, stored);
  return stored;
}

// True when the object has no tombstone and no id of a sample of `ids` (sorted) has a row: worth
// trying fresh-first.
absl::StatusOr<bool> LooksFresh(Transaction& tx, const std::string& qtable,
                                const std::string& qtomb, std::string_view object,
                                const std::vector<std::string_view>& ids) {
  std::vector<std::string_view> sample;
  const size_t step = std::max<size_t>(1, ids.size() / kFreshSample);
  for (size_t i = 0; i < ids.size(); i += step) sample.push_back(ids[i]);
  if (!ids.empty() && sample.back() != ids.back()) sample.push_back(ids.back());
  auto r = tx.Exec(LooksFreshSql(qtable, qtomb), {std::string(object), TextArray(sample)});
  if (!r.ok()) return r.status();
  return r->rows.at(0).at(0) == "t";
}

std::vector<const v1::RecordChange*> Pointers(const std::vector<v1::RecordChange>& changes) {
  std::vector<const v1::RecordChange*> pointers;
  pointers.reserve(changes.size());
  for (const v1::RecordChange& c : changes) pointers.push_back(&c);
  return pointers;
}

// The versions of changes[indexes[k]], by position k.
std::vector<Version> VersionsOf(const std::vector<ChangeView>& changes,
                                const std::vector<size_t>& indexes) {
  std::vector<Version> versions;
  versions.reserve(indexes.size());
  for (size_t i : indexes) {
    const ChangeView& c = changes[i];
    versions.push_back(Version{c.record_id(), c.system_modstamp_ms(), c.deleted()});
  }
  return versions;
}

// The plan's outcomes and counts into `stats` (positions mapped back through `indexes`).
void Record(const VersionPlan& plan, const std::vector<bool>& valid,
            const std::vector<size_t>& indexes, ApplyStats& stats, ObjectStats& os) {
  for (size_t k = 0; k < indexes.size(); ++k) {
    if (valid[k]) stats.outcomes[indexes[k]] = plan.outcomes[k];
  }
  os.applied += plan.counts.applied;
  os.deleted += plan.counts.deleted;
  os.stale += plan.counts.stale;
}

TableRef TableOf(const std::string& qtable, const std::string& qtomb, const std::string& object,
                 std::string object_sql, const Layout& layout,
                 const std::function<std::string(std::string_view)>& quote_name) {
  TableRef t{qtable, qtomb, object, std::move(object_sql), layout.columns, {}};
  for (const Column& col : layout.columns) t.qcolumns.push_back(quote_name(col.name));
  return t;
}

}  // namespace

bool ProbeFirstHints::ProbeFirst(const std::string& qtable) {
  std::lock_guard lock(mu_);
  auto it = left_.find(qtable);
  if (it == left_.end()) return false;
  if (--it->second <= 0) left_.erase(it);
  return true;
}

void ProbeFirstHints::Missed(const std::string& qtable) {
  std::lock_guard lock(mu_);
  left_[qtable] = kProbeFirstCalls;
}

absl::Status Applier::ApplyObject(Transaction& tx, const std::string& schema,
                                  const std::vector<ChangeView>& changes,
                                  const std::vector<size_t>& indexes, ApplyStats& stats) {
  const std::string org_id(changes[indexes[0]].org_id());
  const std::string object(changes[indexes[0]].object_name());
  ObjectStats& os = stats.objects[object];
  auto park = [&](size_t i, std::string reason) {
    stats.outcomes[i] = RecordOutcome{Outcome::kParked, 0, std::move(reason)};
    stats.parked.push_back(i);
    ++os.parked;
  };

  const std::string key = LayoutCache::Key(schema, org_id, object);
  std::optional<LayoutCache::Entry> cached;
  if (options_.cache_layouts) cached = layouts_.Get(key);
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
  // Fresh-first needs no choice between versions (each record once) and no stored state
  // (deletions need it for their outcome and tombstone); the probe then waits for its guess to
  // fail.
  const bool fresh_first = indexes.size() > options_.few_changes && !ids.empty() && !any_deletion &&
                           ids.size() == versions && !hints_.ProbeFirst(qtable);

  // Many changes are rendered on a helper thread while the server takes the locks and looks up
  // what is stored, with the cached layout when there is one (rendered again in the rare case
  // that it turns out to be stale); a few are rendered in place.
  std::shared_ptr<const TableMapping> mapping = cached ? cached->mapping : nullptr;
  std::optional<Layout> layout;
  if (mapping) layout.emplace(*mapping);
  Rendering rendering;
  bool rendered = false;
  std::thread renderer;
  if (!fresh_first && layout && !IsSmall(options_, indexes.size(), layout->columns.size())) {
    rendered = true;
    renderer = std::thread(
        [&] { rendering = Render(changes, indexes, *layout, object, RowFormat::kCopyText); });
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
    if (options_.cache_layouts) {
      layouts_.Put(key, LayoutCache::Entry{table, *probed->version, mapping});
    }
  }
  const bool small = IsSmall(options_, indexes.size(), layout->columns.size());
  const TableRef target = TableOf(qtable, qtomb, object, "$1", *layout,
                                  [&](std::string_view name) { return tx.QuoteName(name); });
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
      absl::StatusOr<bool> copied = StreamFresh(tx, target, changes, order, *layout, parked);
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
      hints_.Missed(qtable);
    }
    auto stored = ProbeStored(tx, qtable, qtomb, object, ids);
    if (!stored.ok()) return stored.status();
    probed->stored = *std::move(stored);
  }
  if (!rendered) {
    rendering = Render(changes, indexes, *layout, object,
                       small ? RowFormat::kParams : RowFormat::kCopyText);
  }
  for (auto& [k, reason] : rendering.parked) park(indexes[k], std::move(reason));

  const std::vector<Version> all = VersionsOf(changes, indexes);
  const Winners winners = ChooseWinners(all, rendering.valid);
  if (winners.list.empty()) return absl::OkStatus();
  const VersionPlan plan = PlanVersions(all, rendering.valid, winners, probed->stored);
  absl::Status written =
      small ? WriteFew(tx, target, rendering, plan) : WriteMany(tx, target, rendering, plan);
  if (!written.ok()) return written;
  Record(plan, rendering.valid, indexes, stats, os);
  return absl::OkStatus();
}

absl::StatusOr<ApplyStats> Applier::ApplyList(Transaction& tx, const std::string& schema,
                                              const std::vector<ChangeView>& changes) {
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
    absl::Status s = ApplyObject(tx, schema, changes, indexes, stats);
    if (!s.ok()) {
      // Perhaps the layout changed in a way its version does not show: read it afresh next time.
      layouts_.Forget(LayoutCache::Key(schema, changes[indexes[0]].org_id(),
                                       changes[indexes[0]].object_name()));
      return core::Annotate(s, StrCat("apply ", changes[indexes[0]].object_name()));
    }
  }
  std::sort(stats.parked.begin(), stats.parked.end());
  return stats;
}

absl::StatusOr<ApplyStats> Applier::ApplyChanges(Transaction& tx, const std::string& schema,
                                                 const std::vector<v1::RecordChange>& changes) {
  return ApplyChanges(tx, schema, Pointers(changes));
}

absl::StatusOr<ApplyStats> Applier::ApplyChanges(
    Transaction& tx, const std::string& schema,
    const std::vector<const v1::RecordChange*>& changes) {
  std::vector<FieldEntry> fields;
  const std::vector<ChangeView> views = ViewsOf(changes, fields);
  return ApplyList(tx, schema, views);
}

absl::StatusOr<ApplyStats> Applier::ApplyChanges(Transaction& tx, const std::string& schema,
                                                 const std::vector<ChangeView>& changes) {
  return ApplyList(tx, schema, changes);
}

std::optional<ApplyStats> Applier::ApplyInOneRoundTrip(
    postgres::Connection& conn, const std::string& schema,
    const std::vector<v1::RecordChange>& changes) {
  if (changes.empty() || changes.size() > options_.few_changes) return std::nullopt;
  const std::string& org_id = changes[0].org_id();
  const std::string& object = changes[0].object_name();
  for (const v1::RecordChange& c : changes) {
    if (c.org_id() != org_id || c.object_name() != object) return std::nullopt;
  }
  const std::string key = LayoutCache::Key(schema, org_id, object);
  std::optional<LayoutCache::Entry> cached = layouts_.Get(key);
  if (!cached) return std::nullopt;
  const Layout layout(*cached->mapping);
  if (!IsSmall(options_, changes.size(), layout.columns.size())) return std::nullopt;
  std::vector<FieldEntry> fields;
  const std::vector<ChangeView> views = ViewsOf(Pointers(changes), fields);
  std::vector<size_t> indexes(changes.size());
  for (size_t i = 0; i < indexes.size(); ++i) indexes[i] = i;
  const Rendering rendering = Render(views, indexes, layout, object, RowFormat::kParams);
  if (!rendering.parked.empty()) return std::nullopt;
  const std::vector<Version> versions = VersionsOf(views, indexes);
  const Winners winners = ChooseWinners(versions, rendering.valid);
  const bool deletions = changes[winners.list[0]].deleted();
  const int group = rendering.lines[winners.list[0]].group;
  for (size_t k : winners.list) {
    if (changes[k].deleted() != deletions || rendering.lines[k].group != group) return std::nullopt;
  }

  const std::string qtable =
      StrCat(conn.QuoteName(schema), ".", conn.QuoteName(cached->mapping->table));
  const std::string qtomb = StrCat(conn.QuoteName(schema), ".", conn.QuoteName(kTombstones));
  const TableRef target = TableOf(qtable, qtomb, object, conn.QuoteLiteral(object), layout,
                                  [&](std::string_view name) { return conn.QuoteName(name); });
  std::string mask;
  for (const auto& [m, g] : rendering.groups) {
    if (g == group) mask = m;
  }
  const std::string* kept_mask = deletions ? nullptr : &mask;

  // The winners as literals.
  const std::vector<size_t> kept = KeptFields(target, kept_mask);
  std::string rows;
  for (size_t k : winners.list) {
    const std::vector<postgres::Value>& values = rendering.params[k];
    StrAppend(&rows, rows.empty() ? "(" : ", (");
    for (size_t f : kept) {
      StrAppend(&rows, f == 0 ? "" : ", ", values[f] ? conn.QuoteLiteral(*values[f]) : "NULL",
                "::", CastOf(target, f));
    }
    rows.push_back(')');
  }
  // Every write is conditioned on the layout's version being the cached one.
  const std::string current_layout =
      StrCat(RegisteredSql(conn.QuoteLiteral(org_id), target.object_sql, conn.QuoteLiteral(schema),
                           conn.QuoteLiteral(cached->mapping->table)),
             " AND st.xmin::text = ", conn.QuoteLiteral(cached->version));
  auto r = conn.Exec(OneRoundTripSql(target, LockSql(qtable, conn.QuoteLiteral(qtable)),
                                     current_layout, rows, kept_mask));
  if (!r.ok() || r->rows.empty() || r->rows[0][3] != "t") {
    layouts_.Forget(key);
    return std::nullopt;
  }

  StoredVersions stored;
  for (const auto& row : r->rows) AddStored(row, stored);
  ApplyStats stats;
  stats.outcomes.resize(changes.size());
  const VersionPlan plan = PlanVersions(versions, rendering.valid, winners, stored);
  Record(plan, rendering.valid, indexes, stats, stats.objects[object]);
  const size_t written = std::stoull(*r->rows[0][4]);
  const size_t expected = deletions ? written : plan.inserts.size() + plan.updates.size();
  if (written != expected) {
    // Cannot happen under the locks: the guards in SQL and the version rule read the same
    // snapshot.
    core::Logger("writer")->error("{} {}: wrote {} rows where {} were expected", org_id, object,
                                  written, expected);
  }
  return stats;
}

absl::StatusOr<ApplyStats> Applier::ApplyBatch(postgres::Connection& conn,
                                               const std::string& schema,
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
