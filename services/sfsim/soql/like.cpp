#include "sfsim/soql/like.h"

#include "absl/status/status.h"
#include "sfsim/soql/value.h"

namespace sfbridge::sfsim::soql {
namespace {

// Index just past the UTF-8 code point starting at `pos`.
std::size_t NextCodePoint(std::string_view text, std::size_t pos) {
  ++pos;
  while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

}  // namespace

absl::StatusOr<LikePattern> LikePattern::Compile(std::string_view source) {
  LikePattern pattern;
  auto add = [&pattern](char c, Element element) {
    if (element == kAnyRun && !pattern.elements_.empty() && pattern.elements_.back() == kAnyRun) {
      return;  // "%%" is "%"
    }
    pattern.chars_.push_back(element == kLiteral ? FoldCase(c) : c);
    pattern.elements_.push_back(element);
  };
  for (std::size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    if (c == '%') {
      add(c, kAnyRun);
    } else if (c == '_') {
      add(c, kAnyOne);
    } else if (c != '\\') {
      add(c, kLiteral);
    } else {
      if (i + 1 >= source.size()) {
        return absl::InvalidArgumentError("Invalid string literal '" + std::string(source) +
                                          "'. Illegal character sequence '\\' in string literal.");
      }
      const char e = source[++i];
      switch (e) {
        case '%':
        case '_':
        case '\\':
        case '\'':
        case '"':
          add(e, kLiteral);
          break;
        case 'n':
        case 'N':
          add('\n', kLiteral);
          break;
        case 't':
        case 'T':
          add('\t', kLiteral);
          break;
        case 'r':
        case 'R':
          add('\r', kLiteral);
          break;
        case 'b':
        case 'B':
          add('\b', kLiteral);
          break;
        case 'f':
        case 'F':
          add('\f', kLiteral);
          break;
        default:
          return absl::InvalidArgumentError("Invalid string literal '" + std::string(source) +
                                            "'. Illegal character sequence '\\" +
                                            std::string(1, e) + "' in string literal.");
      }
    }
  }
  return pattern;
}

bool LikePattern::Matches(std::string_view text) const {
  // Greedy matching that backtracks only to the most recent '%': linear for typical patterns,
  // O(text * pattern) in the worst case, never recursive.
  const std::size_t n = elements_.size();
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t t = 0, p = 0, resume_p = kNone, resume_t = 0;
  while (t < text.size()) {
    if (p < n) {
      const char element = elements_[p];
      if (element == kAnyOne) {
        t = NextCodePoint(text, t);
        ++p;
        continue;
      }
      if (element == kLiteral && FoldCase(text[t]) == chars_[p]) {
        ++t;
        ++p;
        continue;
      }
      if (element == kAnyRun) {
        resume_p = ++p;
        resume_t = t;
        continue;
      }
    }
    if (resume_p == kNone) return false;
    p = resume_p;
    resume_t = NextCodePoint(text, resume_t);
    t = resume_t;
  }
  while (p < n && elements_[p] == kAnyRun) ++p;
  return p == n;
}

}  // namespace sfbridge::sfsim::soql
