#include "sfsim/org/writer.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "common/core/strings.h"
#include "sfsim/org/api_errors.h"
#include "sfsim/org/input_conversion.h"
#include "sfsim/org/validation.h"
#include "sfsim/soql/record_id.h"

namespace sfbridge::sfsim::org {

using soql::Value;

SaveResult Failure(ApiError error, std::string id) {
  SaveResult result;
  result.id = std::move(id);
  result.errors.push_back(std::move(error));
  return result;
}

namespace {

SaveResult Success(std::string id, bool created, RecordPtr previous) {
  SaveResult result;
  result.id = std::move(id);
  result.success = true;
  result.created = created;
  result.previous = std::move(previous);
  return result;
}

// A new record before the input: booleans at their defaults, everything else null.
std::vector<Value> DefaultValues(const ObjectSchema& schema) {
  std::vector<Value> values(schema.size());
  for (std::size_t i = 0; i < schema.size(); ++i) {
    if (schema.field(i).soql_type == soql::FieldType::kBoolean) {
      values[i] = Value::Boolean(schema.field(i).default_value == "true");
    }
  }
  return values;
}

}  // namespace

void UndoLog::Record(Table& table, std::string id, RecordPtr previous) {
  entries_.push_back(Entry{&table, std::move(id), std::move(previous), table.deleted_log().size()});
}

void UndoLog::Rollback() {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->previous) {
      it->table->Put(it->previous);
    } else {
      it->table->Erase(it->id);
    }
    it->table->deleted_log().resize(it->deleted_log_size);
  }
  entries_.clear();
}

RecordPtr Writer::Commit(Table& table, std::vector<Value> values, const RecordPtr& previous,
                         bool deleted, const std::string& user_id) {
  const ObjectSchema& schema = table.schema();
  auto record = std::make_shared<RecordVersion>();
  if (previous) {
    record->id = previous->id;
  } else {
    record->id = store_.NewId(table);
    values[schema.id] = Value::String(record->id);
    values[schema.created_date] = Value::DateTime(stamp_);
    values[schema.created_by] = Value::String(user_id);
    if (schema.auto_number) {
      values[*schema.auto_number] = Value::String(table.NextAutoNumber());
    }
  }
  schema.Recompute(values);
  // A record's versions are serialized, as Salesforce's row lock serializes its updates: a new
  // version's SystemModstamp is past its previous one's, even within one millisecond.
  const std::int64_t stamp = previous ? std::max(stamp_, previous->system_modstamp_ms + 1) : stamp_;
  values[schema.is_deleted] = Value::Boolean(deleted);
  values[schema.last_modified_date] = Value::DateTime(stamp);
  values[schema.last_modified_by] = Value::String(user_id);
  values[schema.system_modstamp] = Value::DateTime(stamp);
  record->system_modstamp_ms = stamp;
  record->is_deleted = deleted;
  record->values = std::move(values);
  if (undo_ != nullptr) undo_->Record(table, record->id, previous);
  table.Put(record);
  return record;
}

std::optional<ApiError> Writer::CheckReference(const FieldDef& field, Value& value) const {
  const std::optional<std::string> id = soql::CanonicalId(value.Text());
  const int target = id ? store_.ObjectOfId(*id) : -1;
  if (target < 0 || field.reference_to.empty() ||
      store_.objects[static_cast<std::size_t>(target)].name != field.reference_to.front()) {
    return ReferenceOfWrongType(field, value.Text());
  }
  const RecordPtr parent = store_.tables[static_cast<std::size_t>(target)]->Find(*id);
  if (!parent || parent->is_deleted) return InvalidCrossReference(field);
  value = Value::String(*id);
  return std::nullopt;
}

std::optional<ApiError> Writer::Prepare(const Table& table, const InputRecord& fields, bool create,
                                        std::string_view self_id, std::vector<Value>& values) {
  const ObjectSchema& schema = table.schema();
  std::vector<bool> given(schema.size(), false);
  std::vector<std::string> read_only;
  for (const auto& [name, input] : fields) {
    const std::optional<std::size_t> index = schema.FindField(name);
    if (!index) return NoSuchColumn(name, schema.Name());
    const FieldDef& field = schema.field(*index);
    if (*index == schema.id) {
      if (create) return IdInInsert();
      if (input.kind == InputValue::Kind::kString && soql::CanonicalId(input.text) == self_id) {
        continue;
      }
      return IdMismatch(input.text);
    }
    Result<Value> converted = ConvertInput(field, input);
    if (auto* error = std::get_if<ApiError>(&converted)) return std::move(*error);
    if (!(create ? field.createable : field.updateable)) {
      read_only.push_back(field.name);
      continue;
    }
    values[*index] = std::get<Value>(std::move(converted));
    given[*index] = true;
  }
  if (!read_only.empty()) return ReadOnlyFields(read_only);

  std::vector<std::string> missing;
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const FieldDef& field = schema.field(i);
    if (create && !given[i] && field.defaulted_on_create && field.createable) {
      if (schema.owner && i == *schema.owner) values[i] = Value::String(store_.api_user_id);
      if (!field.default_value.empty() && field.soql_type != soql::FieldType::kBoolean) {
        values[i] = Value::String(field.default_value);
      }
    }
    const bool writable = create ? field.createable : field.updateable;
    if (writable && !field.nillable && values[i].IsNull() && (create || given[i])) {
      missing.push_back(field.name);
    }
  }
  if (!missing.empty()) return RequiredFieldMissing(missing);

  for (std::size_t i = 0; i < schema.size(); ++i) {
    if (!given[i] || values[i].IsNull()) continue;
    const FieldDef& field = schema.field(i);
    if (auto error = CheckValue(field, values[i])) return error;
    if (field.soql_type == soql::FieldType::kReference) {
      if (auto error = CheckReference(field, values[i])) return error;
    }
  }

  schema.Recompute(values);
  if (const ObjectDef::Rule* rule = schema.BrokenRule(values)) return CustomValidation(*rule);
  for (std::size_t field : schema.unique_fields) {
    const std::string_view other = table.FindUnique(field, values[field], self_id);
    if (!other.empty()) return DuplicateValue(schema.field(field), other);
  }
  return std::nullopt;
}

