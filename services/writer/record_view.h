#pragma once

// A RecordChange as the apply path reads it: views into bytes held elsewhere, with the fields in
// a flat list instead of a map.
//
// DecodeRecordChange reads the wire form of sfbridge.v1.RecordChange straight from a Kafka
// message: no allocation per message or field, no hash map per message. It accepts exactly what
// RecordChange::ParseFromString accepts and reads the same values:
//   - a field seen twice keeps its last value; unknown fields, and known field numbers with a
//     wire type other than their own, are skipped (groups too, nested up to 100 deep);
//   - `fields` map entries keep their wire order; a name sent twice is listed twice and the
//     later entry is the one that counts (the map keeps the last). An entry without a value has
//     a value of KIND_NOT_SET; FieldValue members sent twice within one entry merge as protobuf
//     merges them (the last member set wins);
//   - every string (ids, names, text, number, multi) must be valid UTF-8, as proto3 requires;
//   - a truncated message, a varint longer than 10 bytes, tag 0, a stray end-group or wire
//     type 6 or 7 is refused.
// Thread-safe (pure functions).

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sfbridge/v1/record.pb.h"
#include "writer/values.h"

namespace sfbridge::writer {

// One entry of RecordChange.fields.
struct FieldEntry {
  std::string_view name;
  FieldView value;
};

// The accessors are named as RecordChange's. `fields` live in a list the view points into (see
// DecodeRecordChange and ViewsOf).
class ChangeView {
 public:
  std::string_view org_id() const { return org_id_; }
  std::string_view object_name() const { return object_name_; }
  std::string_view record_id() const { return record_id_; }
  std::string_view schema_fingerprint() const { return schema_fingerprint_; }
  int64_t system_modstamp_ms() const { return system_modstamp_ms_; }
  bool deleted() const { return deleted_; }
  std::span<const FieldEntry> fields() const {
    return {store_->data() + fields_begin_, fields_count_};
  }

  void set_org_id(std::string_view org_id) { org_id_ = org_id; }

 private:
  friend bool DecodeRecordChange(std::string_view, std::vector<FieldEntry>&, ChangeView&);
  friend std::vector<ChangeView> ViewsOf(const std::vector<const v1::RecordChange*>&,
                                         std::vector<FieldEntry>&);

  std::string_view org_id_, object_name_, record_id_, schema_fingerprint_;
  int64_t system_modstamp_ms_ = 0;
  bool deleted_ = false;
  const std::vector<FieldEntry>* store_ = nullptr;
  uint32_t fields_begin_ = 0, fields_count_ = 0;
};

// Decodes `bytes` into `out`, appending its fields to `store`. False when protobuf would refuse
// the bytes (`store` is then as it was). `out` reads from `bytes` and `store`: both must outlive
// it, and `store` may grow (the view keeps its position, not a pointer into it) but must not
// move.
bool DecodeRecordChange(std::string_view bytes, std::vector<FieldEntry>& store, ChangeView& out);

// Views of `changes` (which must outlive them, unchanged), their fields appended to `store`.
std::vector<ChangeView> ViewsOf(const std::vector<const v1::RecordChange*>& changes,
                                std::vector<FieldEntry>& store);

// True when `text` is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace sfbridge::writer
