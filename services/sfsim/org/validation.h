#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "sfsim/org/org.h"
#include "sfsim/soql/value.h"

// The checks of one field value against its definition that need no other record: length
// (STRING_TOO_LONG, counted in characters), restricted picklist values
// (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, each value of a multipicklist) and email syntax
// (INVALID_EMAIL_ADDRESS). Null passes; whether a field may be null is checked by the caller.
namespace sfbridge::sfsim::org {

std::optional<ApiError> CheckValue(const FieldDef& field, const soql::Value& value);

// Unicode characters in UTF-8 `text`.
std::size_t CharacterCount(std::string_view text);

}  // namespace sfbridge::sfsim::org
