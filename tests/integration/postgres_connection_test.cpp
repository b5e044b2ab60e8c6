// The Postgres wrapper against a real server: statements, parameters, transactions, COPY, and
// the statuses that failures turn into.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/core/status.h"
#include "common/postgres/connection.h"
#include "common/postgres/copy_format.h"
#include "tests/harness/test_env.h"

namespace sfbridge::postgres {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::Connect(db_.url());
    ASSERT_TRUE(c.ok()) << c.status();
    conn_ = std::move(*c);
    ASSERT_TRUE(conn_
                    ->Exec("CREATE TABLE contact (id text PRIMARY KEY, name text, "
                           "amount numeric, seen timestamptz)")
                    .ok());
  }
  int64_t Count() {
    auto r = conn_->Exec("SELECT count(*) FROM contact");
    return std::stoll(*r->rows[0][0]);
  }

  testing::TempDatabase db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(PostgresTest, ParametersKeepNullsAndExactNumbers) {
  auto ins =
      conn_->Exec("INSERT INTO contact VALUES ($1, $2, $3, $4)",
                  {"003A", std::nullopt, "12345678901234567890.12345", "2024-01-15T10:20:30.123Z"});
  ASSERT_TRUE(ins.ok()) << ins.status();
  EXPECT_EQ(ins->affected_rows, 1);
  auto r = conn_->Exec(
      "SELECT id, name, amount::text, to_char(seen AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD HH24:MI:SS.MS') AS seen FROM contact WHERE id = $1",
      {"003A"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->columns, (std::vector<std::string>{"id", "name", "amount", "seen"}));
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0][1], std::nullopt);
  EXPECT_EQ(r->rows[0][2], "12345678901234567890.12345");
  EXPECT_EQ(r->rows[0][3], "2024-01-15 10:20:30.123");
}

