#pragma once

// String building that accepts std::string_view. (Debian's Abseil has its own string_view type,
// so core::StrCat does not take std::string_view; these do.)

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace sfbridge::core {
namespace strings_internal {

inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, const char* s) { out.append(s ? s : ""); }
inline void Append(std::string& out, const std::string& s) { out.append(s); }
inline void Append(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void Append(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void Append(std::string& out, T v) {
  out.append(std::to_string(v));
}
void Append(std::string& out, double v);

}  // namespace strings_internal

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (strings_internal::Append(out, args), ...);
  return out;
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (strings_internal::Append(*out, args), ...);
}

std::string StrJoin(const std::vector<std::string>& parts, std::string_view separator);

// A status message as a std::string.
inline std::string ToString(absl::string_view s) { return std::string(s.data(), s.size()); }

}  // namespace sfbridge::core
