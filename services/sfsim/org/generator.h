#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sfsim/org/random.h"
#include "sfsim/org/store.h"
#include "sfsim/soql/value.h"

// Realistic field values for generated records and churn: names in many scripts and with
// quotes and backslashes, addresses, amounts, picklist values, parents picked among existing
// records, some nulls and some long text. Deterministic: the same Random state gives the
// same values.
namespace sfbridge::sfsim::org {

class Generator {
 public:
  // What a field holds (a first name, a street, ...), beyond its type.
  enum class Hint : std::uint8_t;

  // `store` is only read (to pick parents), with its lock held by the caller of each method;
  // dates are spread around `now_ms`.
  Generator(const Store& store, std::int64_t now_ms);

  // The values of a new record of `table`'s object; Id, system fields, auto-numbers and formulas
  // are left for the writer. `sequence` (distinct per record) makes unique values unique.
  // The record satisfies the object's rules and required fields.
  std::vector<soql::Value> NewRecord(const Table& table, Random& random,
                                     std::uint64_t sequence) const;

  // A new value for one writable field, as churn changes it. `values` is the record being
  // changed (for fields that depend on others).
  soql::Value FieldValue(const Table& table, std::size_t field, Random& random,
                         std::uint64_t sequence) const;

  // Whether churn may change this field: writable, not unique, not computed.
  static bool Changeable(const ObjectSchema& schema, std::size_t field);

 private:
  std::vector<Hint> HintsFor(const ObjectSchema& schema) const;
  soql::Value Generate(const FieldDef& field, Hint hint, Random& random,
                       std::uint64_t sequence) const;
  soql::Value GenerateByType(const FieldDef& field, Random& random) const;
  soql::Value PickParent(const FieldDef& field, Random& random) const;

  const Store& store_;
  std::int64_t now_ms_;
  std::vector<std::vector<Hint>> hints_;  // per object, per field
};

}  // namespace sfbridge::sfsim::org
