#pragma once

// The simulated Salesforce org: object definitions, records, and every change to them.
//
// The HTTP layer of sfsim (services/sfsim/) turns requests into calls on Org and Org's answers
// into Salesforce's JSON; everything Salesforce decides — validation, ids, SystemModstamp,
// recycle bin, query results — is decided here, so it can be tested without HTTP.
//
// Thread-safety: every public member may be called from many threads at once (HTTP worker
// threads and the churn generator). Records are immutable versions shared by pointer: a query
// result keeps the versions it matched even if they change later (as a Salesforce query locator
// does).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "common/core/clock.h"
#include "sfsim/soql/object_view.h"
#include "sfsim/soql/parser.h"
#include "sfsim/soql/value.h"

namespace sfbridge::sfsim::org {

struct PicklistEntry {
  std::string value;
  std::string label;
  bool active = true;
  bool default_value = false;
};

// One field as describe reports it.
struct FieldDef {
  std::string name;  // API name: "FirstName", "Amount__c", "BillingStreet"
  std::string label;
  std::string type;  // describe type: id, reference, string, textarea, picklist, multipicklist,
                     // combobox, email, phone, url, boolean, int, long, double, currency,
                     // percent, date, datetime, time, address, location
  std::string soap_type;  // tns:ID, xsd:string, xsd:boolean, xsd:int, xsd:double, xsd:date, ...
  soql::FieldType soql_type = soql::FieldType::kString;  // how SOQL filters and sorts it
  int length = 0;                                        // text types; byteLength is 3 × length
  int precision = 0;                                     // numbers: total digits
  int scale = 0;                                         // numbers: digits after the point
  int digits = 0;                                        // int
  bool nillable = true;
  bool createable = true;
  bool updateable = true;
  bool calculated = false;  // formula: read-only, computed on every write
  std::string calculated_formula;
  bool defaulted_on_create = false;
  std::string default_value;  // picklists/booleans: the value used when not given
  bool unique = false;
  bool external_id = false;
  bool id_lookup = false;
  bool custom = false;
  bool filterable = true;
  bool sortable = true;
  bool restricted_picklist = false;
  bool auto_number = false;
  bool html_formatted = false;
  std::vector<std::string> reference_to;  // reference fields: target objects
  std::string relationship_name;          // reference fields: "Account" for AccountId
  std::vector<PicklistEntry> picklist_values;
  std::string compound_field_name;  // components of address/location: "BillingAddress"
};

// One object as describeGlobal/describe report it.
struct ObjectDef {
  std::string name;  // "Account", "Invoice__c"
  std::string label;
  std::string label_plural;
  std::string key_prefix;  // "001"; custom objects "a0X"...
  bool custom = false;
  bool queryable = true;
  bool replicateable = true;
  bool createable = true;
  bool updateable = true;
  bool deletable = true;
  bool undeletable = true;
  bool searchable = true;
  bool triggerable = true;
  std::vector<FieldDef> fields;  // describe order; Id first
  // Validation rules beyond the field definitions, checked on create and update.
  // Returns the rule's message and the offending field when the record breaks it.
  struct Rule {
    std::string name;
    std::string field;
    std::string message;
    std::function<bool(const std::vector<soql::Value>&)> violated;  // by field index
  };
  std::vector<Rule> rules;
};

// A value as it arrives in a JSON body, before the org converts it to the field's type.
struct InputValue {
  enum class Kind { kNull, kBool, kNumber, kString };
  Kind kind = Kind::kNull;
  std::string text;  // kNumber: the exact JSON number text; kString: the string
  bool boolean = false;
};
using InputRecord = std::vector<std::pair<std::string, InputValue>>;  // API field name → value

// One immutable version of a record. Values are indexed like ObjectDef::fields; compound
// (address/location) fields hold null here and are assembled from components when serialized.
struct RecordVersion final : public soql::RecordView {
  const soql::Value& Get(std::size_t field_index) const override { return values[field_index]; }
  std::string id;  // 18 chars
  int64_t system_modstamp_ms = 0;
  bool is_deleted = false;  // in the recycle bin
  std::vector<soql::Value> values;
};
using RecordPtr = std::shared_ptr<const RecordVersion>;

// Salesforce's error for one record or one request: errorCode/statusCode, message, fields.
struct ApiError {
  int http_status = 400;
  std::string code;  // REQUIRED_FIELD_MISSING, INVALID_FIELD, MALFORMED_QUERY, ...
  std::string message;
  std::vector<std::string> fields;
};

template <typename T>
using Result = std::variant<T, ApiError>;  // either the answer or Salesforce's error

struct SaveResult {
  std::string id;
  bool success = false;
  std::vector<ApiError> errors;
  bool created = false;  // upsert: true when a new record was made
  // On success: the version this write replaced; nullptr for a create. Lets a caller undo it.
  RecordPtr previous;
};

struct QueryResult {
  const ObjectDef* object = nullptr;
  std::vector<std::size_t> selected;  // field indexes, in SELECT order
  bool count_only = false;            // SELECT COUNT()
  int64_t total_size = 0;
  std::vector<RecordPtr> records;  // after ORDER BY / OFFSET / LIMIT
};

struct DeletedRecord {
  std::string id;
  int64_t deleted_date_ms = 0;
};

struct OrgOptions {
  uint64_t seed = 1;
  std::map<std::string, int64_t> counts;  // object name → records generated at start
  std::string org_id;                     // 18-char; derived from the seed when empty
  // Records per object created with the same SystemModstamp in generated data (bursts), so
  // keyset paging at a shared timestamp is exercised by default.
  int burst_size = 250;
};

class Org {
 public:
  // Builds the object catalog and generates `options.counts` records per object,
  // deterministically from `options.seed` (same seed and counts → same ids and values).
  // There is always at least one User (the first is the user API writes are made as).
  // `clock` must outlive the Org. Errors: an unknown object name in counts (InvalidArgument);
  // records of an object whose required parent object has none (FailedPrecondition).
  static absl::StatusOr<std::unique_ptr<Org>> Create(const OrgOptions& options, core::Clock& clock);

