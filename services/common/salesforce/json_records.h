#pragma once

// Records as the REST API writes and reads them, with every value keeping its exact meaning:
// numbers stay the decimal text Salesforce sent (currency never passes through a double),
// strings are unescaped, null stays null, and compound values (address, location, a related
// record, a subquery) stay raw JSON.
//
// Parsing uses simdjson's On Demand API; one parser per thread is reused. All functions are
// thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/core/json_writer.h"

namespace sfbridge::salesforce {

struct FieldValue {
  enum class Kind { kNull, kBool, kNumber, kString, kObject };

  Kind kind = Kind::kNull;
  // kNumber: the JSON number's exact text ("12345678901234567.89");
  // kString: the unescaped string; kObject: the raw JSON of the object (or array).
  std::string text;
  bool boolean = false;  // kBool only

  static FieldValue Null() { return {}; }
  static FieldValue Bool(bool b) { return {Kind::kBool, {}, b}; }
  // `text` must be a valid JSON number; it is written out as is.
  static FieldValue Number(std::string text) { return {Kind::kNumber, std::move(text), false}; }
  static FieldValue String(std::string text) { return {Kind::kString, std::move(text), false}; }
  // `json` must be valid JSON; it is written out as is.
  static FieldValue Object(std::string json) { return {Kind::kObject, std::move(json), false}; }

  bool operator==(const FieldValue&) const = default;
};

using Fields = std::vector<std::pair<std::string, FieldValue>>;

struct Record {
  std::string type;  // attributes.type, e.g. "Contact"
  std::string id;    // the Id field when selected (it also stays in `fields`), else empty
  Fields fields;     // in reply order, without "attributes"

  // The value of field `name` (exact, case-sensitive), if present.
  const FieldValue* Find(std::string_view name) const;
};

struct QueryPage {
  int64_t total_size = 0;
  bool done = true;
  std::string next_records_url;  // set only while !done
  std::vector<Record> records;
};

// Parses a query / queryAll / nextRecordsUrl reply. Errors: kInternal for JSON that is not a
// query reply (the message says where it broke, never quoting values).
absl::StatusOr<QueryPage> ParseQueryPage(std::string_view json);

// Parses a JSON array of records, where an element may be null (the reply of a collections
// retrieve for ids that do not exist).
absl::StatusOr<std::vector<std::optional<Record>>> ParseRecordArray(std::string_view json);

// Appends `text` as a quoted JSON string (quotes, backslashes and control characters escaped).
// Kept for the proxy's write path, which still builds its JSON by hand; everything else writes
// JSON with core::JsonWriter.
void AppendJsonString(std::string* out, std::string_view text);
// Writes the JSON of one value: numbers and objects raw, strings escaped, null as null.
void WriteFieldValue(core::JsonWriter& w, const FieldValue& value);
// Writes {"attributes":{"type":<type>},<fields...>}; without attributes when `type` is empty.
void WriteRecordObject(core::JsonWriter& w, std::string_view type, const Fields& fields);

}  // namespace sfbridge::salesforce
