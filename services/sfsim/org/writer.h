#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sfsim/org/org.h"
#include "sfsim/org/store.h"

// Every change to the org's records: validation of API writes, the fields the org sets itself
// (Id, system fields, auto-numbers, formulas), the recycle bin, and the undo log that makes a
// batch all-or-none.
namespace sfbridge::sfsim::org {

// What to put back to undo a batch of changes, newest last.
class UndoLog {
 public:
  void Record(Table& table, std::string id, RecordPtr previous);
  // Restores every table to its state before the first Record, newest change first.
  void Rollback();

 private:
  struct Entry {
    Table* table;
    std::string id;
    RecordPtr previous;  // null: the record was created
    std::size_t deleted_log_size;
  };
  std::vector<Entry> entries_;
};

// One transaction: every change it makes gets the same SystemModstamp. The caller holds
// store.mu exclusively for the Writer's lifetime. `undo` may be null.
class Writer {
 public:
  Writer(Store& store, std::int64_t stamp, UndoLog* undo)
      : store_(store), stamp_(stamp), undo_(undo) {}

  SaveResult Create(std::string_view object, const InputRecord& fields);
  // `object` may be empty: the id says which object.
  SaveResult Update(std::string_view object, std::string_view id, const InputRecord& fields);
  SaveResult Delete(std::string_view id);
  SaveResult Undelete(std::string_view id);
  SaveResult Upsert(std::string_view object, std::string_view field, std::string_view value,
                    const InputRecord& fields);

  // Stores a record made by the org itself (generated data, churn) without validation:
  // `values` must already be valid. `previous` is null for a new record. Returns the new version.
  RecordPtr Commit(Table& table, std::vector<soql::Value> values, const RecordPtr& previous,
                   bool deleted, const std::string& user_id);

 private:
  // Converts and checks `fields` into `values` (defaults for a create, the current values for an
  // update) and checks what the whole record must satisfy.
  std::optional<ApiError> Prepare(const Table& table, const InputRecord& fields, bool create,
                                  std::string_view self_id, std::vector<soql::Value>& values);
  std::optional<ApiError> CheckReference(const FieldDef& field, soql::Value& value) const;
  // Finds the live or deleted record `id` of `object` (any object when empty).
  Result<RecordPtr> Locate(std::string_view object, std::string_view id, Table** table);

  Store& store_;
  std::int64_t stamp_;
  UndoLog* undo_;
};

SaveResult Failure(ApiError error, std::string id = {});

}  // namespace sfbridge::sfsim::org
