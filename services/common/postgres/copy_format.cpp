#include "common/postgres/copy_format.h"

#include <charconv>

namespace sfbridge::postgres {
namespace {

// The escape of a byte COPY text cannot hold as it is; nullptr for any other byte.
constexpr const char* EscapeOf(char c) {
  switch (c) {
    case '\\':
      return "\\\\";
    case '\t':
      return "\\t";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    default:
      return nullptr;
  }
}

// Appends `text` escaped, a run of plain bytes at a time. False at the first NUL when
// `refuse_nul` (with `out` partly appended).
bool AppendEscaped(std::string& out, std::string_view text, bool refuse_nul) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char* escape = EscapeOf(text[i]);
    if (escape == nullptr) {
      if (text[i] == '\0' && refuse_nul) return false;
      continue;
    }
    out.append(text.data() + start, i - start);
    out.append(escape);
    start = i + 1;
  }
  out.append(text.data() + start, text.size() - start);
  return true;
}

}  // namespace

bool AppendCopyText(std::string& out, std::string_view text) {
  const size_t size = out.size();
  if (!AppendEscaped(out, text, /*refuse_nul=*/true)) {
    out.resize(size);
    return false;
  }
  return true;
}

void AppendCopyEscaped(std::string& out, std::string_view text) {
  AppendEscaped(out, text, /*refuse_nul=*/false);
}

void AppendCopyInt(std::string& out, int64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, end);
}

void AppendCopyField(std::string& out, const std::optional<std::string>& value) {
  if (!value) {
    out.append(kCopyNull);
    return;
  }
  AppendCopyEscaped(out, *value);
}

void AppendCopyRow(std::string& out, const std::vector<std::optional<std::string>>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back('\t');
    AppendCopyField(out, fields[i]);
  }
  out.push_back('\n');
}

}  // namespace sfbridge::postgres
