// A Connection outliving its server: PostgreSQL of the test's own is stopped with
// pg_ctl -m immediate and started again on the same port and data, under open connections.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/core/dependency.h"
#include "common/postgres/connection.h"
#include "tests/fakes/fake_clock.h"
#include "tests/harness/test_env.h"

namespace sfbridge::postgres {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

class PostgresReconnectTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::OwnServer(testing::OwnServer::Kind::kPostgres);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static testing::OwnServer* server_;
};

testing::OwnServer* PostgresReconnectTest::server_ = nullptr;

TEST_F(PostgresReconnectTest, ComesBackAfterARestartWithItsPreparedStatementsAndListens) {
  testing::FakeClock clock;
  core::MetricsRegistry registry;
  core::Gauge& up = registry.GaugeFamily("up", "", {"dependency"}).WithLabels({"postgres"});
  core::DependencyState state("test", "postgres", clock, &up);
  auto conn = Connection::Connect(server_->address(), {.clock = &clock, .state = &state});
  ASSERT_TRUE(conn.ok()) << conn.status();
  Connection& c = **conn;
  ASSERT_TRUE(c.Exec("CREATE TABLE IF NOT EXISTS t (v int)").ok());
  ASSERT_TRUE(c.ExecPrepared("SELECT count(*) FROM t WHERE v > $1", {"0"}).ok());
  ASSERT_TRUE(c.Listen("sfbridge_test").ok());

  server_->Restart();

  // The first call finds the old connection dead: an error that says to retry.
  absl::StatusOr<QueryResult> first = c.Exec("SELECT 1");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();
  EXPECT_FALSE(c.connected());
  EXPECT_FALSE(state.up());
  EXPECT_EQ(up.Value(), 0);
  EXPECT_THAT(state.reason(), HasSubstr("postgres unreachable"));

  // The next one opens a new connection first (the first attempt is made at once).
  absl::StatusOr<QueryResult> second = c.Exec("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(c.connected());
  EXPECT_EQ(c.reconnects(), 1);
  EXPECT_TRUE(state.up());
  EXPECT_EQ(up.Value(), 1);
  // The statement prepared on the old connection is prepared again.
  absl::StatusOr<QueryResult> counted =
      c.ExecPrepared("SELECT count(*) FROM t WHERE v > $1", {"0"});
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(*counted->rows[0][0], "1");
  // LISTEN holds on the new connection.
  auto other = Connection::Connect(server_->address());
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("NOTIFY sfbridge_test, 'after restart'").ok());
  absl::StatusOr<std::vector<Notification>> got = c.WaitForNotifications(milliseconds(5'000));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].payload, "after restart");
  // Transactions work again.
  EXPECT_TRUE(c.InTransaction([](Transaction& tx) {
                 return tx.Exec("INSERT INTO t VALUES (2)").status();
               }).ok());
}

TEST_F(PostgresReconnectTest, WhileTheServerIsDownAttemptsBackOffAndCallsInBetweenFailAtOnce) {
  testing::FakeClock clock;
  core::DependencyState state("test", "postgres", clock);
  auto conn = Connection::Connect(server_->address(), {.initial_backoff = milliseconds(1'000),
                                                       .max_backoff = milliseconds(4'000),
                                                       .clock = &clock,
                                                       .state = &state});
  ASSERT_TRUE(conn.ok()) << conn.status();
  Connection& c = **conn;
  server_->Stop();

  ASSERT_EQ(c.Exec("SELECT 1").status().code(), absl::StatusCode::kUnavailable);  // lost
  // The first attempt, at once: refused, then a wait of 1 s.
  absl::Status attempt = c.Exec("SELECT 1").status();
  EXPECT_EQ(attempt.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(attempt.message(), HasSubstr("cannot connect"));
  // Calls during the wait do not try (no "cannot connect" from the server: the wait is named).
  for (int i = 0; i < 1000; ++i) {
    absl::Status s = c.Exec("SELECT 1").status();
    ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable);
    ASSERT_THAT(s.message(), HasSubstr("next attempt in"));
  }
  // Attempts after 1, 2, 4, 4 s of simulated time: each one is made exactly when due.
  for (int wait_ms : {1'000, 2'000, 4'000, 4'000}) {
    clock.Advance(milliseconds(wait_ms - 1));
    EXPECT_THAT(c.Exec("SELECT 1").status().message(), HasSubstr("next attempt in 1 ms"));
    clock.Advance(milliseconds(1));
    EXPECT_THAT(c.Exec("SELECT 1").status().message(), HasSubstr("cannot connect"));
  }
  EXPECT_FALSE(state.up());

  server_->Start();
  clock.Advance(milliseconds(4'000));
  absl::StatusOr<QueryResult> back = c.Exec("SELECT 1");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(state.up());
  EXPECT_EQ(c.reconnects(), 1);
}

TEST_F(PostgresReconnectTest, AnSqlErrorLeavesTheConnectionAsItIs) {
  auto conn = Connection::Connect(server_->address());
  ASSERT_TRUE(conn.ok());
  absl::StatusOr<QueryResult> bad = (*conn)->Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE((*conn)->connected());
  EXPECT_TRUE((*conn)->Exec("SELECT 1").ok());
  EXPECT_EQ((*conn)->reconnects(), 0);
}

}  // namespace
}  // namespace sfbridge::postgres
