#include "sfsim/org/schema.h"

#include <utility>

namespace sfbridge::sfsim::org {

std::string Folded(std::string_view text) {
  std::string folded(text);
  for (char& c : folded) c = soql::FoldCase(c);
  return folded;
}

ObjectSchema::ObjectSchema(const ObjectDef& def, std::vector<Formula> formulas)
    : def_(def), formulas_(std::move(formulas)) {
  for (std::size_t i = 0; i < def.fields.size(); ++i) {
    const FieldDef& field = def.fields[i];
    infos_.push_back(soql::FieldInfo{field.name, field.soql_type, field.custom});
    by_folded_name_.emplace(Folded(field.name), i);
    if (field.unique) unique_fields.push_back(i);
    if (field.auto_number) auto_number = i;
  }
  id = FieldIndex(def, "Id");
  is_deleted = FieldIndex(def, "IsDeleted");
  created_date = FieldIndex(def, "CreatedDate");
  created_by = FieldIndex(def, "CreatedById");
  last_modified_date = FieldIndex(def, "LastModifiedDate");
  last_modified_by = FieldIndex(def, "LastModifiedById");
  system_modstamp = FieldIndex(def, "SystemModstamp");
  owner = FindField("OwnerId");
}

void ObjectSchema::AddField() {
  const std::size_t i = def_.fields.size() - 1;
  const FieldDef& field = def_.fields[i];
  infos_.push_back(soql::FieldInfo{field.name, field.soql_type, field.custom});
  by_folded_name_.emplace(Folded(field.name), i);
}

std::optional<std::size_t> ObjectSchema::FindField(std::string_view name) const {
  auto it = by_folded_name_.find(Folded(name));
  if (it == by_folded_name_.end()) return std::nullopt;
  return it->second;
}

void ObjectSchema::Recompute(std::vector<soql::Value>& values) const {
  for (const Formula& formula : formulas_) values[formula.field] = formula.compute(values);
}

const ObjectDef::Rule* ObjectSchema::BrokenRule(const std::vector<soql::Value>& values) const {
  for (const ObjectDef::Rule& rule : def_.rules) {
    if (rule.violated(values)) return &rule;
  }
  return nullptr;
}

}  // namespace sfbridge::sfsim::org
