#pragma once

// PostgreSQL one-dimensional text[] values in their text form, for binding as parameters and
// reading back (the Postgres wrapper passes every value as text).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::control {

// {"a","b \"c\""}: every element quoted, so any text survives.
std::string ToTextArray(const std::vector<std::string>& elements);

// Parses a text[] as Postgres prints it ({a,"b c",NULL}). NULL elements become empty strings.
// nullopt when `text` is not a one-dimensional array literal.
std::optional<std::vector<std::string>> ParseTextArray(std::string_view text);

}  // namespace sfbridge::control
