#pragma once

// Values between the database and Salesforce, keeping their exact meaning (DESIGN.md,
// contracts):
//   - ToSalesforceValue: a value of a derived query (its wire form, derived_query.h) -> the
//     JSON value Salesforce takes for the field: numbers as the exact decimal text (never
//     through a double), booleans, datetimes "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), dates
//     "YYYY-MM-DD", times "HH:MM:SS.mmmZ", multipicklists as their ';'-separated text, NULL as
//     null;
//   - WriteColumnJson: a confirmed field value (v1::FieldValue) -> the JSON a table column is
//     read from (jsonb_populate_recordset) for RETURNING and sfbridge.pending_write.
// Pure and thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/core/json_writer.h"
#include "common/salesforce/json_records.h"
#include "proxy/writes/catalog.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::proxy::writes {

// Errors: kInvalidArgument naming the column when the value cannot be what the field holds
// (a number column with "NaN" or "Infinity", a boolean that is not t/f, a wire value that is
// not an integer).
absl::StatusOr<salesforce::FieldValue> ToSalesforceValue(const std::optional<std::string>& text,
                                                         const SyncedField& field);

// True for the text of a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view text);

// `value` as the next JSON value of `json`.
void WriteColumnJson(core::JsonWriter& json, const v1::FieldValue& value);

// Days since 1970-01-01 -> "YYYY-MM-DD"; milliseconds since midnight -> "HH:MM:SS.mmm".
std::string FormatDate(int64_t days);
std::string FormatTimeOfDay(int64_t millis);

}  // namespace sfbridge::proxy::writes
