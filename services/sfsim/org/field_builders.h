#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sfsim/org/org.h"

// Builders for FieldDef with the describe flags Salesforce gives each field type, so that the
// catalog reads as a list of fields rather than a list of flags.
namespace sfbridge::sfsim::org {

FieldDef IdField();
FieldDef TextField(std::string name, std::string label, int length);
// Up to 255 characters a textarea can be filtered and sorted; longer it is a long text area.
FieldDef TextAreaField(std::string name, std::string label, int length);
FieldDef PicklistField(std::string name, std::string label, const std::vector<std::string>& values,
                       bool restricted = false, std::string_view default_value = {});
FieldDef MultiPicklistField(std::string name, std::string label,
                            const std::vector<std::string>& values, bool restricted = false);
FieldDef EmailField(std::string name, std::string label);
FieldDef PhoneField(std::string name, std::string label);
FieldDef UrlField(std::string name, std::string label);
FieldDef BooleanField(std::string name, std::string label, bool default_value = false);
FieldDef IntField(std::string name, std::string label, int digits = 9);
FieldDef DoubleField(std::string name, std::string label, int precision, int scale);
FieldDef CurrencyField(std::string name, std::string label, int precision = 18, int scale = 2);
FieldDef PercentField(std::string name, std::string label, int precision = 3, int scale = 0);
FieldDef DateField(std::string name, std::string label);
FieldDef DateTimeField(std::string name, std::string label);
FieldDef TimeField(std::string name, std::string label);
FieldDef ReferenceField(std::string name, std::string label, std::string target,
                        std::string relationship_name);
// `Prefix` + Street/City/State/PostalCode/Country/Latitude/Longitude and the compound
// `PrefixAddress` (type address, read-only, not filterable), in describe order.
std::vector<FieldDef> AddressFields(std::string_view prefix, std::string_view label_prefix);
// OwnerId: reference to User, defaulted to the API user on create.
FieldDef OwnerField();
// IsDeleted, CreatedDate, CreatedById, LastModifiedDate, LastModifiedById, SystemModstamp.
std::vector<FieldDef> SystemFields();

// Modifiers.
FieldDef Required(FieldDef field);  // not nillable, must be given on create
FieldDef ReadOnly(FieldDef field);  // neither createable nor updateable
FieldDef Custom(FieldDef field);
FieldDef Unique(FieldDef field, bool external_id);
// An external id that is not unique: upsert by it can match several records.
FieldDef ExternalId(FieldDef field);
FieldDef AutoNumber(FieldDef field);
FieldDef Calculated(FieldDef field, std::string formula);

}  // namespace sfbridge::sfsim::org
