#pragma once

// Builders of the RecordChange and FieldValue messages the writer's tests feed in, unit and
// integration alike. Header-only; no servers.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sfbridge/v1/record.pb.h"

namespace sfbridge::writer {

inline constexpr const char* kOrg = "00D000000000001AAA";

inline v1::FieldValue Text(const std::string& v) {
  v1::FieldValue f;
  f.set_text(v);
  return f;
}
inline v1::FieldValue Number(const std::string& v) {
  v1::FieldValue f;
  f.set_number(v);
  return f;
}
inline v1::FieldValue Bool(bool v) {
  v1::FieldValue f;
  f.set_boolean(v);
  return f;
}
inline v1::FieldValue Null() {
  v1::FieldValue f;
  f.set_null(true);
  return f;
}
inline v1::FieldValue Datetime(int64_t ms) {
  v1::FieldValue f;
  f.set_datetime_ms(ms);
  return f;
}
inline v1::FieldValue Date(int32_t days) {
  v1::FieldValue f;
  f.set_date_days(days);
  return f;
}
inline v1::FieldValue Time(int32_t ms) {
  v1::FieldValue f;
  f.set_time_ms(ms);
  return f;
}
inline v1::FieldValue Multi(const std::string& v) {
  v1::FieldValue f;
  f.set_multi(v);
  return f;
}

// A version of record `id` of `object` in org kOrg holding `fields`.
inline v1::RecordChange Change(const std::string& object, const std::string& id,
                               int64_t modstamp_ms,
                               std::vector<std::pair<std::string, v1::FieldValue>> fields = {}) {
  v1::RecordChange c;
  c.set_org_id(kOrg);
  c.set_object_name(object);
  c.set_record_id(id);
  c.set_system_modstamp_ms(modstamp_ms);
  for (auto& [name, value] : fields) (*c.mutable_fields())[name] = value;
  return c;
}

inline v1::RecordChange Deletion(const std::string& object, const std::string& id,
                                 int64_t modstamp_ms) {
  v1::RecordChange c = Change(object, id, modstamp_ms);
  c.set_deleted(true);
  return c;
}

}  // namespace sfbridge::writer
