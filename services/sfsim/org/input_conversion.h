#pragma once

#include "sfsim/org/org.h"
#include "sfsim/soql/value.h"

// Turns a JSON value of a request body into the value a field stores, as Salesforce's
// deserializer does:
//  - text types (string, textarea, picklists, email, phone, url, reference) take strings, and
//    numbers and booleans as their text;
//  - boolean takes true/false only (null means false: Salesforce booleans are never null);
//  - int, double, currency, percent take JSON numbers only; a number keeps its exact text when
//    it has at most `scale` decimals, more are rounded half up to `scale`; an int must be whole;
//  - date `2024-01-15`, datetime `2024-01-15T10:20:30.000+0000` (or Z, or +00:00), time
//    `10:20:30.000Z` take strings only.
// Errors: JSON_PARSER_ERROR for the wrong JSON type or a malformed date/number;
// NUMBER_OUTSIDE_VALID_RANGE for more integer digits than precision - scale (or `digits`).
// Null stays null for every other type; whether the field may be null is checked elsewhere.
namespace sfbridge::sfsim::org {

Result<soql::Value> ConvertInput(const FieldDef& field, const InputValue& input);

}  // namespace sfbridge::sfsim::org
