#include "sfsim/soql/record_id.h"

namespace sfbridge::sfsim::soql {
namespace {

bool IsAlphanumeric(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::optional<std::string> CanonicalId(std::string_view id) {
  if (id.size() != 15 && id.size() != 18) return std::nullopt;
  for (char c : id) {
    if (!IsAlphanumeric(c)) return std::nullopt;
  }
  static constexpr char kSuffixAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  std::string canonical(id.substr(0, 15));
  // Each group of five characters contributes one suffix character: bit i is set when the
  // group's i-th character is an upper-case letter.
  for (int group = 0; group < 3; ++group) {
    int bits = 0;
    for (int i = 0; i < 5; ++i) {
      const char c = canonical[group * 5 + i];
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    canonical.push_back(kSuffixAlphabet[bits]);
  }
  return canonical;
}

}  // namespace sfbridge::sfsim::soql