  const std::string& org_id() const;
  const std::vector<ObjectDef>& objects() const;
  // Case-insensitive, like Salesforce. nullptr when there is none.
  const ObjectDef* FindObject(std::string_view name) const;
  // The object an id belongs to, by its key prefix. nullptr when none.
  const ObjectDef* ObjectOfId(std::string_view id) const;

  // Runs SOQL. `include_deleted`: queryAll. Errors as Salesforce gives them:
  // MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE (http 400).
  Result<QueryResult> Query(std::string_view soql, bool include_deleted) const;

  // The current version of a record (also from the recycle bin when `include_deleted`).
  RecordPtr Get(std::string_view id, bool include_deleted = false) const;

  // Validates and creates. An Id in the input → INVALID_FIELD; unknown field → INVALID_FIELD;
  // read-only field → INVALID_FIELD_FOR_INSERT_UPDATE; missing required → REQUIRED_FIELD_MISSING;
  // too long → STRING_TOO_LONG; bad restricted picklist value →
  // INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST; duplicate unique value → DUPLICATE_VALUE; rule
  // broken → FIELD_CUSTOM_VALIDATION_EXCEPTION; bad reference → MALFORMED_ID or
  // INVALID_CROSS_REFERENCE_KEY; a value of the wrong JSON type → JSON_PARSER_ERROR; too many
  // integer digits → NUMBER_OUTSIDE_VALID_RANGE; bad email → INVALID_EMAIL_ADDRESS; unknown
  // object → NOT_FOUND (404).
  // System fields (CreatedDate, LastModifiedDate, SystemModstamp, CreatedById, ...) and
  // formula fields are set by the org.
  SaveResult Create(std::string_view object, const InputRecord& fields);
  // Same checks for the given fields only. Missing → NOT_FOUND (404); in the recycle bin →
  // ENTITY_IS_DELETED (404); malformed id → MALFORMED_ID.
  SaveResult Update(std::string_view object, std::string_view id, const InputRecord& fields);
  // Moves the record to the recycle bin (IsDeleted = true, SystemModstamp advances).
  SaveResult Delete(std::string_view id);
  // Brings a record back from the recycle bin (IsDeleted = false, SystemModstamp advances); it
  // is then no longer listed by DeletedRecords. Not in the bin → UNDELETE_FAILED; purged or
  // unknown → NOT_FOUND (404); a unique value now taken by another record → DUPLICATE_VALUE.
  SaveResult Undelete(std::string_view id);
  // Upsert by an external-id field: updates the one match, creates when none; several matches →
  // http 300 MULTIPLE_CHOICES.
  SaveResult Upsert(std::string_view object, std::string_view external_id_field,
                    std::string_view external_id_value, const InputRecord& fields);

