#pragma once

// Escaping text for JSON strings, shared by log lines, the simulator's replies and the
// Salesforce client's request bodies.

#include <string>
#include <string_view>

namespace sfbridge::core {

// Appends `text` escaped for the inside of a JSON string (quotes, backslashes, control
// characters as \n, \r, \t or \u00XX); other bytes, UTF-8 included, pass through.
void AppendJsonEscaped(std::string& out, std::string_view text);

// Appends `text` as a quoted JSON string.
inline void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  AppendJsonEscaped(out, text);
  out.push_back('"');
}

}  // namespace sfbridge::core
