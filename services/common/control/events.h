#pragma once

// The org's event log, sfbridge.events: what happened (a backfill finished, an object failed),
// for the CLI and for anyone listening. Every inserted event is also sent with
// NOTIFY sfbridge_events, '<json>' by a trigger, in the inserting transaction, so listeners hear
// of it exactly when it commits. The payload is
//   {"id": 7, "org_id": "...", "object_name": "Contact" | null, "kind": "...", "detail": {...}}
// with "detail" replaced by "truncated": true when the payload would pass NOTIFY's 8000 bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/postgres/connection.h"

namespace sfbridge::control {

inline constexpr std::string_view kEventsChannel = "sfbridge_events";

// Kinds in use; others may be added freely (the column is free text).
inline constexpr std::string_view kEventBackfillComplete = "backfill_complete";
// An object read through REST because its Bulk API backfill could not be used (the reason).
inline constexpr std::string_view kEventBulkFallback = "bulk_fallback";
inline constexpr std::string_view kEventObjectError = "object_error";
inline constexpr std::string_view kEventOrgBackfillComplete = "org_backfill_complete";
inline constexpr std::string_view kEventOrgError = "org_error";

// Records an event (and notifies) in a transaction of its own. `detail_json` must be a JSON
// object ("" means {}). Errors: kInvalidArgument for malformed JSON, database errors.
absl::Status RecordEvent(postgres::Connection& conn, std::string_view org_id,
                         std::optional<std::string_view> object, std::string_view kind,
                         std::string_view detail_json);
// The same inside the caller's transaction, e.g. with the state change it reports: the event
// exists, and is announced, only if that transaction commits.
absl::Status RecordEvent(postgres::Transaction& tx, std::string_view org_id,
                         std::optional<std::string_view> object, std::string_view kind,
                         std::string_view detail_json);

struct Event {
  int64_t id = 0;
  std::string org_id;
  std::optional<std::string> object_name;
  std::string kind;
  std::string detail_json;
  int64_t created_at_ms = 0;
};

// Records an event like RecordEvent and returns it as stored (id, time).
absl::StatusOr<Event> InsertEvent(postgres::Connection& conn, std::string_view org_id,
                                  std::optional<std::string_view> object, std::string_view kind,
                                  std::string_view detail_json);
// Records the event only if the org has none of this kind yet (for this object, when given):
// nullopt when one existed. Callers in any number of processes serialise on an advisory lock
// of the org and kind, so the event is recorded exactly once.
absl::StatusOr<std::optional<Event>> RecordEventOnce(postgres::Connection& conn,
                                                     std::string_view org_id,
                                                     std::optional<std::string_view> object,
                                                     std::string_view kind,
                                                     std::string_view detail_json);
// The event as NOTIFY sends it: {"id":..,"org_id":..,"object_name":..,"kind":..,"detail":{..}}.
std::string EventJson(const Event& event);

// The org's events with id > `after_id`, oldest first, at most `limit`.
absl::StatusOr<std::vector<Event>> LoadEvents(postgres::Connection& conn, std::string_view org_id,
                                              int64_t after_id = 0, int limit = 100);

}  // namespace sfbridge::control
