#include "writer/version_rule.h"

#include <utility>

namespace sfbridge::writer {

Winners ChooseWinners(const std::vector<Version>& versions, const std::vector<bool>& valid) {
  Winners w;
  w.of.reserve(versions.size());
  for (size_t k = 0; k < versions.size(); ++k) {
    if (!valid[k]) continue;
    const Version& v = versions[k];
    auto [it, inserted] = w.of.try_emplace(v.record_id, k);
    if (inserted) continue;
    const Version& best = versions[it->second];
    if (std::make_pair(v.modstamp_ms, v.deleted) >=
        std::make_pair(best.modstamp_ms, best.deleted)) {
      it->second = k;
    }
  }
  w.list.reserve(w.of.size());
  for (size_t k = 0; k < versions.size(); ++k) {
    if (valid[k] && w.of.at(versions[k].record_id) == k) w.list.push_back(k);
  }
  return w;
}

Decision Decide(const Version& v, const Stored& s) {
  const int64_t ms = v.modstamp_ms;
  if (v.deleted) {
    if (s.row_ms && *s.row_ms > ms) return {Outcome::kStale, *s.row_ms, Write::kDelete};
    if (s.tomb_ms && *s.tomb_ms > ms) return {Outcome::kStale, *s.tomb_ms, Write::kDelete};
    return {Outcome::kApplied, ms, Write::kDelete};
  }
  if ((s.row_ms && *s.row_ms > ms) || (s.tomb_ms && *s.tomb_ms >= ms)) {
    return {Outcome::kStale, s.row_ms ? *s.row_ms : *s.tomb_ms, Write::kNone};
  }
  return {Outcome::kApplied, ms, s.row_ms ? Write::kUpdate : Write::kInsert};
}

VersionPlan PlanVersions(const std::vector<Version>& versions, const std::vector<bool>& valid,
                         const Winners& winners, const StoredVersions& stored) {
  VersionPlan plan;
  plan.outcomes.resize(versions.size());
  for (size_t k : winners.list) {
    const Version& v = versions[k];
    auto it = stored.find(std::string(v.record_id));
    const Decision d = Decide(v, it == stored.end() ? Stored{} : it->second);
    plan.outcomes[k] = RecordOutcome{d.outcome, d.stored_modstamp_ms, ""};
    if (d.outcome == Outcome::kStale) {
      ++plan.counts.stale;
    } else if (v.deleted) {
      ++plan.counts.deleted;
    } else {
      ++plan.counts.applied;
    }
    switch (d.write) {
      case Write::kInsert:
        plan.inserts.push_back(k);
        break;
      case Write::kUpdate:
        plan.updates.push_back(k);
        break;
      case Write::kDelete:
        plan.deletes.push_back(k);
        break;
      case Write::kNone:
        break;
    }
  }
  for (size_t k = 0; k < versions.size(); ++k) {
    if (!valid[k]) continue;
    const size_t w = winners.of.at(versions[k].record_id);
    if (w == k) continue;
    plan.outcomes[k] = RecordOutcome{Outcome::kStale, plan.outcomes[w].stored_modstamp_ms, ""};
    ++plan.counts.stale;
  }
  return plan;
}

}  // namespace sfbridge::writer
