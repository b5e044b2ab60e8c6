#include "common/core/strings.h"

#include <cstdio>

namespace sfbridge::core {

void strings_internal::Append(std::string& out, double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.15g", v);
  out.append(buf);
}

std::string StrJoin(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.append(separator);
    out.append(parts[i]);
  }
  return out;
}

}  // namespace sfbridge::core
