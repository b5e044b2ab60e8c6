#pragma once

// The project's one way to build JSON: request bodies for Salesforce, the simulator's replies,
// event details, `sfbridge status --format=json`. It appends to one string and tracks only
// whether a comma is due; the caller is trusted to nest Begin/End correctly. Chosen over
// Poco::JSON (a tree of Dynamic::Var built and then stringified) and simdjson (which only
// reads) because it writes straight into the output, with no allocation per value: the sfsim
// benchmark's pages of 2,000 records are written by it. Strings are escaped by
// AppendJsonEscaped (json_escape.h); numbers that must keep their exact decimal text go in
// through Raw. Not thread-safe; one writer per document.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::core {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the next member's name. Follow it with a value or a Begin*.
  JsonWriter& Key(std::string_view name);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A number or any JSON fragment written as it is (caller guarantees it is valid JSON).
  JsonWriter& Raw(std::string_view json);
  // Key + value shorthands.
  JsonWriter& Member(std::string_view name, std::string_view value) {
    return Key(name).String(value);
  }
  JsonWriter& Member(std::string_view name, const char* value) { return Key(name).String(value); }
  JsonWriter& Member(std::string_view name, int64_t value) { return Key(name).Int(value); }
  JsonWriter& Member(std::string_view name, int value) { return Key(name).Int(value); }
  JsonWriter& Member(std::string_view name, bool value) { return Key(name).Bool(value); }
  JsonWriter& StringArray(std::string_view name, const std::vector<std::string>& values);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }
  void Reserve(size_t n) { out_.reserve(n); }

 private:
  void Separate();
  std::string out_;
  bool need_comma_ = false;
};

}  // namespace sfbridge::core
