#pragma once

// Object and field metadata from describeGlobal (GET /sobjects) and describe
// (GET /sobjects/{Name}/describe), reference §2. Only the keys sfbridge uses are kept; unknown
// keys are ignored and missing ones keep their defaults, so newer API versions parse.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sfbridge::salesforce {

struct SObjectSummary {
  std::string name;
  std::string label;
  std::string label_plural;
  std::string key_prefix;  // empty when Salesforce sends null
  bool custom = false;
  bool custom_setting = false;
  bool queryable = false;
  bool retrieveable = false;
  bool replicateable = false;
  bool createable = false;
  bool updateable = false;
  bool deletable = false;
  bool undeletable = false;
  bool searchable = false;
  bool triggerable = false;
  bool deprecated_and_hidden = false;
};

struct PicklistValue {
  std::string value;
  std::string label;
  bool active = false;
  bool default_value = false;
};

struct FieldDescribe {
  std::string name;
  std::string label;
  std::string type;       // "id", "string", "currency", "address", ... (reference §2)
  std::string soap_type;  // "tns:ID", "xsd:double", ...
  int64_t length = 0;
  int64_t byte_length = 0;
  int64_t precision = 0;
  int64_t scale = 0;
  int64_t digits = 0;
  bool nillable = false;
  bool createable = false;
  bool updateable = false;
  bool calculated = false;
  std::string calculated_formula;  // empty when null
  bool defaulted_on_create = false;
  bool unique = false;
  bool external_id = false;
  bool id_lookup = false;
  bool custom = false;
  std::vector<std::string> reference_to;
  std::string relationship_name;  // empty when null
  std::vector<PicklistValue> picklist_values;
  bool restricted_picklist = false;
  std::string compound_field_name;  // "BillingAddress" for BillingCity; empty when null
  bool auto_number = false;
  bool html_formatted = false;
};

struct SObjectDescribe : SObjectSummary {
  std::vector<FieldDescribe> fields;  // in Salesforce's order

  const FieldDescribe* FindField(std::string_view name) const;
};

// Errors: kInternal when the JSON is not a describeGlobal / describe reply.
absl::StatusOr<std::vector<SObjectSummary>> ParseDescribeGlobal(std::string_view json);
absl::StatusOr<SObjectDescribe> ParseDescribe(std::string_view json);

}  // namespace sfbridge::salesforce
