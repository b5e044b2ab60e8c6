#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sfbridge::sfsim::soql {

// The canonical 18-character form of a Salesforce record id given in its 15-character
// (case-sensitive) or 18-character form; the 3-character suffix is recomputed, so a suffix in
// the wrong case is repaired. nullopt when `id` is not 15 or 18 ASCII letters and digits.
std::optional<std::string> CanonicalId(std::string_view id);

}  // namespace sfbridge::sfsim::soql
