#include "sfsim/org/validation.h"

#include "sfsim/org/api_errors.h"

namespace sfbridge::sfsim::org {
namespace {

bool IsPicklistValue(const FieldDef& field, std::string_view value) {
  for (const PicklistEntry& entry : field.picklist_values) {
    if (entry.active && entry.value == value) return true;
  }
  return false;
}

// Salesforce's check is lenient too: one @, a local part, a dotted domain, no spaces.
bool IsEmail(std::string_view text) {
  const std::size_t at = text.find('@');
  if (at == 0 || at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos)
    return false;
  if (text.find_first_of(" \t\r\n,;<>") != std::string_view::npos) return false;
  const std::string_view domain = text.substr(at + 1);
  const std::size_t dot = domain.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size();
}

}  // namespace

std::size_t CharacterCount(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::optional<ApiError> CheckValue(const FieldDef& field, const soql::Value& value) {
  if (value.Kind() != soql::ValueKind::kString) return std::nullopt;
  const std::string_view text = value.Text();
  if (field.length > 0 && CharacterCount(text) > static_cast<std::size_t>(field.length)) {
    return StringTooLong(field, text);
  }
  if (field.restricted_picklist) {
    if (field.type == "multipicklist") {
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t end = text.find(';', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view item = text.substr(start, end - start);
        if (!IsPicklistValue(field, item)) return BadRestrictedPicklist(field, item);
        start = end + 1;
      }
    } else if (!IsPicklistValue(field, text)) {
      return BadRestrictedPicklist(field, text);
    }
  }
  if (field.type == "email" && !IsEmail(text)) return InvalidEmail(field, text);
  return std::nullopt;
}

}  // namespace sfbridge::sfsim::org
