#pragma once

// The CSV of Bulk API 2.0 query results, written as Salesforce writes it: a header row of the
// selected fields' API names in SELECT order, then one row per record. A value is quoted only
// when it holds the delimiter, a double quote, CR or LF; a double quote inside is doubled
// (RFC 4180). Null is the empty field; booleans are `true`/`false`; numbers keep the decimal
// text the REST API shows; dates are `2024-01-02`; datetimes `2024-01-02T03:04:05.000Z`;
// times `03:04:05.000Z`. Compound (address/location) fields never reach here: a Bulk query
// job that selects one is refused when it is created.
//
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sfsim/org/org.h"

namespace sfbridge::sfsim {

struct CsvFormat {
  char delimiter = ',';
  std::string_view line_ending = "\n";
};

// The create request's `columnDelimiter` (BACKQUOTE, CARET, COMMA, PIPE, SEMICOLON, TAB) and
// `lineEnding` (LF, CRLF), as Salesforce spells them; nullopt for any other name.
std::optional<char> ColumnDelimiterFromName(std::string_view name);
std::optional<std::string_view> LineEndingFromName(std::string_view name);

// Appends `text` as one CSV field, quoted when it needs to be.
void AppendCsvField(std::string& out, std::string_view text, char delimiter);
// Appends one value (null → nothing) as Bulk query results show it.
void AppendCsvValue(std::string& out, const soql::Value& value, char delimiter);
// The header row, line ending included.
void AppendCsvHeader(std::string& out, const org::ObjectDef& object,
                     const std::vector<size_t>& selected, const CsvFormat& format);
// One record's row, line ending included.
void AppendCsvRecord(std::string& out, const org::RecordVersion& record,
                     const std::vector<size_t>& selected, const CsvFormat& format);

}  // namespace sfbridge::sfsim
