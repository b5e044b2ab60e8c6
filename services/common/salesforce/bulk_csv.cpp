#include "common/salesforce/bulk_csv.h"

#include <cstring>
#include <utility>

#include "common/core/strings.h"

namespace sfbridge::salesforce {

BulkCsvDecoder::BulkCsvDecoder(std::string type, char delimiter, size_t batch_size,
                               RecordBatchFn on_batch,
                               std::optional<std::vector<std::string>> known_columns)
    : type_(std::move(type)),
      delimiter_(delimiter),
      batch_size_(batch_size == 0 ? 1 : batch_size),
      on_batch_(std::move(on_batch)),
      known_columns_(std::move(known_columns)) {}

absl::Status BulkCsvDecoder::Malformed(std::string_view what) const {
  return absl::InternalError(
      core::StrCat("malformed Bulk API CSV (", type_, ", row ", row_number_ + 1, "): ", what));
}

absl::Status BulkCsvDecoder::Feed(std::string_view chunk) {
  if (failed_) return absl::FailedPreconditionError("the CSV decoder failed before");
  auto fail = [&](absl::Status s) {
    failed_ = true;
    return s;
  };
  const char* at = chunk.data();
  const char* const end = at + chunk.size();
  while (at < end) {
    // Inside a value, the run of ordinary characters up to the next one that matters is taken
    // whole; the state machine below sees only the characters that change state.
    if (state_ == State::kUnquoted) {
      const char* run = at;
      while (run < end && *run != delimiter_ && *run != '\n' && *run != '\r' && *run != '"') {
        ++run;
      }
      field_.append(at, run);
      at = run;
    } else if (state_ == State::kQuoted) {
      const void* quote = std::memchr(at, '"', static_cast<size_t>(end - at));
      const char* run = quote != nullptr ? static_cast<const char*>(quote) : end;
      field_.append(at, run);
      at = run;
    }
    if (at == end) break;
    const char c = *at++;
    switch (state_) {
      case State::kQuoteInQuoted:
        if (c == '"') {  // a doubled quote
          field_.push_back('"');
          state_ = State::kQuoted;
          break;
        }
        if (c != delimiter_ && c != '\n' && c != '\r') {
          return fail(Malformed("text after a closing quote"));
        }
        [[fallthrough]];  // the value ended: as after an unquoted one
      case State::kFieldStart:
        if (c == '"') {
          field_quoted_ = true;
          state_ = State::kQuoted;
          continue;
        }
        state_ = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted:
        if (c == delimiter_) {
          if (absl::Status s = EndField(); !s.ok()) return fail(s);
          state_ = State::kFieldStart;
        } else if (c == '\n') {
          if (absl::Status s = EndRow(); !s.ok()) return fail(s);
        } else if (c == '\r') {
          state_ = State::kAfterCr;
        } else if (c == '"') {
          return fail(Malformed("a quote inside an unquoted value"));
        } else {
          field_.push_back(c);
        }
        break;
      case State::kQuoted:
        if (c == '"') {
          state_ = State::kQuoteInQuoted;
        } else {
          field_.push_back(c);
        }
        break;
      case State::kAfterCr:
        if (c != '\n') return fail(Malformed("a carriage return outside quotes"));
        if (absl::Status s = EndRow(); !s.ok()) return fail(s);
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status BulkCsvDecoder::Finish() {
  if (failed_) return absl::FailedPreconditionError("the CSV decoder failed before");
  if (state_ == State::kQuoted) {
    failed_ = true;
    return Malformed("the data ends inside a quoted value");
  }
  if (state_ != State::kFieldStart || !row_.empty()) {
    if (absl::Status s = EndRow(); !s.ok()) {
      failed_ = true;
      return s;
    }
  }
  return Flush();
}

absl::Status BulkCsvDecoder::EndField() {
  // Salesforce stores no empty text: an empty value, quoted or not, is null.
  if (field_.empty()) {
    row_.emplace_back(std::nullopt);
  } else {
    row_.emplace_back(std::move(field_));
  }
  field_.clear();
  field_quoted_ = false;
  return absl::OkStatus();
}

absl::Status BulkCsvDecoder::EndRow() {
  const bool blank = row_.empty() && field_.empty() && !field_quoted_;
  EndField();
  state_ = State::kFieldStart;
  if (blank) {  // an empty line: no values at all
    row_.clear();
    return absl::OkStatus();
  }
  std::vector<std::optional<std::string>> row = std::move(row_);
  row_.clear();
  row_.reserve(row.size());  // the next row has as many values: no growing value by value
  if (!header_done_) {
    bool is_header = true;
    if (known_columns_) {
      is_header = row.size() == known_columns_->size();
      for (size_t i = 0; is_header && i < row.size(); ++i) {
        is_header = row[i] && *row[i] == (*known_columns_)[i];
      }
    }
    header_done_ = true;
    columns_.clear();
    if (is_header) {
      for (auto& name : row) {
        if (!name) return Malformed("an empty column name in the header");
        columns_.push_back(std::move(*name));
      }
    } else {
      columns_ = *known_columns_;
    }
    bool has_id = false;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i] == "Id") {
        id_column_ = i;
        has_id = true;
      }
    }
    if (!has_id) return Malformed("the header has no Id column");
    if (is_header) {
      ++row_number_;
      return absl::OkStatus();
    }
  }
  if (row.size() != columns_.size()) {
    return Malformed(core::StrCat(row.size(), " values for ", columns_.size(), " columns"));
  }
  ++row_number_;
  Record record;
  record.type = type_;
  if (row[id_column_]) record.id = *row[id_column_];
  record.fields.reserve(row.size());
  for (size_t i = 0; i < row.size(); ++i) {
    record.fields.emplace_back(
        columns_[i], row[i] ? FieldValue::String(std::move(*row[i])) : FieldValue::Null());
  }
  batch_.push_back(std::move(record));
  ++records_;
  if (batch_.size() >= batch_size_) return Flush();
  return absl::OkStatus();
}

absl::Status BulkCsvDecoder::Flush() {
  if (batch_.empty()) return absl::OkStatus();
  absl::Status s = on_batch_(batch_);
  batch_.clear();
  if (!s.ok()) failed_ = true;
  return s;
}

}  // namespace sfbridge::salesforce
