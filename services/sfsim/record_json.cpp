#include "sfsim/record_json.h"

#include <cctype>

#include "common/core/strings.h"

namespace sfbridge::sfsim {
namespace {

using core::StrCat;

bool IsQuoted(soql::ValueKind kind) {
  return kind == soql::ValueKind::kString || kind == soql::ValueKind::kDate ||
         kind == soql::ValueKind::kDateTime || kind == soql::ValueKind::kTime;
}

// "BillingStreet" of compound "BillingAddress" -> "street"; "Location__Latitude__s" -> "latitude".
std::string ComponentKey(const org::FieldDef& component) {
  std::string_view compound = component.compound_field_name;
  std::string_view name = component.name;
  std::string_view stem = compound;
  if (stem.ends_with("Address")) stem.remove_suffix(7);
  if (stem.ends_with("__c")) stem.remove_suffix(3);
  std::string_view rest = name.starts_with(stem) ? name.substr(stem.size()) : name;
  if (rest.starts_with("__")) rest.remove_prefix(2);
  if (rest.ends_with("__s")) rest.remove_suffix(3);
  std::string key(rest);
  if (!key.empty()) key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
  return key;
}

void WriteCompound(core::JsonWriter& w, const org::ObjectDef& object,
                   const org::RecordVersion& record, const org::FieldDef& compound) {
  bool any = false;
  for (size_t i = 0; i < object.fields.size(); ++i) {
    if (object.fields[i].compound_field_name == compound.name && !record.values[i].IsNull()) {
      any = true;
      break;
    }
  }
  if (!any) {
    w.Null();
    return;
  }
  w.BeginObject();
  for (size_t i = 0; i < object.fields.size(); ++i) {
    const org::FieldDef& f = object.fields[i];
    if (f.compound_field_name != compound.name) continue;
    w.Key(ComponentKey(f));
    WriteValue(w, f, record.values[i]);
  }
  w.EndObject();
}

void WriteFieldDescribe(core::JsonWriter& w, const org::FieldDef& f) {
  w.BeginObject()
      .Member("aggregatable", f.type != "textarea" && f.type != "address")
      .Member("autoNumber", f.auto_number)
      .Member("byteLength", f.length * 3)
      .Member("calculated", f.calculated);
  if (f.calculated) {
    w.Member("calculatedFormula", f.calculated_formula);
  } else {
    w.Key("calculatedFormula").Null();
  }
  w.Member("caseSensitive", false).Key("compoundFieldName");
  if (f.compound_field_name.empty()) {
    w.Null();
  } else {
    w.String(f.compound_field_name);
  }
  w.Member("createable", f.createable).Member("custom", f.custom).Key("defaultValue");
  if (f.default_value.empty()) {
    w.Null();
  } else if (f.type == "boolean") {
    w.Bool(f.default_value == "true");
  } else {
    w.String(f.default_value);
  }
  w.Member("defaultedOnCreate", f.defaulted_on_create)
      .Member("deprecatedAndHidden", false)
      .Member("digits", f.digits)
      .Member("externalId", f.external_id)
      .Member("filterable", f.filterable)
      .Member("groupable", f.type != "double" && f.type != "currency" && f.type != "textarea")
      .Member("htmlFormatted", f.html_formatted)
      .Member("idLookup", f.id_lookup)
      .Member("label", f.label)
      .Member("length", f.length)
      .Member("name", f.name)
      .Member("nameField", f.name == "Name")
      .Member("nillable", f.nillable)
      .Key("picklistValues")
      .BeginArray();
  for (const org::PicklistEntry& p : f.picklist_values) {
    w.BeginObject()
        .Member("active", p.active)
        .Member("defaultValue", p.default_value)
        .Member("label", p.label)
        .Key("validFor")
        .Null()
        .Member("value", p.value)
        .EndObject();
  }
  w.EndArray()
      .Member("precision", f.precision)
      .StringArray("referenceTo", f.reference_to)
      .Key("relationshipName");
  if (f.relationship_name.empty()) {
    w.Null();
  } else {
    w.String(f.relationship_name);
  }
  w.Member("restrictedPicklist", f.restricted_picklist)
      .Member("scale", f.scale)
      .Member("soapType", f.soap_type)
      .Member("sortable", f.sortable)
      .Member("type", f.type)
      .Member("unique", f.unique)
      .Member("updateable", f.updateable)
      .EndObject();
}

void WriteObjectFlags(core::JsonWriter& w, const org::ObjectDef& o, std::string_view api_version) {
  std::string base = StrCat("/services/data/v", api_version, "/sobjects/", o.name);
  w.Member("activateable", false)
      .Member("createable", o.createable)
      .Member("custom", o.custom)
      .Member("customSetting", false)
      .Member("deletable", o.deletable)
      .Member("deprecatedAndHidden", false)
      .Member("feedEnabled", false)
      .Key("keyPrefix");
  if (o.key_prefix.empty()) {
    w.Null();
  } else {
    w.String(o.key_prefix);
  }
  w.Member("label", o.label)
      .Member("labelPlural", o.label_plural)
      .Member("layoutable", true)
      .Member("mergeable", false)
      .Member("mruEnabled", false)
      .Member("name", o.name)
      .Member("queryable", o.queryable)
      .Member("replicateable", o.replicateable)
      .Member("retrieveable", true)
      .Member("searchable", o.searchable)
      .Member("triggerable", o.triggerable)
      .Member("undeletable", o.undeletable)
      .Member("updateable", o.updateable)
      .Key("urls")
      .BeginObject()
      .Member("sobject", base)
      .Member("describe", StrCat(base, "/describe"))
      .Member("rowTemplate", StrCat(base, "/{ID}"))
      .EndObject();
}

}  // namespace

void WriteValue(core::JsonWriter& w, const org::FieldDef& field, const soql::Value& value) {
  switch (value.Kind()) {
    case soql::ValueKind::kNull:
      w.Null();
      return;
    case soql::ValueKind::kBoolean:
      w.Bool(value.Bool());
      return;
    case soql::ValueKind::kNumber:
      w.Raw(value.Text());
      return;
    case soql::ValueKind::kString:
      w.String(value.Text());
      return;
    default:
      break;
  }
  if (IsQuoted(value.Kind())) {
    w.String(value.ToString());
  } else {
    w.Raw(value.ToString());
  }
}

void WriteRecord(core::JsonWriter& w, const org::ObjectDef& object,
                 const org::RecordVersion& record, const std::vector<size_t>& selected,
                 std::string_view api_version) {
  w.BeginObject()
      .Key("attributes")
      .BeginObject()
      .Member("type", object.name)
      .Member("url",
              StrCat("/services/data/v", api_version, "/sobjects/", object.name, "/", record.id))
      .EndObject();
  for (size_t index : selected) {
    const org::FieldDef& f = object.fields[index];
    w.Key(f.name);
    if (f.type == "address" || f.type == "location") {
      WriteCompound(w, object, record, f);
    } else {
      WriteValue(w, f, record.values[index]);
    }
  }
  w.EndObject();
}

std::string DescribeGlobalJson(const std::vector<org::ObjectDef>& objects,
                               std::string_view api_version) {
  core::JsonWriter w;
  w.BeginObject()
      .Member("encoding", "UTF-8")
      .Member("maxBatchSize", 200)
      .Key("sobjects")
      .BeginArray();
  for (const org::ObjectDef& o : objects) {
    w.BeginObject();
    WriteObjectFlags(w, o, api_version);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string DescribeJson(const org::ObjectDef& object, std::string_view api_version) {
  core::JsonWriter w;
  w.BeginObject();
  WriteObjectFlags(w, object, api_version);
  w.Key("childRelationships").BeginArray().EndArray();
  w.Key("fields").BeginArray();
  for (const org::FieldDef& f : object.fields) WriteFieldDescribe(w, f);
  w.EndArray();
  w.Key("recordTypeInfos").BeginArray().EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace sfbridge::sfsim
