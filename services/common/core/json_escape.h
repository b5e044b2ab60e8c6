#pragma once

// Escaping text for JSON strings, shared by log lines, the simulator's replies and the
// Salesforce client's request bodies (and, for the escapes they have in common, SOQL literals).

#include <string>
#include <string_view>

namespace sfbridge::core {

// The backslash escape that JSON strings and SOQL string literals share for `c`: \" \\ \n \r
// \t; empty for any other character.
constexpr std::string_view BackslashEscape(char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return {};
  }
}

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
