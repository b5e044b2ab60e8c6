#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sfsim/org/catalog.h"
#include "sfsim/org/org.h"
#include "sfsim/soql/object_view.h"

namespace sfbridge::sfsim::org {

// One object of the catalog as the org works with it: its ObjectDef, the SOQL view of its
// fields, the positions of the fields the org sets itself, and its formulas. Changed only by
// AddField, with the org's lock held exclusively; read under it held shared.
class ObjectSchema final : public soql::ObjectView {
 public:
  // `def` must outlive the schema.
  ObjectSchema(const ObjectDef& def, std::vector<Formula> formulas);

  std::string_view Name() const override { return def_.name; }
  const std::vector<soql::FieldInfo>& Fields() const override { return infos_; }
  // Case-insensitive, by hash lookup.
  std::optional<std::size_t> FindField(std::string_view name) const override;

  const ObjectDef& def() const { return def_; }
  const FieldDef& field(std::size_t index) const { return def_.fields[index]; }
  std::size_t size() const { return def_.fields.size(); }

  // Takes in the field just appended to def().fields (the org added it at run time).
  void AddField();

  // Sets every formula field of `values` from the others.
  void Recompute(std::vector<soql::Value>& values) const;
  // The first validation rule `values` break, or nullptr.
  const ObjectDef::Rule* BrokenRule(const std::vector<soql::Value>& values) const;

  // Positions of the fields every object has.
  std::size_t id = 0, is_deleted = 0, created_date = 0, created_by = 0, last_modified_date = 0,
              last_modified_by = 0, system_modstamp = 0;
  std::optional<std::size_t> owner;        // OwnerId
  std::optional<std::size_t> auto_number;  // the auto-number Name of custom objects
  std::vector<std::size_t> unique_fields;

 private:
  const ObjectDef& def_;
  std::vector<Formula> formulas_;
  std::vector<soql::FieldInfo> infos_;
  std::unordered_map<std::string, std::size_t> by_folded_name_;
};

// ASCII lower case, for case-insensitive keys.
std::string Folded(std::string_view text);

}  // namespace sfbridge::sfsim::org
