#pragma once

// PostgreSQL's COPY text format (COPY ... FROM STDIN, the default format): one line per row,
// fields separated by tabs, NULL as \N, and backslash, tab, newline and carriage return escaped
// with a backslash. Pure functions, thread-safe; the lines go to Transaction::CopyIn
// (connection.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::postgres {

// How COPY text spells NULL.
inline constexpr std::string_view kCopyNull = "\\N";

// Appends `text` as one field, escaped. False when `text` holds a NUL byte, which no PostgreSQL
// text value can hold; `out` is then left as it was.
bool AppendCopyText(std::string& out, std::string_view text);
// The same, but a NUL byte is sent as it is (and the server refuses the row).
void AppendCopyEscaped(std::string& out, std::string_view text);
// Appends a whole number as one field (no escaping needed).
void AppendCopyInt(std::string& out, int64_t value);
// Appends one field: NULL as \N, text escaped (a NUL byte is sent as it is, and the server
// refuses the row). Put a tab between fields yourself, or use AppendCopyRow.
void AppendCopyField(std::string& out, const std::optional<std::string>& value);
// Appends a whole line: fields separated by tabs, ending in '\n'.
void AppendCopyRow(std::string& out, const std::vector<std::optional<std::string>>& fields);

}  // namespace sfbridge::postgres
