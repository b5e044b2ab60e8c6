// The decoder under a seed corpus of valid messages plus many random and mutated inputs, so
// that CI covers what scripts/fuzz-proxy explores at length (that one needs clang).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proxy/pg_wire.h"
#include "tests/proxy/decoder_fuzz_target.h"

namespace sfbridge::proxy::testing {
namespace {

std::vector<std::string> SeedCorpus() {
  std::vector<std::string> seeds;
  std::string s;
  wire::AppendStartup(&s, {{"user", "u"}, {"database", "d"}});
  wire::AppendQuery(&s, "insert into t values (1); select 2");
  seeds.push_back(s);
  s.clear();
  wire::AppendParse(&s, "s", "select $1", {23});
  BoundParams params{.values = {std::string("1"), std::nullopt}, .formats = {0, 1}};
  wire::AppendBind(&s, "", "s", params, {1});
  wire::AppendDescribe(&s, 'S', "s");
  wire::AppendExecute(&s, "", 0);
  wire::AppendSync(&s);
  seeds.push_back(s);
  s.clear();
  wire::AppendErrorResponse(&s, {.sqlstate = "23505", .message = "m", .detail = "d"});
  wire::AppendAuthSasl(&s, {"SCRAM-SHA-256"});
  wire::AppendBackendKeyData(&s, {1, 2});
  wire::AppendReadyForQuery(&s, 'T');
  wire::AppendCommandComplete(&s, "INSERT 0 1");
  seeds.push_back(s);
  s.clear();
  wire::AppendCancelRequest(&s, {5, 6});
  seeds.push_back(s);
  return seeds;
}

TEST(DecoderFuzzTest, SeedsDecode) {
  for (const auto& seed : SeedCorpus()) EXPECT_GT(DecodeEverything(seed), 0u);
}

TEST(DecoderFuzzTest, RandomAndMutatedInputsNeverCrash) {
  std::mt19937 rng(20240611);
  std::vector<std::string> seeds = SeedCorpus();
  size_t decoded = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string input;
    if (i % 4 == 0) {
      input.resize(rng() % 64);
      for (char& c : input) c = static_cast<char>(rng());
    } else {
      input = seeds[rng() % seeds.size()];
      int edits = 1 + rng() % 8;
      for (int e = 0; e < edits && !input.empty(); ++e) {
        size_t pos = rng() % input.size();
        switch (rng() % 5) {
          case 0:
            input[pos] = static_cast<char>(rng());
            break;  // flip a byte
          case 1:
            input.erase(pos, 1 + rng() % 4);
            break;  // truncate inside
          case 2:
            input.insert(pos, 1, static_cast<char>(rng()));
            break;
          case 3:
            input.resize(pos);
            break;  // cut the tail
          case 4:
            input[pos] = static_cast<char>(0xff);
            break;  // huge / negative lengths
        }
      }
    }
    decoded += DecodeEverything(input);
  }
  EXPECT_GT(decoded, 0u);
}

}  // namespace
}  // namespace sfbridge::proxy::testing
