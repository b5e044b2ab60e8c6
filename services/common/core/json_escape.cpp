#include "common/core/json_escape.h"

namespace sfbridge::core {

void AppendJsonEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = 0;  // start of the current run of bytes that need no escaping
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    if (std::string_view e = BackslashEscape(static_cast<char>(c)); !e.empty()) {
      out += e;
    } else {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.append(text.data() + run, text.size() - run);
}

}  // namespace sfbridge::core
