#pragma once

// The CSV of Bulk API 2.0 query results, decoded incrementally into Records: bytes go in with
// Feed in chunks of any size, records come out through a callback in batches, so memory holds
// one row being parsed plus one batch, whatever the size of the result.
//
// Format (reference §1.8; sfsim's bulk_csv.h writes the same): the first row names the columns
// (API names, SELECT order); a value is quoted with `"` when it holds the delimiter, a quote or a
// line break, quotes doubled inside; rows end with LF or CRLF (a CR inside quotes is data); an
// empty value is null (Salesforce stores no empty text, so `""` is null too). Every value is a
// FieldValue::String: CSV carries no types, the reader's plan gives them (bulk_backfill.cpp).
//
// Whether every results page repeats the header row is not documented (§1.6): given the columns
// of an earlier page, a first row equal to them is taken as a header, any other first row as
// data.
//
// Errors (kInternal, naming the row, never quoting a value): a row whose number of values is not
// the header's, a quote inside an unquoted value or text after a closing quote, a file that ends
// inside quotes, a header without an Id column. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/salesforce/json_records.h"

namespace sfbridge::salesforce {

// Receives the next records, in order; may move them out. An error stops the decoding and is
// returned by Feed/Finish as is.
using RecordBatchFn = std::function<absl::Status(std::vector<Record>& batch)>;

class BulkCsvDecoder {
 public:
  // `type` fills Record::type. `known_columns`: the header of an earlier page (see above).
  // `batch_size` > 0 records per callback.
  BulkCsvDecoder(std::string type, char delimiter, size_t batch_size, RecordBatchFn on_batch,
                 std::optional<std::vector<std::string>> known_columns = std::nullopt);

  absl::Status Feed(std::string_view chunk);
  // The end of the input: the last row (without a final line break) and the last batch.
  absl::Status Finish();

  const std::vector<std::string>& columns() const { return columns_; }
  int64_t records() const { return records_; }

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kAfterCr };

  absl::Status EndField();
  absl::Status EndRow();
  absl::Status Flush();
  absl::Status Malformed(std::string_view what) const;

  const std::string type_;
  const char delimiter_;
  const size_t batch_size_;
  const RecordBatchFn on_batch_;
  std::optional<std::vector<std::string>> known_columns_;

  State state_ = State::kFieldStart;
  std::string field_;
  bool field_quoted_ = false;
  std::vector<std::optional<std::string>> row_;
  bool header_done_ = false;
  std::vector<std::string> columns_;
  size_t id_column_ = 0;
  int64_t row_number_ = 0;  // 1-based, header included
  int64_t records_ = 0;
  std::vector<Record> batch_;
  bool failed_ = false;
};

}  // namespace sfbridge::salesforce
