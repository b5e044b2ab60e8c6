#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sfsim/org/org.h"
#include "sfsim/org/schema.h"

namespace sfbridge::sfsim::org {

// The records of one object: the live ones, the recycle bin, an index by id, an index per
// unique field (live records only, case-insensitive) and the log of deletions that
// getDeleted reads. Not thread-safe: the org guards it with its lock.
class Table {
 public:
  explicit Table(const ObjectSchema& schema) : schema_(schema) {
    unique_.resize(schema.unique_fields.size());
  }

  const ObjectSchema& schema() const { return schema_; }
  // In no particular order (removal moves the last record into the hole).
  const std::vector<RecordPtr>& live() const { return live_; }
  const std::vector<RecordPtr>& bin() const { return bin_; }

  // The current version of the record with this 18-char id, live or in the bin; null if none.
  RecordPtr Find(std::string_view id) const;
  // Adds `record` or replaces its current version; it goes to the bin when is_deleted.
  void Put(RecordPtr record);
  // Removes the record with this id altogether (purge, or undoing a create).
  void Erase(std::string_view id);

  // The id of the live record other than `except_id` whose unique field `field` equals
  // `value` (case-insensitive); empty when none.
  std::string_view FindUnique(std::size_t field, const soql::Value& value,
                              std::string_view except_id) const;

  std::vector<DeletedRecord>& deleted_log() { return deleted_log_; }
  const std::vector<DeletedRecord>& deleted_log() const { return deleted_log_; }

  // The next auto-number value, `INV-000042` (Salesforce's `INV-{000000}` display format);
  // numbers are never reused, not even after a rollback.
  std::string NextAutoNumber();

  // The sequence number in the next record id.
  std::uint64_t next_sequence = 1;

 private:
  struct Slot {
    bool in_bin = false;
    std::uint32_t position = 0;
  };
  // Keys are the 15-char ids, which fit std::string's small-string buffer.
  static std::string Key(std::string_view id) { return std::string(id.substr(0, 15)); }
  void IndexUnique(const RecordVersion& record, bool add);
  void RemoveAt(Slot slot);

  const ObjectSchema& schema_;
  std::vector<RecordPtr> live_;
  std::vector<RecordPtr> bin_;
  std::unordered_map<std::string, Slot> slots_;
  std::vector<std::unordered_map<std::string, std::string>> unique_;  // folded value → id
  std::vector<DeletedRecord> deleted_log_;
  std::uint64_t next_auto_number_ = 1;
};

}  // namespace sfbridge::sfsim::org
