#pragma once

// From describe to what the fetcher publishes and reads: the ObjectSchema (topic
// sfbridge.<org>.schemas), the objects synced by default, and the fields fetched per object.
// Pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/salesforce/describe.h"
#include "sfbridge/v1/schema.pb.h"

namespace sfbridge::mapping {

// Hex SHA-256 (64 characters) over every field's name, type, length, precision and scale, in
// describe order. The same describe gives the same fingerprint in every run and process; any
// added, removed, renamed, retyped, resized or reordered field changes it. Labels, picklist
// values and flags do not take part: they do not change what a column holds.
std::string SchemaFingerprint(const salesforce::SObjectDescribe& describe);

// Every field of the describe (in order), with the fingerprint above. `version` is left 0: the
// caller numbers versions (it knows the previous one).
v1::ObjectSchema ToObjectSchema(std::string_view org_id,
                                const salesforce::SObjectDescribe& describe,
                                int64_t described_at_ms);

// Why an object is not synced unless it is asked for by name; nullopt when it is synced by
// default. The rule, in order:
//   - it must be queryable and replicateable and not deprecatedAndHidden;
//   - names ending in History, Share, Feed, ChangeEvent (field history, sharing rows, Chatter
//     feeds, CDC event types: no SystemModstamp keyset, or not queryable without a filter in
//     bulk), and the custom suffixes __e (platform events), __b (big objects), __x (external
//     objects), __mdt (custom metadata), __hd (historical trending), __kav / __ka (knowledge,
//     which require a PublishStatus filter);
//   - a few standard objects that refuse an unfiltered query: ContentDocumentLink,
//     ContentFolderItem, ContentFolderMember, IdeaComment, Vote, RecentlyViewed,
//     UserRecordAccess, FlexQueueItem, DatacloudAddress.
std::optional<std::string> DefaultExclusion(const salesforce::SObjectSummary& object);

// The objects to sync, from describeGlobal. `requested` nullopt: every object DefaultExclusion
// lets through, in describeGlobal order. Otherwise exactly the requested ones (the default
// rule does not apply: asking for OpportunityHistory by name is allowed), matched
// case-insensitively and returned with Salesforce's spelling, in the requested order, without
// repeats. Errors: kInvalidArgument naming every requested name that does not exist in the org,
// and every one that is not queryable.
absl::StatusOr<std::vector<std::string>> SelectObjects(
    const std::vector<salesforce::SObjectSummary>& global,
    const std::optional<std::vector<std::string>>& requested);

// Whether a field is read: every field except the compound address/location parents (their
// components are fields of their own) and base64 (file bodies, only retrievable one at a time).
bool IsFetchedField(const salesforce::FieldDescribe& field);

// How a field's JSON value becomes a v1::FieldValue.
enum class ValueKind {
  kText,      // JSON string -> text (id, reference, string, picklist, email, ...)
  kBoolean,   // JSON true/false -> boolean
  kNumber,    // JSON number -> number, the exact text (int, long, double, currency, percent)
  kDateTime,  // JSON string -> datetime_ms
  kDate,      // JSON string -> date_days
  kTime,      // JSON string -> time_ms
  kMulti,     // JSON string -> multi (multipicklist, ';'-separated)
  kAny,       // anyType and unknown types: the JSON kind decides (object -> raw JSON text)
};
ValueKind ValueKindOf(std::string_view salesforce_type);

struct PlannedField {
  std::string name;  // API name
  std::string type;  // Salesforce type, for messages
  ValueKind kind = ValueKind::kAny;
};

// The fields read from one object, in query order, and how to convert them.
struct FieldPlan {
  std::string object_name;
  std::string schema_fingerprint;  // copied into every RecordChange
  std::vector<PlannedField> fields;

  // Index of `name` in `fields`, or -1. Exact, case-sensitive (replies use describe's spelling).
  int IndexOf(std::string_view name) const;
  std::vector<std::string> FieldNames() const;

  // name -> index; filled by MakeFieldPlan / Reindex().
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int, Hash, std::equal_to<>> index;
  int id_index = -1;          // of "Id"
  int modstamp_index = -1;    // of "SystemModstamp"
  int is_deleted_index = -1;  // of "IsDeleted"; -1 when the object has none
  // Rebuilds `index` and the indexes above after `fields` was changed by hand.
  void Reindex();
};

// The fetched fields of `describe`, in describe order. Errors: kFailedPrecondition when the
// object lacks Id or SystemModstamp (it cannot be read with a keyset cursor).
absl::StatusOr<FieldPlan> MakeFieldPlan(const salesforce::SObjectDescribe& describe);

}  // namespace sfbridge::mapping
