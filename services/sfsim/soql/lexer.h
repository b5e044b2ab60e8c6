#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sfsim/soql/ast.h"

namespace sfbridge::sfsim::soql {

// Queries longer than this are refused before any work is done.
inline constexpr std::size_t kMaxQueryLength = 100'000;

enum class TokenKind : std::uint8_t {
  kIdentifier,  // names and keywords alike; the parser tells them apart, case-insensitively
  kString,      // 'single quoted'
  kNumber,      // 42, -1.5, .5
  kDate,        // 2024-01-15
  kDateTime,    // 2024-01-15T10:20:30Z and variants
  kTime,        // 10:20:30.000Z
  kLeftParen,
  kRightParen,
  kComma,
  kDot,
  kColon,  // bind variables (:name), which are refused by the parser
  kEq,     // =
  kNe,     // != or <>
  kLt,
  kLe,
  kGt,
  kGe,
  kOther,  // any other character, reported by the parser as an unexpected token
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  // As written, except strings: the content between the quotes, escapes not decoded.
  std::string_view text;
  // kString: the decoded content. Literal kinds: the parsed value.
  Value value;
  Position position;
};

// Splits `soql` into tokens ending with one kEnd token. The tokens' `text` points into `soql`,
// which must outlive them. InvalidArgument (MALFORMED_QUERY) on an unterminated string, an
// illegal escape, a malformed date/datetime/time literal, or input over kMaxQueryLength.
absl::StatusOr<std::vector<Token>> Tokenize(std::string_view soql);

// How a token is quoted in error messages: `'FORM'`, `'<EOF>'`.
std::string DescribeToken(const Token& token);

// ` at Row:1:Column:11`.
std::string At(Position position);

}  // namespace sfbridge::sfsim::soql
