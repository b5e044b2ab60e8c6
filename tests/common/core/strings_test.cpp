#include "common/core/strings.h"

#include <gtest/gtest.h>

namespace sfbridge::core {
namespace {

TEST(StringsTest, StrCatTakesEveryStringKindAndNumbers) {
  std::string_view sv = "view";
  absl::string_view asv = "absl";
  EXPECT_EQ(StrCat("a", std::string("b"), sv, asv, 'c', 42, -7L, 2.5), "abviewabslc42-72.5");
  std::string out = "x";
  StrAppend(&out, "=", 1);
  EXPECT_EQ(out, "x=1");
}

TEST(StringsTest, StrJoin) {
  EXPECT_EQ(StrJoin({}, ","), "");
  EXPECT_EQ(StrJoin({"a"}, ","), "a");
  EXPECT_EQ(StrJoin({"a", "b", "c"}, ", "), "a, b, c");
}

}  // namespace
}  // namespace sfbridge::core