TEST_F(PostgresTest, TransactionCommitsOnOkAndRollsBackOnError) {
  ASSERT_TRUE(conn_
                  ->InTransaction([](Transaction& tx) {
                    return tx.Exec("INSERT INTO contact (id) VALUES ('a')").status();
                  })
                  .ok());
  absl::Status failed = conn_->InTransaction([](Transaction& tx) -> absl::Status {
    auto s = tx.Exec("INSERT INTO contact (id) VALUES ('b')");
    if (!s.ok()) return s.status();
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Count(), 1);
  // A failing statement inside rolls back the whole transaction, and the connection stays usable.
  absl::Status dup = conn_->InTransaction([](Transaction& tx) -> absl::Status {
    auto s = tx.Exec("INSERT INTO contact (id) VALUES ('c')");
    if (!s.ok()) return s.status();
    return tx.Exec("INSERT INTO contact (id) VALUES ('a')").status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(dup.message()), HasSubstr("SQLSTATE 23505"));
  EXPECT_EQ(Count(), 1);
}

TEST_F(PostgresTest, ATransactionBegunByItsFirstStatementIsStillOneTransaction) {
  // BEGIN rides on the first simple query; the body's statements commit together.
  auto in_tx = [](Transaction& tx) -> absl::StatusOr<std::string> {
    auto r = tx.Exec("SELECT (now() = statement_timestamp())::text");
    if (!r.ok()) return r.status();
    return *r->rows[0][0];
  };
  std::string later;
  ASSERT_TRUE(conn_
                  ->InTransactionBegunByFirstStatement([&](Transaction& tx) -> absl::Status {
                    auto r = tx.Exec("INSERT INTO contact (id) VALUES ('a'); SELECT 1");
                    if (!r.ok()) return r.status();
                    auto p = tx.Exec("INSERT INTO contact (id) VALUES ($1)", {"b"});
                    if (!p.ok()) return p.status();
                    auto later_r = in_tx(tx);  // inside a block, now() is the block's start
                    if (!later_r.ok()) return later_r.status();
                    later = *later_r;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(later, "false");
  EXPECT_EQ(Count(), 2);
  // A first statement with parameters sends BEGIN on its own: still one transaction.
  absl::Status aborted = conn_->InTransactionBegunByFirstStatement([](Transaction& tx) {
    auto p = tx.Exec("INSERT INTO contact (id) VALUES ($1)", {"c"});
    if (!p.ok()) return p.status();
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(aborted.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Count(), 2);
  // A failing statement (in the first simple query, after BEGIN) rolls everything back, and
  // the connection is usable and outside any transaction afterwards.
  absl::Status dup = conn_->InTransactionBegunByFirstStatement([](Transaction& tx) {
    return tx.Exec("INSERT INTO contact (id) VALUES ('d'); INSERT INTO contact (id) VALUES ('a')")
        .status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count(), 2);
  // COPY as the first statement.
  ASSERT_TRUE(conn_
                  ->InTransactionBegunByFirstStatement(
                      [](Transaction& tx) { return tx.CopyIn("contact", {"id"}, "e\n"); })
                  .ok());
  EXPECT_EQ(Count(), 3);
  // A body that fails its own way after a statement failed inside still rolls back.
  absl::Status swallowed = conn_->InTransactionBegunByFirstStatement([](Transaction& tx) {
    tx.Exec("INSERT INTO contact (id) VALUES ('f')").IgnoreError();
    tx.Exec("INSERT INTO contact (id) VALUES ('a')").IgnoreError();
    return absl::OkStatus();  // wrongly: COMMIT then says ROLLBACK
  });
  EXPECT_EQ(swallowed.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Count(), 3);
  auto outside = conn_->Exec("SELECT (now() = statement_timestamp())::text");
  ASSERT_TRUE(outside.ok()) << outside.status();
  EXPECT_EQ(*outside->rows[0][0], "true");
}

TEST_F(PostgresTest, CopyInRoundTripsAwkwardValuesExactly) {
  std::vector<std::vector<Value>> rows;
  for (int i = 0; i < 20000; ++i) {
    std::string name;
    switch (i % 5) {
      case 0:
        name = "tab\tand\nnewline";
        break;
      case 1:
        name = "back\\slash \\N not null";
        break;
      case 2:
        name = "ünïcødé ✓";
        break;
      case 3:
        name = "";
        break;
      default:
        name = "plain " + std::to_string(i);
    }
    Value maybe_name = i % 7 == 0 ? std::nullopt : Value(name);
    rows.push_back({"id" + std::to_string(i), maybe_name, std::to_string(i) + ".50", std::nullopt});
  }
  std::string data;
  for (const auto& row : rows) AppendCopyRow(data, row);
  ASSERT_GT(data.size(), 64u * 1024) << "must span many chunks";
  absl::Status copied = conn_->InTransaction([&](Transaction& tx) {
    return tx.CopyIn("contact", {"id", "name", "amount", "seen"}, data);
  });
  ASSERT_TRUE(copied.ok()) << copied;
  auto back = conn_->Exec(
      "SELECT id, name, amount::text, seen FROM contact "
      "ORDER BY substr(id, 3)::int");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->rows.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(back->rows[i], rows[i]) << "row " << i;
  }
}

TEST_F(PostgresTest, CopyOfBadDataFailsAndLeavesNothing) {
  std::string data;
  AppendCopyRow(data, {"x1", "n", "1", std::nullopt});
  AppendCopyRow(data, {"x2", "n", "not a number", std::nullopt});
  absl::Status s = conn_->InTransaction([&](Transaction& tx) {
    return tx.CopyIn("contact", {"id", "name", "amount", "seen"}, data);
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("22P02"));
  EXPECT_EQ(Count(), 0);
  EXPECT_EQ(conn_
                ->InTransaction([](Transaction& tx) {
                  return tx.CopyIn("contact", {"id"}, "no newline at end");
                })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PostgresTest, BadSqlIsInvalidArgumentWithServerMessage) {
  auto r = conn_->Exec("SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("syntax error"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("SQLSTATE 42601"));
  auto missing = conn_->Exec("SELECT * FROM no_such_table");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(conn_->Exec("SELECT 1").ok()) << "connection must stay usable";
}

TEST_F(PostgresTest, QuoteNameQuotesOnlyWhatNeedsIt) {
  ASSERT_TRUE(conn_
                  ->InTransaction([](Transaction& tx) {
                    EXPECT_EQ(tx.QuoteName("Weird \"Name\""), "\"Weird \"\"Name\"\"\"");
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST(PostgresConnectTest, UnreachableServerIsRetryableAndHidesThePassword) {
  auto c = Connection::Connect("postgresql://app:hunter2@127.0.0.1:1/x?connect_timeout=2");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(core::IsRetryable(c.status()));
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr("hunter2")));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("app:***@127.0.0.1:1"));
}

TEST(PostgresConnectTest, UnknownDatabaseIsAPermanentError) {
  std::string url = testing::PostgresServerUrl();
  url = url.substr(0, url.rfind('/') + 1) + "no_such_db_" + testing::UniqueName("x");
  auto c = Connection::Connect(url);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("does not exist"));
}

}  // namespace
}  // namespace sfbridge::postgres

namespace sfbridge::postgres {
namespace {

TEST_F(PostgresTest, PermissionDeniedKeepsItsSqlState) {
  const std::string role = testing::UniqueName("reader");
  ASSERT_TRUE(conn_->Exec("CREATE ROLE " + role + " NOLOGIN").ok());
  absl::Status denied = conn_->InTransaction([&](Transaction& tx) -> absl::Status {
    if (auto s = tx.Exec("SET LOCAL ROLE " + role); !s.ok()) return s.status();
    return tx.Exec("INSERT INTO contact (id) VALUES ('x')").status();
  });
  (void)conn_->Exec("DROP ROLE " + role);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << denied;
  EXPECT_THAT(std::string(denied.message()), HasSubstr("SQLSTATE 42501"));
}

}  // namespace
}  // namespace sfbridge::postgres
