#include "writer/naming.h"

#include <cstdio>

namespace sfbridge::writer {
namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsUpper(c) || IsLower(c) || IsDigit(c) || c == '_'; }

// `name` cut to at most `max_bytes` without splitting a UTF-8 sequence (names are ASCII after
// SnakeCaseName, but cutting stays safe for any input).
std::string Cut(std::string name, size_t max_bytes) {
  if (name.size() <= max_bytes) return name;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
  name.resize(end);
  return name;
}

// The snake name with room for `suffix`, within the identifier limit.
std::string WithSuffix(const std::string& snake, const std::string& suffix) {
  return Cut(snake, kMaxIdentifierBytes - suffix.size()) + suffix;
}

}  // namespace

std::string StableHash(std::string_view text) {
  uint32_t h = 2166136261u;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", h);
  return std::string(buf, 8);
}

std::string SnakeCaseName(std::string_view api_name) {
  std::string out;
  out.reserve(api_name.size() + 8);
  for (size_t i = 0; i < api_name.size(); ++i) {
    char c = api_name[i];
    if (!IsWordChar(c)) {
      out.push_back('_');
      continue;
    }
    if (IsUpper(c) && i > 0) {
      char prev = api_name[i - 1];
      bool next_lower = i + 1 < api_name.size() && IsLower(api_name[i + 1]);
      // A word starts at a capital after a lower-case letter or digit ("firstName"), or at the
      // last capital of an acronym that is followed by a lower-case letter ("SLAExpiration").
      if (IsLower(prev) || IsDigit(prev) || (IsUpper(prev) && next_lower)) {
        if (!out.empty() && out.back() != '_') out.push_back('_');
      }
    }
    out.push_back(IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (out.empty()) out = "_";
  if (out.size() > kMaxIdentifierBytes) out = WithSuffix(out, "_" + StableHash(api_name));
  return out;
}

std::string UniqueName(std::string_view api_name, const std::set<std::string>& taken) {
  std::string plain = SnakeCaseName(api_name);
  if (!taken.contains(plain)) return plain;
  std::string snake = plain;
  std::string hash = "_" + StableHash(api_name);
  // A plain name that was already cut ends in this very hash; cut the original again instead of
  // hashing twice.
  if (snake.size() == kMaxIdentifierBytes && snake.ends_with(hash)) {
    snake.resize(snake.size() - hash.size());
  }
  std::string hashed = WithSuffix(snake, hash);
  if (!taken.contains(hashed)) return hashed;
  for (int n = 2;; ++n) {
    std::string candidate = WithSuffix(snake, hash + "_" + std::to_string(n));
    if (!taken.contains(candidate)) return candidate;
  }
}

}  // namespace sfbridge::writer
