#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sfbridge::sfsim::soql {

// A compiled SOQL LIKE pattern: `%` matches any run of characters, `_` exactly one (UTF-8 code
// point), `\%` and `\_` match themselves. Matching is case-insensitive (ASCII letters) and
// allocation-free. Immutable after Compile; safe to share between threads.
class LikePattern {
 public:
  LikePattern() = default;  // matches only the empty string

  // `source` is the literal's text between the quotes with its backslash escapes not yet
  // decoded, so that `\%` can be told apart from `%`. InvalidArgument on a bad escape.
  static absl::StatusOr<LikePattern> Compile(std::string_view source);

  bool Matches(std::string_view text) const;

 private:
  enum Element : char { kLiteral = 0, kAnyOne = 1, kAnyRun = 2 };
  std::string chars_;     // folded literal bytes; unused for wildcards
  std::string elements_;  // one Element per position of chars_
};

}  // namespace sfbridge::sfsim::soql
