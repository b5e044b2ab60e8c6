#include "sfsim/soql/object_view.h"

namespace sfbridge::sfsim::soql {

std::optional<std::size_t> ObjectView::FindField(std::string_view name) const {
  const std::vector<FieldInfo>& fields = Fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (EqualsIgnoreCase(fields[i].name, name)) return i;
  }
  return std::nullopt;
}

ValueKind ValueKindOf(FieldType type) {
  switch (type) {
    case FieldType::kBoolean:
      return ValueKind::kBoolean;
    case FieldType::kInt:
    case FieldType::kLong:
    case FieldType::kDouble:
    case FieldType::kCurrency:
    case FieldType::kPercent:
      return ValueKind::kNumber;
    case FieldType::kDate:
      return ValueKind::kDate;
    case FieldType::kDateTime:
      return ValueKind::kDateTime;
    case FieldType::kTime:
      return ValueKind::kTime;
    default:
      return ValueKind::kString;
  }
}

std::string_view SoapTypeName(FieldType type) {
  switch (type) {
    case FieldType::kId:
    case FieldType::kReference:
      return "id";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kInt:
      return "int";
    case FieldType::kLong:
      return "long";
    case FieldType::kDouble:
    case FieldType::kCurrency:
    case FieldType::kPercent:
      return "double";
    case FieldType::kDate:
      return "date";
    case FieldType::kDateTime:
      return "dateTime";
    case FieldType::kTime:
      return "time";
    default:
      return "string";
  }
}

TextCollation CollationOf(FieldType type) {
  return type == FieldType::kId || type == FieldType::kReference ? TextCollation::kCaseSensitive
                                                                 : TextCollation::kCaseInsensitive;
}

bool IsFilterable(FieldType type) { return type != FieldType::kLongTextArea; }

bool IsSortable(FieldType type) {
  return type != FieldType::kLongTextArea && type != FieldType::kMultiPicklist;
}

}  // namespace sfbridge::sfsim::soql
