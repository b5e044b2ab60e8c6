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

}  // namespace
}  // namespace sfbridge::proxy
