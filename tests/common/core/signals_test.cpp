#include "common/core/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace sfbridge::core {
namespace {

// One test: the signal state is process-wide and shutdown, once requested, stays requested.
TEST(ShutdownSignalTest, SigtermWakesWaitersAndIsRemembered) {
  ShutdownSignal& shutdown = ShutdownSignal::Install();
  EXPECT_FALSE(shutdown.Requested());
  EXPECT_FALSE(shutdown.WaitFor(std::chrono::milliseconds(10)));
  kill(getpid(), SIGTERM);  // blocked in this thread: the watcher thread takes it
  EXPECT_TRUE(shutdown.WaitFor(std::chrono::seconds(10)));
  EXPECT_TRUE(shutdown.Requested());
  EXPECT_EQ(shutdown.signal_number(), SIGTERM);
  shutdown.Wait();  // returns at once
}

}  // namespace
}  // namespace sfbridge::core
