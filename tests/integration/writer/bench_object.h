#pragma once

// The object the writer benchmarks write: id + 19 fields of mixed types, with deterministic
// values per row and version.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/core/strings.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::writer::bench {

// API name -> Salesforce type, in column order.
inline const std::vector<std::pair<std::string, std::string>> kFields = {
    {"Name", "string"},          {"Email__c", "email"},
    {"Phone__c", "phone"},       {"Street__c", "textarea"},
    {"City__c", "string"},       {"Stage__c", "picklist"},
    {"OwnerId", "reference"},    {"Amount__c", "currency"},
    {"Cost__c", "currency"},     {"Margin__c", "percent"},
    {"Score__c", "double"},      {"Units__c", "int"},
    {"Visits__c", "int"},        {"Serial__c", "long"},
    {"CreatedDate", "datetime"}, {"SystemModstamp", "datetime"},
    {"Due__c", "date"},          {"IsActive__c", "boolean"},
    {"Tags__c", "multipicklist"}};

// The value of a field of `type` for `row` at `version`.
inline v1::FieldValue Value(const std::string& type, int64_t row, int64_t version) {
  using core::StrCat;
  v1::FieldValue v;
  const int64_t n = row * 7919 + version;
  if (type == "currency") {
    v.set_number(StrCat(n % 100000000, ".", 10 + n % 90));
  } else if (type == "percent" || type == "double") {
    v.set_number(StrCat(n % 1000, ".125"));
  } else if (type == "int") {
    v.set_number(StrCat(n % 100000));
  } else if (type == "long") {
    v.set_number(StrCat(n * 1000003));
  } else if (type == "datetime") {
    v.set_datetime_ms(1'600'000'000'000 + n * 1000 + 123);
  } else if (type == "date") {
    v.set_date_days(static_cast<int32_t>(18000 + n % 5000));
  } else if (type == "boolean") {
    v.set_boolean(n % 2 == 0);
  } else if (type == "multipicklist") {
    v.set_multi("Red;Green");
  } else if (type == "reference") {
    v.set_text(StrCat("005000000000", 100000 + n % 900000));
  } else if (type == "email") {
    v.set_text(StrCat("person", n, "@example.com"));
  } else {
    v.set_text(StrCat("value ", n, " of row ", row));
  }
  return v;
}

// An 18-character record Id for `row`.
inline std::string Id(int64_t row) {
  std::string digits = std::to_string(row);
  return "a0B" + std::string(15 - digits.size(), '0') + digits;
}

}  // namespace sfbridge::writer::bench
