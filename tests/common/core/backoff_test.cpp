#include "common/core/backoff.h"

#include <gtest/gtest.h>

namespace sfbridge::core {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesFromInitialUpToMaxAndStartsOverAfterReset) {
  Backoff b(milliseconds(250), milliseconds(2'000));
  EXPECT_EQ(b.Failed(), milliseconds(250));
  EXPECT_EQ(b.Failed(), milliseconds(500));
  EXPECT_EQ(b.Failed(), milliseconds(1'000));
  EXPECT_EQ(b.Failed(), milliseconds(2'000));
  EXPECT_EQ(b.Failed(), milliseconds(2'000));
  EXPECT_EQ(b.failures(), 5);
  b.Reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.Failed(), milliseconds(250));
}

TEST(BackoffTest, MaxThatIsNoPowerOfTwoOfInitialCapsTheWait) {
  Backoff b(milliseconds(300), milliseconds(1'000));
  EXPECT_EQ(b.Failed(), milliseconds(300));
  EXPECT_EQ(b.Failed(), milliseconds(600));
  EXPECT_EQ(b.Failed(), milliseconds(1'000));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.Failed(), milliseconds(1'000));
}

TEST(BackoffTest, MaxBelowInitialWaitsInitial) {
  Backoff b(milliseconds(500), milliseconds(100));
  EXPECT_EQ(b.Failed(), milliseconds(500));
  EXPECT_EQ(b.Failed(), milliseconds(500));
}

}  // namespace
}  // namespace sfbridge::core