SaveResult Writer::Create(std::string_view object, const InputRecord& fields) {
  Table* table = store_.TableOf(object);
  if (table == nullptr) return Failure(UnknownObject(object));
  std::vector<Value> values = DefaultValues(table->schema());
  if (auto error = Prepare(*table, fields, true, {}, values)) return Failure(std::move(*error));
  RecordPtr record = Commit(*table, std::move(values), nullptr, false, store_.api_user_id);
  return Success(record->id, true, nullptr);
}

Result<RecordPtr> Writer::Locate(std::string_view object, std::string_view id, Table** table) {
  const std::optional<std::string> canonical = soql::CanonicalId(id);
  if (!canonical) return MalformedId(id);
  const int index = store_.ObjectOfId(*canonical);
  if (index < 0) return NotFound();
  *table = store_.tables[static_cast<std::size_t>(index)].get();
  if (!object.empty() && !soql::EqualsIgnoreCase(object, (*table)->schema().Name())) {
    return NotFound();
  }
  RecordPtr record = (*table)->Find(*canonical);
  if (!record) return NotFound();
  return record;
}

SaveResult Writer::Update(std::string_view object, std::string_view id, const InputRecord& fields) {
  if (!object.empty() && store_.FindObject(object) < 0) return Failure(UnknownObject(object));
  Table* table = nullptr;
  Result<RecordPtr> located = Locate(object, id, &table);
  if (auto* error = std::get_if<ApiError>(&located))
    return Failure(std::move(*error), std::string(id));
  const RecordPtr& current = std::get<RecordPtr>(located);
  if (current->is_deleted) return Failure(EntityIsDeleted(), current->id);
  std::vector<Value> values = current->values;
  if (auto error = Prepare(*table, fields, false, current->id, values)) {
    return Failure(std::move(*error), current->id);
  }
  Commit(*table, std::move(values), current, false, store_.api_user_id);
  return Success(current->id, false, current);
}

SaveResult Writer::Delete(std::string_view id) {
  Table* table = nullptr;
  Result<RecordPtr> located = Locate({}, id, &table);
  if (auto* error = std::get_if<ApiError>(&located))
    return Failure(std::move(*error), std::string(id));
  const RecordPtr& current = std::get<RecordPtr>(located);
  if (current->is_deleted) return Failure(EntityIsDeleted(), current->id);
  if (!table->schema().def().deletable) return Failure(CannotDelete(), current->id);
  Commit(*table, current->values, current, true, store_.api_user_id);
  table->deleted_log().push_back(DeletedRecord{current->id, stamp_});
  return Success(current->id, false, current);
}

SaveResult Writer::Undelete(std::string_view id) {
  Table* table = nullptr;
  Result<RecordPtr> located = Locate({}, id, &table);
  if (auto* error = std::get_if<ApiError>(&located))
    return Failure(std::move(*error), std::string(id));
  const RecordPtr& current = std::get<RecordPtr>(located);
  if (!current->is_deleted) return Failure(UndeleteFailed(), current->id);
  for (std::size_t field : table->schema().unique_fields) {
    const std::string_view other = table->FindUnique(field, current->values[field], current->id);
    if (!other.empty()) return Failure(DuplicateValue(table->schema().field(field), other));
  }
  Commit(*table, current->values, current, false, store_.api_user_id);
  // An undeleted record is no longer reported by getDeleted.
  std::vector<DeletedRecord>& log = table->deleted_log();
  std::erase_if(log, [&](const DeletedRecord& entry) { return entry.id == current->id; });
  return Success(current->id, false, current);
}

SaveResult Writer::Upsert(std::string_view object, std::string_view field_name,
                          std::string_view value, const InputRecord& fields) {
  Table* table = store_.TableOf(object);
  if (table == nullptr) return Failure(UnknownObject(object));
  const ObjectSchema& schema = table->schema();
  const std::optional<std::size_t> field = schema.FindField(field_name);
  if (field && *field == schema.id) {
    SaveResult result = Update(object, value, fields);
    return result;
  }
  if (!field || !schema.field(*field).external_id)
    return Failure(NoSuchExternalIdField(field_name));
  const FieldDef& def = schema.field(*field);
  std::vector<std::string> matches;
  if (def.unique) {
    const std::string_view match = table->FindUnique(*field, Value::String(std::string(value)), {});
    if (!match.empty()) matches.emplace_back(match);
  } else {
    for (const RecordPtr& record : table->live()) {
      const Value& v = record->values[*field];
      if (!v.IsNull() && soql::EqualsIgnoreCase(v.ToString(), value)) {
        matches.push_back(record->id);
        if (matches.size() > 1) return Failure(MultipleChoices(def.name, value));
      }
    }
  }
  if (matches.size() == 1) return Update(object, matches.front(), fields);
  InputRecord with_key = fields;
  with_key.emplace_back(def.name, InputValue{InputValue::Kind::kString, std::string(value), false});
  return Create(object, with_key);
}

}  // namespace sfbridge::sfsim::org
