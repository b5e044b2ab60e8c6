#include "common/salesforce/describe.h"

#include <simdjson.h>

namespace sfbridge::salesforce {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string String(object o, std::string_view key) {
  std::string_view v;
  if (o[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

bool Bool(object o, std::string_view key) {
  bool v = false;
  if (o[key].get_bool().get(v) != simdjson::SUCCESS) return false;
  return v;
}

int64_t Int(object o, std::string_view key) {
  int64_t v = 0;
  if (o[key].get_int64().get(v) != simdjson::SUCCESS) return 0;
  return v;
}

void ReadSummary(object o, SObjectSummary& s) {
  s.name = String(o, "name");
  s.label = String(o, "label");
  s.label_plural = String(o, "labelPlural");
  s.key_prefix = String(o, "keyPrefix");
  s.custom = Bool(o, "custom");
  s.custom_setting = Bool(o, "customSetting");
  s.queryable = Bool(o, "queryable");
  s.retrieveable = Bool(o, "retrieveable");
  s.replicateable = Bool(o, "replicateable");
  s.createable = Bool(o, "createable");
  s.updateable = Bool(o, "updateable");
  s.deletable = Bool(o, "deletable");
  s.undeletable = Bool(o, "undeletable");
  s.searchable = Bool(o, "searchable");
  s.triggerable = Bool(o, "triggerable");
  s.deprecated_and_hidden = Bool(o, "deprecatedAndHidden");
}

FieldDescribe ReadField(object o) {
  FieldDescribe f;
  f.name = String(o, "name");
  f.label = String(o, "label");
  f.type = String(o, "type");
  f.soap_type = String(o, "soapType");
  f.length = Int(o, "length");
  f.byte_length = Int(o, "byteLength");
  f.precision = Int(o, "precision");
  f.scale = Int(o, "scale");
  f.digits = Int(o, "digits");
  f.nillable = Bool(o, "nillable");
  f.createable = Bool(o, "createable");
  f.updateable = Bool(o, "updateable");
  f.calculated = Bool(o, "calculated");
  f.calculated_formula = String(o, "calculatedFormula");
  f.defaulted_on_create = Bool(o, "defaultedOnCreate");
  f.unique = Bool(o, "unique");
  f.external_id = Bool(o, "externalId");
  f.id_lookup = Bool(o, "idLookup");
  f.custom = Bool(o, "custom");
  array refs;
  if (o["referenceTo"].get_array().get(refs) == simdjson::SUCCESS) {
    for (element r : refs) {
      std::string_view v;
      if (r.get_string().get(v) == simdjson::SUCCESS) f.reference_to.emplace_back(v);
    }
  }
  f.relationship_name = String(o, "relationshipName");
  array picklist;
  if (o["picklistValues"].get_array().get(picklist) == simdjson::SUCCESS) {
    for (element p : picklist) {
      object po;
      if (p.get_object().get(po) != simdjson::SUCCESS) continue;
      f.picklist_values.push_back(
          {String(po, "value"), String(po, "label"), Bool(po, "active"), Bool(po, "defaultValue")});
    }
  }
  f.restricted_picklist = Bool(o, "restrictedPicklist");
  f.compound_field_name = String(o, "compoundFieldName");
  f.auto_number = Bool(o, "autoNumber");
  f.html_formatted = Bool(o, "htmlFormatted");
  return f;
}

}  // namespace

const FieldDescribe* SObjectDescribe::FindField(std::string_view name) const {
  for (const FieldDescribe& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::StatusOr<std::vector<SObjectSummary>> ParseDescribeGlobal(std::string_view json) {
  simdjson::dom::parser parser;
  object root;
  array sobjects;
  if (parser.parse(json.data(), json.size()).get_object().get(root) != simdjson::SUCCESS ||
      root["sobjects"].get_array().get(sobjects) != simdjson::SUCCESS) {
    return absl::InternalError("malformed describeGlobal reply: no \"sobjects\" array");
  }
  std::vector<SObjectSummary> out;
  for (element e : sobjects) {
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      return absl::InternalError("malformed describeGlobal reply: an entry is not an object");
    }
    ReadSummary(o, out.emplace_back());
  }
  return out;
}

absl::StatusOr<SObjectDescribe> ParseDescribe(std::string_view json) {
  simdjson::dom::parser parser;
  object root;
  array fields;
  if (parser.parse(json.data(), json.size()).get_object().get(root) != simdjson::SUCCESS ||
      root["fields"].get_array().get(fields) != simdjson::SUCCESS) {
    return absl::InternalError("malformed describe reply: no \"fields\" array");
  }
  SObjectDescribe out;
  ReadSummary(root, out);
  for (element e : fields) {
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      return absl::InternalError("malformed describe reply: a field is not an object");
    }
    out.fields.push_back(ReadField(o));
  }
  return out;
}

}  // namespace sfbridge::salesforce
