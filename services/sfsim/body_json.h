#pragma once

// Request bodies as Salesforce reads them: record objects, sObject Collections and Composite
// requests. Malformed JSON and values of a shape no field can take are answered the way
// Salesforce does: 400 JSON_PARSER_ERROR with a message that says where.

#include <string>
#include <vector>

#include "sfsim/org/org.h"

namespace sfbridge::sfsim {

// A record as sent in a body: its fields, plus the two keys that are not fields.
struct BodyRecord {
  std::string type;  // attributes.type, when given
  std::string id;    // "Id" or "id", when given
  org::InputRecord fields;
};

// {"LastName":"x",...}. `keep_id`: leave Id among the fields (create refuses it as
// INVALID_FIELD); otherwise move it to BodyRecord::id.
org::Result<BodyRecord> ParseRecordJson(const std::string& body, bool keep_id);

struct CollectionBody {
  bool all_or_none = false;
  std::vector<BodyRecord> records;
};
// {"allOrNone":true,"records":[{"attributes":{"type":"Contact"},...}]}
org::Result<CollectionBody> ParseCollectionJson(const std::string& body, bool keep_id);

struct CompositeSubrequest {
  std::string method;
  std::string url;
  std::string reference_id;
  std::string body;  // raw JSON, empty when none
};
struct CompositeBody {
  bool all_or_none = false;
  std::vector<CompositeSubrequest> requests;
};
// {"allOrNone":true,"compositeRequest":[{"method","url","referenceId","body"}]}
org::Result<CompositeBody> ParseCompositeJson(const std::string& body);

// The value at `path` in a JSON document, as text: strings unquoted, numbers and booleans as
// written. `path` is what follows a reference id in @{ref.field}, @{ref[0].id} or
// @{ref.records[0].Id}: member names after '.', array indexes in brackets (a leading '.' is
// optional). Empty when absent or null.
std::string JsonMemberText(const std::string& json, const std::string& path);

}  // namespace sfbridge::sfsim
