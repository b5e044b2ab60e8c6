#pragma once

// A small, fast JSON writer for the simulator's replies. It appends to one string and tracks
// only whether a comma is due; the caller is trusted to nest Begin/End correctly.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::sfsim {

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

// Appends `value` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace sfbridge::sfsim
