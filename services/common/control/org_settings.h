#pragma once

// Typed access to an org's settings (sfbridge.orgs) and its objects' state, progress and cursors
// (sfbridge.objects). Each function is one statement, so each change is atomic on its own; none
// keeps anything in memory, so a settings change made by anyone (the CLI, plain SQL) is seen by
// the next call. Errors: kNotFound for a missing org or object row (named in the message),
// database errors as statuses (retryable ones say so). Timestamps shown to people
// (backfill_started_at ...) are the database's now().

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/postgres/connection.h"

namespace sfbridge::control {

struct OrgSettings {
  std::string org_id;  // the 18-character org id, or a configured name
  std::string display_name;
  std::string api_version;  // e.g. "60.0"; empty: the client's default
  // API names to replicate; nullopt: every queryable and replicateable object.
  std::optional<std::vector<std::string>> objects;
  double rate_per_second = 1.0 / 3;  // the rate budget's refill (see budget.h)
  int burst = 5;
  double daily_quota_share = 0.5;
  double priority_reserve = 1;
  // Every event of the org is also POSTed here as JSON (events.h); nullopt: nowhere.
  std::optional<std::string> webhook_url;
  // Written by SetOrgState only (UpsertOrg leaves them as they are).
  std::string state = "ok";  // "ok", "auth_error", ...
  std::optional<std::string> last_error;
};

absl::StatusOr<OrgSettings> LoadOrg(postgres::Connection& conn, std::string_view org_id);
// Every org, ordered by org_id.
absl::StatusOr<std::vector<OrgSettings>> LoadOrgs(postgres::Connection& conn);
// Creates the org or replaces its settings (all but state and last_error). Out-of-range values
// (burst < 1, a negative rate, a share outside (0, 1]) are kInvalidArgument.
absl::Status UpsertOrg(postgres::Connection& conn, const OrgSettings& settings);
absl::Status SetOrgState(postgres::Connection& conn, std::string_view org_id,
                         std::string_view state, std::optional<std::string_view> error = {});

enum class ObjectState { kPending, kBackfilling, kLive, kError, kDisabled };
// "pending", "backfilling", "live", "error", "disabled": the values of objects.state.
std::string_view ObjectStateName(ObjectState state);
std::optional<ObjectState> ParseObjectState(std::string_view name);

// A keyset position (SystemModstamp, Id): everything at or before it has been handled. Ids
// compare bytewise (COLLATE "C"), as the queries order them.
struct Cursor {
  int64_t modstamp_ms = 0;
  std::string id;
  auto operator<=>(const Cursor&) const = default;
};

struct ObjectStatus {
  std::string object_name;
  ObjectState state = ObjectState::kPending;
  std::optional<std::string> error;
  int64_t records_done = 0;
  std::optional<int64_t> records_estimate;
  std::optional<int64_t> backfill_started_at_ms;
  std::optional<int64_t> backfill_completed_at_ms;
  std::optional<int64_t> last_poll_at_ms;
  std::optional<Cursor> cursor;           // polling resumes after it
  std::optional<Cursor> backfill_cursor;  // an interrupted backfill resumes after it
  std::optional<std::string> schema_fingerprint;
};

// Creates the object's row or changes its state. `error` is stored with the state (cleared when
// absent). Entering kBackfilling from another state stamps backfill_started_at and clears
// backfill_completed_at; entering kLive from kBackfilling stamps backfill_completed_at.
absl::Status SetObjectState(postgres::Connection& conn, std::string_view org_id,
                            std::string_view object, ObjectState state,
                            std::optional<std::string_view> error = {});
// The org's objects, ordered by name.
absl::StatusOr<std::vector<ObjectStatus>> LoadObjects(postgres::Connection& conn,
                                                      std::string_view org_id);
// Backfill progress; `resume_after` (nullopt clears it) is where a restarted backfill goes on.
absl::Status SetBackfillProgress(postgres::Connection& conn, std::string_view org_id,
                                 std::string_view object, int64_t records_done,
                                 std::optional<int64_t> records_estimate,
                                 std::optional<Cursor> resume_after);
// Moves the polling cursor forward to `to` and stamps last_poll_at. Never moves it back: returns
// false (and changes nothing) when the stored cursor is already at or after `to`, so replays and
// racing writers are harmless. Call only once everything up to `to` is durably published.
absl::StatusOr<bool> AdvanceCursor(postgres::Connection& conn, std::string_view org_id,
                                   std::string_view object, const Cursor& to);
// Stamps last_poll_at (a poll that found nothing new).
absl::Status MarkPolled(postgres::Connection& conn, std::string_view org_id,
                        std::string_view object);
absl::Status SetSchemaFingerprint(postgres::Connection& conn, std::string_view org_id,
                                  std::string_view object, std::string_view fingerprint);

}  // namespace sfbridge::control
