#pragma once

// Salesforce's JSON for records and metadata: query rows, describeGlobal and describe.

#include <string>
#include <string_view>
#include <vector>

#include "common/core/json_writer.h"
#include "sfsim/org/org.h"

namespace sfbridge::sfsim {

// Writes one record as the REST API does: {"attributes":{"type","url"}, "Field": value, ...},
// with the fields at `selected` (indexes into object.fields) in that order. Address and
// location compounds are assembled from their components.
void WriteRecord(core::JsonWriter& w, const org::ObjectDef& object,
                 const org::RecordVersion& record, const std::vector<size_t>& selected,
                 std::string_view api_version);

// One value as JSON: null, true, 12.50, "text", "2024-01-15", "2024-01-15T10:20:30.000+0000".
void WriteValue(core::JsonWriter& w, const org::FieldDef& field, const soql::Value& value);

// GET /sobjects
std::string DescribeGlobalJson(const std::vector<org::ObjectDef>& objects,
                               std::string_view api_version);
// GET /sobjects/{Name}/describe
std::string DescribeJson(const org::ObjectDef& object, std::string_view api_version);

}  // namespace sfbridge::sfsim
