#pragma once

// A throwaway database with the control plane migrated and one org, for the control tests.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/control/migrations.h"
#include "common/control/org_settings.h"
#include "common/postgres/connection.h"
#include "tests/harness/test_env.h"

namespace sfbridge::control {

class ControlTest : public ::testing::Test {
 protected:
  static constexpr const char* kOrg = "00D000000000001AAA";

  void SetUp() override {
    conn_ = Connect();
    ASSERT_TRUE(conn_);
    absl::Status migrated = Migrate(*conn_);
    ASSERT_TRUE(migrated.ok()) << migrated;
    OrgSettings org;
    org.org_id = kOrg;
    org.display_name = "Test org";
    absl::Status s = UpsertOrg(*conn_, org);
    ASSERT_TRUE(s.ok()) << s;
  }

  // Another connection to the same database (one per thread).
  std::unique_ptr<postgres::Connection> Connect() {
    auto c = postgres::Connection::Connect(db_.url());
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  // Changes settings of the test org, the way an operator would: plain SQL.
  void Set(const std::string& assignments) {
    auto r = conn_->Exec("UPDATE sfbridge.orgs SET " + assignments + " WHERE org_id = $1", {kOrg});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->affected_rows, 1);
  }

  std::string Scalar(const std::string& sql, const postgres::Params& params = {}) {
    auto r = conn_->Exec(sql, params);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return "<null>";
    return *r->rows[0][0];
  }

  testing::TempDatabase db_;
  std::unique_ptr<postgres::Connection> conn_;
};

}  // namespace sfbridge::control
