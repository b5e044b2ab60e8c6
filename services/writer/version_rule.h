#pragma once

// Which version of a record wins (DESIGN.md invariant 3: versions only move forward), decided
// in memory from what a call holds and what the table held before it. Pure: no PostgreSQL, no
// state; thread-safe.
//
// Within one call only the newest version of each record counts: the highest SystemModstamp;
// on a tie a deletion wins over an update, then the later one wins. The others lose, stale at
// whatever their winner leaves stored.
//
// A winning update is applied when the stored row is not newer (an equal modstamp rewrites the
// same values, so re-delivery is harmless) and the record's tombstone is older; otherwise it is
// stale. A winning deletion is applied when neither the row nor the tombstone is newer, and is
// written either way: a stale deletion still records its tombstone (which only ever moves
// forward), since Salesforce did delete the record at that version.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sfbridge::writer {

enum class Outcome {
  kApplied,  // the row (or, for a deletion, its tombstone) now holds this version
  kStale,    // not applied: a newer version, an equal-or-newer tombstone, or a newer change in
             // the same call won
  kParked,   // not applied: the change cannot be applied as it is (see `reason`)
};

struct RecordOutcome {
  Outcome outcome = Outcome::kParked;
  // kApplied / kStale: the SystemModstamp the record holds after the call (the row's, or the
  // tombstone's when it is deleted); 0 when neither exists. kParked: 0.
  int64_t stored_modstamp_ms = 0;
  std::string reason;  // kParked only
};

struct ObjectStats {
  int64_t applied = 0;  // versions written (inserted or updated)
  int64_t deleted = 0;  // deletions applied
  int64_t stale = 0;    // versions and deletions not applied because something newer won
  int64_t parked = 0;
};

// One version of a record, as the rule sees it; `record_id` refers to the caller's bytes.
struct Version {
  std::string_view record_id;
  int64_t modstamp_ms = 0;
  bool deleted = false;
};

// What the table holds for a record before the call: its row's and its tombstone's modstamp.
struct Stored {
  std::optional<int64_t> row_ms, tomb_ms;
};
// By record id; a record with neither a row nor a tombstone may be left out.
using StoredVersions = std::unordered_map<std::string, Stored>;

// The newest version of each record among `versions` whose `valid` is true (the others, parked,
// take no part). Positions index `versions`; the map refers to the versions' record ids.
struct Winners {
  std::unordered_map<std::string_view, size_t> of;  // record id -> position of its winner
  std::vector<size_t> list;                         // the winners' positions, in order
};
Winners ChooseWinners(const std::vector<Version>& versions, const std::vector<bool>& valid);

// What to write for one version that won its call.
enum class Write {
  kNone,    // stale: nothing
  kInsert,  // no row, and no tombstone at or after the version
  kUpdate,  // a row not newer than the version
  kDelete,  // the row when it is not newer, and the tombstone forward
};
struct Decision {
  Outcome outcome = Outcome::kStale;  // kApplied or kStale
  int64_t stored_modstamp_ms = 0;     // as RecordOutcome's
  Write write = Write::kNone;
};
// The rule for one winning version against what is stored for its record.
Decision Decide(const Version& version, const Stored& stored);

// Every valid version of a call decided: winners by Decide, losers stale at their winner's
// stored modstamp.
struct VersionPlan {
  std::vector<RecordOutcome> outcomes;  // by position; those of invalid positions are untouched
  // The winners to write, as positions, in order.
  std::vector<size_t> inserts;  // Write::kInsert
  std::vector<size_t> updates;  // Write::kUpdate
  std::vector<size_t> deletes;  // Write::kDelete, applied or stale
  ObjectStats counts;           // applied, deleted and stale; parked is left 0
};
VersionPlan PlanVersions(const std::vector<Version>& versions, const std::vector<bool>& valid,
                         const Winners& winners, const StoredVersions& stored);

}  // namespace sfbridge::writer
