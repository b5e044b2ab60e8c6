#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "sfsim/org/org.h"
#include "sfsim/soql/value.h"

// The objects of the simulated org: Account, Contact, Lead, Opportunity, User, Product2 and the
// custom objects Invoice__c and Shipment__c, with their fields, validation rules and the
// read-only values the org computes on every write (formulas, full names).
namespace sfbridge::sfsim::org {

// A value the org computes from the other values of the record on every write.
struct Formula {
  std::size_t field = 0;
  std::function<soql::Value(const std::vector<soql::Value>&)> compute;
};

struct CatalogEntry {
  ObjectDef def;
  std::vector<Formula> formulas;  // applied in order
};

// In generation order: parents before children (User, Account, Product2, Contact, Lead,
// Opportunity, Invoice__c, Shipment__c).
std::vector<CatalogEntry> BuildCatalog();

// Index of the field `name` (exact API name) in `object`; the catalog guarantees it exists.
std::size_t FieldIndex(const ObjectDef& object, std::string_view name);

}  // namespace sfbridge::sfsim::org
