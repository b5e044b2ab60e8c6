// Migrations against a real PostgreSQL: applied once, safe when several processes start at once.

#include "common/control/migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/harness/test_env.h"

namespace sfbridge::control {
namespace {

using ::testing::HasSubstr;

class MigrationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<postgres::Connection> Connect() {
    auto c = postgres::Connection::Connect(db_.url());
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }
  std::string Scalar(postgres::Connection& conn, const std::string& sql) {
    auto r = conn.Exec(sql);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->rows[0][0] ? *r->rows[0][0] : "<null>";
  }

  testing::TempDatabase db_;
};

TEST_F(MigrationsTest, AppliesEveryVersionOnceAndASecondCallDoesNothing) {
  auto conn = Connect();
  EXPECT_EQ(*SchemaVersion(*conn), 0);
  ASSERT_TRUE(Migrate(*conn).ok());
  const int latest = Migrations().back().version;
  EXPECT_EQ(*SchemaVersion(*conn), latest);
  EXPECT_EQ(Scalar(*conn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'sfbridge'"), "10")
      << "schema_migrations + orgs, objects, rate_buckets, leases, replicas, events, "
         "consumer_offsets, field_mappings, bulk_jobs";
  const std::string applied =
      Scalar(*conn,
             "SELECT string_agg(version || ' ' || name || ' ' || applied_at, ',') "
             "FROM sfbridge.schema_migrations");

  absl::Status again = Migrate(*conn);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(Scalar(*conn,
                   "SELECT string_agg(version || ' ' || name || ' ' || applied_at, ',') "
                   "FROM sfbridge.schema_migrations"),
            applied);
}

TEST_F(MigrationsTest, ConcurrentMigrationsAllSucceedAndApplyOnce) {
  constexpr int kProcesses = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&] {
      auto conn = Connect();
      absl::Status s = conn ? Migrate(*conn) : absl::UnavailableError("no connection");
      if (!s.ok()) {
        ++failures;
        ADD_FAILURE() << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto conn = Connect();
  EXPECT_EQ(Scalar(*conn, "SELECT count(*) FROM sfbridge.schema_migrations"),
            std::to_string(Migrations().size()));
}

TEST_F(MigrationsTest, TheControlPlaneHasTheDocumentedDefaultsAndChecks) {
  auto conn = Connect();
  ASSERT_TRUE(Migrate(*conn).ok());
  ASSERT_TRUE(conn->Exec("INSERT INTO sfbridge.orgs (org_id) VALUES ('o')").ok());
  EXPECT_EQ(Scalar(*conn,
                   "SELECT format('%s %s %s %s %s %s', round(rate_per_second * 3, 6), "
                   "burst, daily_quota_share, priority_reserve, state, objects IS NULL) "
                   "FROM sfbridge.orgs"),
            "1.000000 5 0.5 1 ok t");
  ASSERT_TRUE(
      conn->Exec("INSERT INTO sfbridge.objects (org_id, object_name) VALUES ('o', 'A')").ok());
  EXPECT_EQ(Scalar(*conn, "SELECT state FROM sfbridge.objects"), "pending");
  auto bad = conn->Exec("UPDATE sfbridge.objects SET state = 'sleeping'");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("23514"));
  auto orphan =
      conn->Exec("INSERT INTO sfbridge.objects (org_id, object_name) VALUES ('nobody', 'A')");
  EXPECT_THAT(std::string(orphan.status().message()), HasSubstr("23503"));
  // Deleting an org takes its state with it.
  ASSERT_TRUE(conn->Exec("DELETE FROM sfbridge.orgs").ok());
  EXPECT_EQ(Scalar(*conn, "SELECT count(*) FROM sfbridge.objects"), "0");
}

TEST_F(MigrationsTest, AFailingVersionIsRolledBackAndReported) {
  auto conn = Connect();
  // Something in the way of version 1: its transaction fails and leaves nothing behind.
  ASSERT_TRUE(conn->Exec("CREATE SCHEMA sfbridge; CREATE TABLE sfbridge.orgs (x int)").ok());
  absl::Status s = Migrate(*conn);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("version 1"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("already exists"));
  EXPECT_EQ(*SchemaVersion(*conn), 0);
  EXPECT_EQ(Scalar(*conn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'sfbridge'"), "2");
}

}  // namespace
}  // namespace sfbridge::control
