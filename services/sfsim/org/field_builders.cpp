#include "sfsim/org/field_builders.h"

#include <utility>

namespace sfbridge::sfsim::org {
namespace {

FieldDef Base(std::string name, std::string label, std::string type, std::string soap_type,
              soql::FieldType soql_type) {
  FieldDef field;
  field.name = std::move(name);
  field.label = std::move(label);
  field.type = std::move(type);
  field.soap_type = std::move(soap_type);
  field.soql_type = soql_type;
  field.custom = field.name.ends_with("__c");
  return field;
}

FieldDef Number(std::string name, std::string label, std::string type, soql::FieldType soql_type,
                int precision, int scale) {
  FieldDef field =
      Base(std::move(name), std::move(label), std::move(type), "xsd:double", soql_type);
  field.precision = precision;
  field.scale = scale;
  return field;
}

std::vector<PicklistEntry> Entries(const std::vector<std::string>& values,
                                   std::string_view default_value) {
  std::vector<PicklistEntry> entries;
  for (const std::string& value : values) {
    entries.push_back(PicklistEntry{value, value, true, value == default_value});
  }
  return entries;
}

FieldDef SystemDateTime(std::string name, std::string label) {
  FieldDef field = ReadOnly(Required(DateTimeField(std::move(name), std::move(label))));
  field.defaulted_on_create = true;
  return field;
}

FieldDef SystemUser(std::string name, std::string label, std::string relationship) {
  FieldDef field = ReadOnly(
      Required(ReferenceField(std::move(name), std::move(label), "User", std::move(relationship))));
  field.defaulted_on_create = true;
  return field;
}

}  // namespace

FieldDef IdField() {
  FieldDef field =
      ReadOnly(Required(Base("Id", "Record ID", "id", "tns:ID", soql::FieldType::kId)));
  field.length = 18;
  field.defaulted_on_create = true;
  field.id_lookup = true;
  return field;
}

FieldDef TextField(std::string name, std::string label, int length) {
  FieldDef field =
      Base(std::move(name), std::move(label), "string", "xsd:string", soql::FieldType::kString);
  field.length = length;
  return field;
}

FieldDef TextAreaField(std::string name, std::string label, int length) {
  const bool long_text = length > 255;
  FieldDef field = Base(std::move(name), std::move(label), "textarea", "xsd:string",
                        long_text ? soql::FieldType::kLongTextArea : soql::FieldType::kTextArea);
  field.length = length;
  field.filterable = !long_text;
  field.sortable = !long_text;
  return field;
}

FieldDef PicklistField(std::string name, std::string label, const std::vector<std::string>& values,
                       bool restricted, std::string_view default_value) {
  FieldDef field =
      Base(std::move(name), std::move(label), "picklist", "xsd:string", soql::FieldType::kPicklist);
  field.length = 255;
  field.picklist_values = Entries(values, default_value);
  field.restricted_picklist = restricted;
  if (!default_value.empty()) {
    field.defaulted_on_create = true;
    field.default_value = std::string(default_value);
  }
  return field;
}

FieldDef MultiPicklistField(std::string name, std::string label,
                            const std::vector<std::string>& values, bool restricted) {
  FieldDef field = Base(std::move(name), std::move(label), "multipicklist", "xsd:string",
                        soql::FieldType::kMultiPicklist);
  field.length = 4099;
  field.picklist_values = Entries(values, {});
  field.restricted_picklist = restricted;
  field.sortable = false;
  return field;
}

FieldDef EmailField(std::string name, std::string label) {
  FieldDef field =
      Base(std::move(name), std::move(label), "email", "xsd:string", soql::FieldType::kEmail);
  field.length = 80;
  return field;
}

FieldDef PhoneField(std::string name, std::string label) {
  FieldDef field =
      Base(std::move(name), std::move(label), "phone", "xsd:string", soql::FieldType::kPhone);
  field.length = 40;
  return field;
}

FieldDef UrlField(std::string name, std::string label) {
  FieldDef field =
      Base(std::move(name), std::move(label), "url", "xsd:string", soql::FieldType::kUrl);
  field.length = 255;
  return field;
}

FieldDef BooleanField(std::string name, std::string label, bool default_value) {
  FieldDef field =
      Base(std::move(name), std::move(label), "boolean", "xsd:boolean", soql::FieldType::kBoolean);
  // Salesforce booleans are never null: a missing value takes the default.
  field.nillable = false;
  field.defaulted_on_create = true;
  field.default_value = default_value ? "true" : "false";
  return field;
}

FieldDef IntField(std::string name, std::string label, int digits) {
  FieldDef field = Base(std::move(name), std::move(label), "int", "xsd:int", soql::FieldType::kInt);
  field.digits = digits;
  return field;
}

FieldDef DoubleField(std::string name, std::string label, int precision, int scale) {
  return Number(std::move(name), std::move(label), "double", soql::FieldType::kDouble, precision,
                scale);
}

FieldDef CurrencyField(std::string name, std::string label, int precision, int scale) {
  return Number(std::move(name), std::move(label), "currency", soql::FieldType::kCurrency,
                precision, scale);
}

FieldDef PercentField(std::string name, std::string label, int precision, int scale) {
  return Number(std::move(name), std::move(label), "percent", soql::FieldType::kPercent, precision,
                scale);
}

FieldDef DateField(std::string name, std::string label) {
  return Base(std::move(name), std::move(label), "date", "xsd:date", soql::FieldType::kDate);
}

FieldDef DateTimeField(std::string name, std::string label) {
  return Base(std::move(name), std::move(label), "datetime", "xsd:dateTime",
              soql::FieldType::kDateTime);
}

FieldDef TimeField(std::string name, std::string label) {
  return Base(std::move(name), std::move(label), "time", "xsd:time", soql::FieldType::kTime);
}

FieldDef ReferenceField(std::string name, std::string label, std::string target,
                        std::string relationship_name) {
  FieldDef field =
      Base(std::move(name), std::move(label), "reference", "tns:ID", soql::FieldType::kReference);
  field.length = 18;
  field.reference_to = {std::move(target)};
  field.relationship_name = std::move(relationship_name);
  return field;
}

std::vector<FieldDef> AddressFields(std::string_view prefix, std::string_view label_prefix) {
  const std::string p(prefix), l(label_prefix);
  std::vector<FieldDef> fields = {
      TextAreaField(p + "Street", l + " Street", 255),
      TextField(p + "City", l + " City", 40),
      TextField(p + "State", l + " State/Province", 80),
      TextField(p + "PostalCode", l + " Zip/Postal Code", 20),
      TextField(p + "Country", l + " Country", 80),
      DoubleField(p + "Latitude", l + " Latitude", 18, 15),
      DoubleField(p + "Longitude", l + " Longitude", 18, 15),
  };
  // The compound is described like any field, but SOQL can only select it.
  FieldDef compound = ReadOnly(Base(p + "Address", l + " Address", "address", "urn:address",
                                    soql::FieldType::kLongTextArea));
  compound.filterable = false;
  compound.sortable = false;
  for (FieldDef& field : fields) field.compound_field_name = compound.name;
  fields.push_back(std::move(compound));
  return fields;
}

FieldDef OwnerField() {
  FieldDef field = Required(ReferenceField("OwnerId", "Owner ID", "User", "Owner"));
  field.defaulted_on_create = true;
  return field;
}

std::vector<FieldDef> SystemFields() {
  FieldDef is_deleted = ReadOnly(BooleanField("IsDeleted", "Deleted"));
  return {
      std::move(is_deleted),
      SystemDateTime("CreatedDate", "Created Date"),
      SystemUser("CreatedById", "Created By ID", "CreatedBy"),
      SystemDateTime("LastModifiedDate", "Last Modified Date"),
      SystemUser("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
      SystemDateTime("SystemModstamp", "System Modstamp"),
  };
}

FieldDef Required(FieldDef field) {
  field.nillable = false;
  return field;
}

FieldDef ReadOnly(FieldDef field) {
  field.createable = false;
  field.updateable = false;
  return field;
}

FieldDef Custom(FieldDef field) {
  field.custom = true;
  return field;
}

FieldDef Unique(FieldDef field, bool external_id) {
  field.unique = true;
  field.external_id = external_id;
  field.id_lookup = true;
  return field;
}

FieldDef ExternalId(FieldDef field) {
  field.external_id = true;
  field.id_lookup = true;
  return field;
}

FieldDef AutoNumber(FieldDef field) {
  field = ReadOnly(Required(std::move(field)));
  field.auto_number = true;
  field.defaulted_on_create = true;
  field.id_lookup = true;
  return field;
}

FieldDef Calculated(FieldDef field, std::string formula) {
  field = ReadOnly(std::move(field));
  field.calculated = true;
  field.calculated_formula = std::move(formula);
  return field;
}

}  // namespace sfbridge::sfsim::org
