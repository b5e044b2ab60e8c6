// The session's pure helpers: which statements reach the write path, and the DO block that
// makes Postgres raise the proxy's errors.
#include "proxy/statement_text.h"

#include <gtest/gtest.h>

namespace sfbridge::proxy {
namespace {

TEST(MayWriteTest, FindsWriteKeywordsInAnyCase) {
  EXPECT_TRUE(MayWrite("INSERT INTO t VALUES (1)"));
  EXPECT_TRUE(MayWrite("with x as (select 1) update t set a = 1"));
  EXPECT_TRUE(MayWrite("DeLeTe from t"));
  EXPECT_TRUE(MayWrite("merge into t using s on true when matched then do nothing"));
  EXPECT_TRUE(MayWrite("copy t from stdin"));
  EXPECT_TRUE(MayWrite("truncate t"));
  EXPECT_TRUE(MayWrite("execute p(1)"));
  EXPECT_FALSE(MayWrite("SELECT abalance FROM pgbench_accounts WHERE aid = 5"));
  EXPECT_FALSE(MayWrite("BEGIN"));
  EXPECT_FALSE(MayWrite(""));
  EXPECT_FALSE(MayWrite("inser"));
}

TEST(RaiseSqlTest, QuotesEveryLiteralAndAvoidsTheDollarTag) {
  PgError e{.sqlstate = "23505",
            .message = "it's a \\ tricky $sfbridge$ message",
            .detail = "d'",
            .column = "name"};
  std::string sql = RaiseSql(e);
  EXPECT_EQ(sql.rfind("DO $sfbridge1$", 0), 0u) << sql;
  EXPECT_NE(sql.find("MESSAGE = E'it''s a \\\\ tricky $sfbridge$ message'"), std::string::npos)
      << sql;
  EXPECT_NE(sql.find("ERRCODE = E'23505'"), std::string::npos);
  EXPECT_NE(sql.find("DETAIL = E'd'''"), std::string::npos);
  EXPECT_NE(sql.find("COLUMN = E'name'"), std::string::npos);
  EXPECT_EQ(sql.find("HINT"), std::string::npos);
}

TEST(RaiseSqlTest, InvalidSqlStateBecomesInternalError) {
  EXPECT_NE(RaiseSql({.sqlstate = "bad"}).find("ERRCODE = E'XX000'"), std::string::npos);
  EXPECT_NE(RaiseSql({.sqlstate = "00000"}).find("ERRCODE = E'XX000'"), std::string::npos);
}

TEST(TransactionControlTest, CommitsRollbacksAndSavepointsByTheirFirstWords) {
  using TC = TransactionControl;
  EXPECT_EQ(ClassifyTransactionControl("COMMIT"), TC::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("  end transaction;"), TC::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("/* a /* nested */ note */ -- and a line\n commit work"),
            TC::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("PREPARE TRANSACTION 'x'"), TC::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("rollback"), TC::kRollback);
  EXPECT_EQ(ClassifyTransactionControl("ABORT"), TC::kRollback);
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK TO SAVEPOINT s"), TC::kRollbackToSavepoint);
  EXPECT_EQ(ClassifyTransactionControl("rollback work to s"), TC::kRollbackToSavepoint);
  EXPECT_EQ(ClassifyTransactionControl("COMMIT PREPARED 'x'"), TC::kNone);
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK PREPARED 'x'"), TC::kNone);
  EXPECT_EQ(ClassifyTransactionControl("PREPARE q AS SELECT 1"), TC::kNone);
  EXPECT_EQ(ClassifyTransactionControl("SELECT 'commit'"), TC::kNone);
  EXPECT_EQ(ClassifyTransactionControl("committed_at"), TC::kNone);
  EXPECT_EQ(ClassifyTransactionControl(""), TC::kNone);
  EXPECT_EQ(ClassifyTransactionControl("/* unterminated"), TC::kNone);
}

}  // namespace
}  // namespace sfbridge::proxy
