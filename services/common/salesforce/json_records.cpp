#include "common/salesforce/json_records.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "common/core/json_escape.h"
#include "common/core/strings.h"

namespace sfbridge::salesforce {
namespace ondemand = simdjson::ondemand;
namespace {

// A parser and a padded copy of the input, reused by each thread: parsing a page then costs
// no allocation once the buffers have grown to the page size.
struct ThreadState {
  ondemand::parser parser;
  std::string buffer;
};

ThreadState& State() {
  thread_local ThreadState state;
  return state;
}

absl::Status JsonError(std::string_view where, simdjson::error_code error) {
  return absl::InternalError(
      core::StrCat("malformed reply JSON at ", where, ": ", simdjson::error_message(error)));
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Reads "attributes": {"type": ..., "url": ...} for the record's type.
simdjson::error_code ReadAttributes(ondemand::value value, std::string& type) {
  ondemand::object object;
  if (auto error = value.get_object().get(object)) return error;
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    if (key == "type") {
      std::string_view s;
      if (auto error = field.value().get_string().get(s)) return error;
      type.assign(s);
    }
  }
  return simdjson::SUCCESS;
}

// True when `value` is null (and consumes it then).
bool IsNull(ondemand::value& value) {
  bool is_null = false;
  return value.is_null().get(is_null) == simdjson::SUCCESS && is_null;
}

simdjson::error_code ReadValue(ondemand::value value, FieldValue& out) {
  ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case ondemand::json_type::null:
      out.kind = FieldValue::Kind::kNull;
      return IsNull(value) ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
    case ondemand::json_type::boolean:
      out.kind = FieldValue::Kind::kBool;
      return value.get_bool().get(out.boolean);
    case ondemand::json_type::number: {
      // The raw token, never a double: "12345678901234567.89" stays exactly that.
      out.kind = FieldValue::Kind::kNumber;
      out.text.assign(TrimRight(value.raw_json_token()));
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::string: {
      out.kind = FieldValue::Kind::kString;
      std::string_view s;
      if (auto error = value.get_string().get(s)) return error;
      out.text.assign(s);
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::object: {
      out.kind = FieldValue::Kind::kObject;
      ondemand::object object;
      if (auto error = value.get_object().get(object)) return error;
      std::string_view raw;
      if (auto error = object.raw_json().get(raw)) return error;
      out.text.assign(TrimRight(raw));
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::array: {
      out.kind = FieldValue::Kind::kObject;
      ondemand::array array;
      if (auto error = value.get_array().get(array)) return error;
      std::string_view raw;
      if (auto error = array.raw_json().get(raw)) return error;
      out.text.assign(TrimRight(raw));
      return simdjson::SUCCESS;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

simdjson::error_code ReadRecord(ondemand::object object, Record& record) {
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    ondemand::value value;
    if (auto error = field.value().get(value)) return error;
    if (key == "attributes") {
      if (auto error = ReadAttributes(value, record.type)) return error;
      continue;
    }
    auto& [name, field_value] = record.fields.emplace_back(std::string(key), FieldValue());
    if (auto error = ReadValue(value, field_value)) return error;
    if (name == "Id" && field_value.kind == FieldValue::Kind::kString) {
      record.id = field_value.text;
    }
  }
  return simdjson::SUCCESS;
}

// Parses `json` from a padded copy kept in the thread's buffer.
simdjson::error_code Iterate(std::string_view json, ondemand::document& doc) {
  ThreadState& state = State();
  state.buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(state.buffer.data(), json.data(), json.size());
  return state.parser.iterate(state.buffer.data(), json.size(), state.buffer.size()).get(doc);
}

}  // namespace

const FieldValue* Record::Find(std::string_view name) const {
  for (const auto& [key, value] : fields) {
    if (key == name) return &value;
  }
  return nullptr;
}

absl::StatusOr<QueryPage> ParseQueryPage(std::string_view json) {
  ondemand::document doc;
  if (auto error = Iterate(json, doc)) return JsonError("document", error);
  ondemand::object root;
  if (auto error = doc.get_object().get(root)) return JsonError("document", error);
  QueryPage page;
  bool saw_records = false;
  for (auto field : root) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return JsonError("key", error);
    if (key == "totalSize") {
      if (auto error = field.value().get_int64().get(page.total_size)) {
        return JsonError("totalSize", error);
      }
    } else if (key == "done") {
      if (auto error = field.value().get_bool().get(page.done)) return JsonError("done", error);
    } else if (key == "nextRecordsUrl") {
      ondemand::value value;
      if (auto error = field.value().get(value)) return JsonError("nextRecordsUrl", error);
      if (IsNull(value)) continue;
      std::string_view s;
      if (auto error = value.get_string().get(s)) return JsonError("nextRecordsUrl", error);
      page.next_records_url.assign(s);
    } else if (key == "records") {
      saw_records = true;
      ondemand::array records;
      if (auto error = field.value().get_array().get(records)) return JsonError("records", error);
      // totalSize comes first in Salesforce's replies; a page holds at most 2,000 records.
      page.records.reserve(static_cast<size_t>(std::clamp<int64_t>(page.total_size, 0, 2000)));
      size_t width = 0;  // records of one query share their fields: size each like the last
      for (auto element : records) {
        ondemand::object object;
        if (auto error = element.get_object().get(object)) return JsonError("record", error);
        Record& record = page.records.emplace_back();
        record.fields.reserve(width);
        if (auto error = ReadRecord(object, record)) {
          return JsonError(core::StrCat("record ", page.records.size() - 1), error);
        }
        width = record.fields.size();
      }
    }
  }
  if (!saw_records) return absl::InternalError("malformed query reply: no \"records\"");
  return page;
}

absl::StatusOr<std::vector<std::optional<Record>>> ParseRecordArray(std::string_view json) {
  ondemand::document doc;
  if (auto error = Iterate(json, doc)) return JsonError("document", error);
  ondemand::array array;
  if (auto error = doc.get_array().get(array)) return JsonError("document", error);
  std::vector<std::optional<Record>> out;
  for (auto element : array) {
    ondemand::value value;
    if (auto error = element.get(value)) return JsonError("record", error);
    if (IsNull(value)) {
      out.emplace_back();
      continue;
    }
    ondemand::object object;
    if (auto error = value.get_object().get(object)) return JsonError("record", error);
    Record record;
    if (auto error = ReadRecord(object, record)) {
      return JsonError(core::StrCat("record ", out.size()), error);
    }
    out.emplace_back(std::move(record));
  }
  return out;
}

void AppendJsonString(std::string* out, std::string_view text) {
  core::AppendJsonString(*out, text);
}

void WriteFieldValue(core::JsonWriter& w, const FieldValue& value) {
  switch (value.kind) {
    case FieldValue::Kind::kNull:
      w.Null();
      break;
    case FieldValue::Kind::kBool:
      w.Bool(value.boolean);
      break;
    case FieldValue::Kind::kNumber:
    case FieldValue::Kind::kObject:
      w.Raw(value.text);
      break;
    case FieldValue::Kind::kString:
      w.String(value.text);
      break;
  }
}

void WriteRecordObject(core::JsonWriter& w, std::string_view type, const Fields& fields) {
  w.BeginObject();
  if (!type.empty()) w.Key("attributes").BeginObject().Member("type", type).EndObject();
  for (const auto& [name, value] : fields) {
    w.Key(name);
    WriteFieldValue(w, value);
  }
  w.EndObject();
}

}  // namespace sfbridge::salesforce
