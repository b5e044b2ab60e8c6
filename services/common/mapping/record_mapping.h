#pragma once

// One Salesforce record (as the REST API returned it) -> one v1::RecordChange, every value
// keeping its exact meaning (DESIGN.md, contracts):
//   int, long, double, currency, percent -> number: the decimal text exactly as Salesforce sent
//                                           it, never through a double ("1234.50" stays so);
//   datetime -> datetime_ms (UTC);  date -> date_days;  time -> time_ms (since midnight);
//   boolean -> boolean;  multipicklist -> multi;  id, reference, string-like -> text;
//   anyType and unknown types -> by the JSON kind (a nested object as its raw JSON text);
//   JSON null -> null, for every type.
// Fields of the record that the plan does not name (a relationship sub-object) are skipped;
// fields of the plan that the record lacks are absent from the change ("not fetched").
// record_id, system_modstamp_ms and deleted (IsDeleted; false when the object has none) come from
// the record; object_name and schema_fingerprint from the plan.
//
// Errors, all kFailedPrecondition (the plan no longer matches what Salesforce sends: describe
// again before reading on), naming the object, the record id, the field and the JSON kind, never
// quoting the value: a value of the wrong JSON kind for its field type, a date/time string that
// does not parse, a record without Id or SystemModstamp.
//
// Pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mapping/schema_mapping.h"
#include "common/salesforce/json_records.h"
#include "sfbridge/v1/record.pb.h"

namespace sfbridge::mapping {

absl::StatusOr<v1::RecordChange> ToRecordChange(std::string_view org_id, const FieldPlan& plan,
                                                const salesforce::Record& record,
                                                v1::ChangeSource source, int64_t fetched_at_ms);

// Changes as the values of Kafka messages of sfbridge.<org>.records: each a serialized
// v1::RecordChange (parsing it gives what ToRecordChange returns), keyed by its record id. Built
// by EncodePage straight from the records, without building messages: a page costs a few
// allocations and one pass over its fields. Not thread-safe.
class EncodedChanges {
 public:
  size_t size() const { return messages_.size(); }
  bool empty() const { return messages_.empty(); }
  // Views into this object, valid until the next change to it.
  std::string_view key(size_t i) const {
    return std::string_view(bytes_).substr(messages_[i].key_offset, messages_[i].key_size);
  }
  std::string_view value(size_t i) const {
    return std::string_view(bytes_).substr(messages_[i].value_offset, messages_[i].value_size);
  }
  size_t bytes() const { return bytes_.size(); }
  void Clear() {
    bytes_.clear();
    messages_.clear();
  }

 private:
  friend absl::Status EncodePage(std::string_view, const FieldPlan&,
                                 const std::vector<salesforce::Record>&, v1::ChangeSource, int64_t,
                                 EncodedChanges&);
  struct Message {
    size_t value_offset, value_size, key_offset, key_size;
  };
  std::string bytes_;  // every value, back to back (a key lies inside its value)
  std::vector<Message> messages_;
};

// ToRecordChange for a page, serialized and appended to `out` in order, with the same checks and
// errors. On error `out` keeps only what it held before.
absl::Status EncodePage(std::string_view org_id, const FieldPlan& plan,
                        const std::vector<salesforce::Record>& records, v1::ChangeSource source,
                        int64_t fetched_at_ms, EncodedChanges& out);

}  // namespace sfbridge::mapping
