#include "common/control/sql_arrays.h"

namespace sfbridge::control {

std::string ToTextArray(const std::vector<std::string>& elements) {
  std::string out = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (char c : elements[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::optional<std::vector<std::string>> ParseTextArray(std::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
  std::vector<std::string> out;
  std::string_view body = text.substr(1, text.size() - 2);
  if (body.empty()) return out;
  size_t i = 0;
  while (true) {
    std::string element;
    if (i < body.size() && body[i] == '"') {
      ++i;
      while (i < body.size() && body[i] != '"') {
        if (body[i] == '\\') ++i;
        if (i >= body.size()) return std::nullopt;
        element.push_back(body[i++]);
      }
      if (i >= body.size()) return std::nullopt;
      ++i;  // closing quote
    } else {
      size_t end = body.find(',', i);
      if (end == std::string_view::npos) end = body.size();
      std::string_view raw = body.substr(i, end - i);
      if (raw.find_first_of("{}\"") != std::string_view::npos) return std::nullopt;
      if (raw != "NULL") element = std::string(raw);
      i = end;
    }
    out.push_back(std::move(element));
    if (i == body.size()) return out;
    if (body[i] != ',') return std::nullopt;
    ++i;
  }
}

}  // namespace sfbridge::control
