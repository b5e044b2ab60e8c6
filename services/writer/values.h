#pragma once

// FieldValue -> the exact text Postgres reads into a synced column (applier.h states the rules),
// for COPY or as a query parameter.
// Pure functions, thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::writer {

// The column types the writer distinguishes; kOther is any type set by hand, written as text.
enum class ColumnKind {
  kText,
  kBoolean,
  kInteger,
  kBigint,
  kNumeric,
  kDate,
  kTimestamptz,
  kTime,
  kOther
};

// The kind of a column type as format_type() spells it ("timestamp with time zone", ...).
ColumnKind KindOf(std::string_view column_type);

// A FieldValue read in place: the set member of its oneof, without owning anything. `text`
// holds text, number and multi; `integer` datetime_ms, date_days and time_ms; `boolean` the
// boolean. A view of a decoded message stays valid as long as the bytes it was read from.
struct FieldView {
  v1::FieldValue::KindCase kind = v1::FieldValue::KIND_NOT_SET;
  bool boolean = false;
  int64_t integer = 0;
  std::string_view text;
};

// The view of `value` (valid while `value` lives and is not changed).
FieldView ViewOf(const v1::FieldValue& value);

// Appends `value`, rendered for a column of `kind` and escaped for COPY text format (NULL as
// \N), to `out`. kInvalidArgument, with `out` unchanged, when the value does not fit the column
// (the message says why, without the value itself, which may be personal data).
absl::Status AppendCopyValue(std::string& out, const FieldView& value, ColumnKind kind);
absl::Status AppendCopyValue(std::string& out, const v1::FieldValue& value, ColumnKind kind);
// The same value as the text of a query parameter (not escaped); nullopt for null. The same
// errors.
absl::StatusOr<std::optional<std::string>> ValueText(const FieldView& value, ColumnKind kind);

// "YYYY-MM-DD HH:MM:SS.mmm+00" for UTC milliseconds since the epoch. Years 1..9999 only.
std::string FormatDatetimeMs(int64_t ms);
// "YYYY-MM-DD" for days since 1970-01-01.
std::string FormatDate(int64_t days);
// "HH:MM:SS.mmm" for milliseconds since midnight (0 <= ms < 86,400,000).
std::string FormatTimeMs(int64_t ms);

}  // namespace sfbridge::writer
