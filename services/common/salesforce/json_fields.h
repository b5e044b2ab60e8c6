#pragma once

// Reading Salesforce's JSON replies with simdjson: the small helpers every parser needs.

#include <simdjson.h>

#include <string>
#include <string_view>

namespace sfbridge::salesforce {

// The string member `key` of `object`; empty when it is missing, null or not a string.
inline std::string StringField(simdjson::dom::object object, std::string_view key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

}  // namespace sfbridge::salesforce
