#pragma once

#include <cstddef>
#include <cstdint>

namespace sfbridge::sfsim::org {

// A small, fast, deterministic pseudo-random generator (SplitMix64). The same seed gives the
// same sequence on every platform, which std::uniform_*_distribution does not promise.
// Not thread-safe; copy it per thread.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi].
  std::int64_t Between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(Below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  // True with probability percent / 100.
  bool Chance(int percent) { return Below(100) < static_cast<std::uint64_t>(percent); }
  template <typename T, std::size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  std::uint64_t state_;
};

// Mixes several numbers into one seed, so that streams for different objects and steps differ.
inline std::uint64_t MixSeed(std::uint64_t a, std::uint64_t b) {
  Random random(a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL));
  return random.Next();
}

}  // namespace sfbridge::sfsim::org
