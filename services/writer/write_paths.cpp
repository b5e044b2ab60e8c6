#include "writer/write_paths.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/core/strings.h"
#include "writer/naming.h"

namespace sfbridge::writer {
namespace {

using core::StrAppend;
using core::StrCat;

absl::Status CheckUpserted(int64_t upserted, int64_t expected) {
  if (upserted == expected) return absl::OkStatus();
  return absl::AbortedError(StrCat("expected to write ", expected, " rows, wrote ", upserted,
                                   ": the table changed under the batch; retry"));
}

// Changes per chunk that StreamFresh renders at a time.
constexpr size_t kStreamChunk = 500;

}  // namespace

absl::Status WriteFew(postgres::Transaction& tx, const TableRef& t, const Rendering& rendering,
                      const VersionPlan& plan) {
  std::map<int, std::vector<size_t>> by_group;
  for (const auto* list : {&plan.inserts, &plan.updates}) {
    for (size_t k : *list) by_group[rendering.lines[k].group].push_back(k);
  }
  for (const auto& [mask, group] : rendering.groups) {
    auto it = by_group.find(group);
    if (it == by_group.end()) continue;
    postgres::Params params = {t.object};
    const std::vector<size_t> kept = KeptFields(t, &mask);
    std::string rows;
    for (size_t k : it->second) {
      const std::vector<postgres::Value>& fields = rendering.params[k];
      StrAppend(&rows, rows.empty() ? "(" : ", (");
      for (size_t f : kept) {
        params.push_back(fields[f]);
        StrAppend(&rows, f == 0 ? "$" : ", $", std::to_string(params.size()), "::", CastOf(t, f));
      }
      rows.push_back(')');
    }
    auto r = tx.Exec(UpsertSql(t, mask, ValuesSource(t, rows, &mask), ""), params);
    if (!r.ok()) return r.status();
    if (absl::Status s = CheckUpserted(r->affected_rows, static_cast<int64_t>(it->second.size()));
        !s.ok()) {
      return s;
    }
  }
  if (!plan.deletes.empty()) {
    postgres::Params params = {t.object};
    std::string rows;
    for (size_t k : plan.deletes) {
      params.push_back(rendering.params[k][0]);
      params.push_back(rendering.params[k][1]);
      StrAppend(&rows, rows.empty() ? "" : ", ", "($", std::to_string(params.size() - 1),
                "::text, $", std::to_string(params.size()), "::bigint)");
    }
    if (absl::Status s = tx.Exec(DeleteSql(t, ValuesSource(t, rows, nullptr), ""), params).status();
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status WriteMany(postgres::Transaction& tx, const TableRef& t, Rendering& rendering,
                       const VersionPlan& plan) {
  const std::string& buf = rendering.buf;
  std::string fresh, staged;
  for (size_t k : plan.inserts) {
    const Line& line = rendering.lines[k];
    fresh.append(buf, line.begin, line.body_end - line.begin);
    fresh.push_back('\n');
  }
  std::set<int> staged_groups;
  for (const auto* list : {&plan.updates, &plan.deletes}) {
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
  std::vector<std::string> typed;
  for (const Column& col : t.columns) {
    StrAppend(&layout, "|", col.name, " ", col.type);
    typed.push_back(StrCat(tx.QuoteName(col.name), " ", col.type));
  }
  const std::string stage =
      StrCat("pg_temp.", tx.QuoteName("sfbridge_stage_" + StableHash(layout)));
  if (absl::Status s = tx.Exec(StagingSql(stage, typed)).status(); !s.ok()) return s;
  std::vector<std::string> stage_columns = table_columns;
  stage_columns.push_back("_deleted");
  stage_columns.push_back("_group");
  if (absl::Status s = tx.CopyIn(stage, stage_columns, staged); !s.ok()) return s;

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
  if (absl::Status s = CheckUpserted(upserted, static_cast<int64_t>(plan.updates.size()));
      !s.ok()) {
    return s;
  }
  if (plan.deletes.empty()) return absl::OkStatus();
  return tx.Exec(DeleteSql(t, source, "s._deleted AND "), {t.object}).status();
}

absl::StatusOr<bool> StreamFresh(postgres::Transaction& tx, const TableRef& t,
                                 const std::vector<ChangeView>& changes,
                                 const std::vector<size_t>& indexes, const Layout& layout,
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
      Rendering r = Render(changes, part, layout, t.object, RowFormat::kCopyText);
      for (auto& p : r.parked) p.first += begin;
      std::lock_guard lock(mu);
      ready.push_back(std::move(r));
      cv.notify_one();
    }
    std::lock_guard lock(mu);
    finished = true;
    cv.notify_one();
  });
  absl::Status copied = tx.CopyIn(t.qtable, CopyColumns(t), [&](std::string& chunk) {
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

}  // namespace sfbridge::writer