  // All-or-none batches (sObject Collections, Composite): every operation or none is applied;
  // when one fails the others report ALL_OR_NONE_OPERATION_ROLLED_BACK. With all_or_none=false
  // each succeeds or fails alone. At most 200 per call is the HTTP layer's check.
  struct Operation {
    enum class Kind { kCreate, kUpdate, kDelete, kUpsert } kind;
    std::string object;  // create/update/upsert
    std::string id;      // update/delete
    InputRecord fields;  // create/update/upsert (without the external id)
    // upsert: the external-id field and the record's value of it (as Upsert above)
    std::string external_id_field;
    std::string external_id_value;
  };
  std::vector<SaveResult> Apply(const std::vector<Operation>& ops, bool all_or_none);

  // getUpdated / getDeleted for [start, end), both truncated to whole minutes as Salesforce
  // does. Errors: unknown object → NOT_FOUND (404); end before start, or start more than 30
  // (updated) / 15 (deleted) days before the clock → INVALID_REPLICATION_DATE; more than
  // 600,000 ids → EXCEEDED_ID_LIMIT. UpdatedIds lists live records, oldest change first.
  Result<std::vector<std::string>> UpdatedIds(std::string_view object, int64_t start_ms,
                                              int64_t end_ms) const;
  Result<std::vector<DeletedRecord>> DeletedRecords(std::string_view object, int64_t start_ms,
                                                    int64_t end_ms) const;
  // Empties the recycle bin of `object` (all objects when empty): hard deletes. Purged records
  // disappear from queryAll; getDeleted still lists them.
  int64_t PurgeRecycleBin(std::string_view object = {});

  // For tests and the admin API: Id → SystemModstamp of every record (live and, when
  // `include_deleted`, in the bin) of an object.
  std::map<std::string, int64_t> Digest(std::string_view object, bool include_deleted) const;
  int64_t Count(std::string_view object, bool include_deleted) const;

  // Random changes for the churn generator, deterministic from `seed`: creates, updates and
  // deletes over the objects with records, `burst` of them sharing one SystemModstamp.
  // Returns how many changes were made.
  int ChurnStep(uint64_t seed, int changes, int burst);

  // Adds a field to an object at run time, as an admin adding a custom field in Setup: describe
  // shows it from now on, queries may select it, and every existing record holds null in it
  // (SystemModstamp unchanged, as in Salesforce). Errors: unknown object → NOT_FOUND (404); a
  // field of that name exists → DUPLICATE_DEVELOPER_NAME; the object cannot take more fields
  // → LIMIT_EXCEEDED (at most kMaxAddedFields per object).
  Result<bool> AddField(std::string_view object, FieldDef field);
  static constexpr std::size_t kMaxAddedFields = 32;

  // Undoes a write: puts `previous` back as the current version of `id`, or removes the record
  // entirely when `previous` is nullptr (an undone create). For Composite's allOrNone.
  void Restore(const std::string& id, RecordPtr previous);

  ~Org();

 private:
  Org();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sfbridge::sfsim::org
