// The statements and portals a session recognises, fed the client's Parse, Bind, Close and
// Execute messages as libpq sends them: no servers.
#include "proxy/prepared_statements.h"

#include <gtest/gtest.h>

#include "proxy/pg_wire.h"

namespace sfbridge::proxy {
namespace {

struct PlannedWrite : Mutation {};

// Plans statements naming table "synced" as mutations and "refused" as refusals; counts calls.
class PreparedStatementsTest : public ::testing::Test {
 protected:
  PreparedStatements registry_{[this](std::string_view sql) {
    ++plans_;
    StatementPlan plan;
    if (sql.find("refused") != std::string_view::npos) {
      plan.kind = StatementPlan::Kind::kRefused;
      plan.error.sqlstate = "0A000";
    } else if (sql.find("synced") != std::string_view::npos) {
      plan.kind = StatementPlan::Kind::kMutation;
      plan.mutation = std::make_shared<PlannedWrite>();
    }
    return plan;
  }};
  int plans_ = 0;

  static std::string Body(const std::string& message) { return message.substr(5); }
  void Parse(std::string_view name, std::string_view sql, std::vector<uint32_t> types = {}) {
    std::string m;
    wire::AppendParse(&m, name, sql, types);
    registry_.OnParse(Body(m));
  }
  void Bind(std::string_view portal, std::string_view statement,
            std::vector<std::optional<std::string>> values = {},
            std::vector<int16_t> formats = {}) {
    BoundParams params;
    params.values = std::move(values);
    params.formats = std::move(formats);
    std::string m;
    wire::AppendBind(&m, portal, statement, params, {1});
    registry_.OnBind(Body(m));
  }
  void Close(char kind, std::string_view name) {
    std::string m;
    wire::AppendClose(&m, kind, name);
    registry_.OnClose(Body(m));
  }
  PreparedStatements::Executed Execute(std::string_view portal, bool tx = true) {
    std::string m;
    wire::AppendExecute(&m, portal, 0);
    return registry_.OnExecute(Body(m), tx);
  }
};

TEST_F(PreparedStatementsTest, AMutationsPortalCarriesItsParametersAndResultFormats) {
  Parse("ins", "INSERT INTO synced VALUES ($1, $2)", {23});
  Bind("p", "ins", {"7", std::nullopt}, {0});
  PreparedStatements::Executed e = Execute("p");
  ASSERT_NE(e.mutation, nullptr);
  EXPECT_EQ(e.mutation->statement->plan.kind, StatementPlan::Kind::kMutation);
  EXPECT_EQ(e.mutation->params.values,
            (std::vector<std::optional<std::string>>{"7", std::nullopt}));
  EXPECT_EQ(e.mutation->params.formats, (std::vector<int16_t>{0, 0}));
  // The Parse named one type; the other is left for Postgres to infer.
  EXPECT_EQ(e.mutation->params.type_oids, (std::vector<uint32_t>{23, 0}));
  EXPECT_EQ(e.mutation->result_formats, std::vector<int16_t>{1});
}

TEST_F(PreparedStatementsTest, ReadsAreNeitherPlannedNorTracked) {
  Parse("", "SELECT * FROM synced");
  Bind("", "");
  EXPECT_EQ(plans_, 0);
  EXPECT_EQ(registry_.statements(), 0u);
  EXPECT_EQ(Execute("").mutation, nullptr);
}

TEST_F(PreparedStatementsTest, RefusalsAreTrackedAndPassThroughWritesAreNot) {
  Parse("r", "DELETE FROM refused");
  Parse("w", "UPDATE plain SET a = 1");
  EXPECT_EQ(plans_, 2);
  Bind("pr", "r");
  Bind("pw", "w");
  ASSERT_NE(Execute("pr").mutation, nullptr);
  EXPECT_EQ(Execute("pr").mutation->statement->plan.kind, StatementPlan::Kind::kRefused);
  EXPECT_EQ(Execute("pw").mutation, nullptr);
}

TEST_F(PreparedStatementsTest, ReparsingANameReplacesItsPlan) {
  Parse("s", "INSERT INTO synced VALUES (1)");
  Parse("s", "SELECT 1");
  Bind("p", "s");
  EXPECT_EQ(Execute("p").mutation, nullptr);
  EXPECT_EQ(registry_.statements(), 0u);
}

TEST_F(PreparedStatementsTest, ClosingAStatementClosesItsPortals) {
  Parse("a", "INSERT INTO synced VALUES (1)");
  Parse("b", "INSERT INTO synced VALUES (2)");
  Bind("pa", "a");
  Bind("pb", "b");
  Close(wire::kStatement, "a");
  EXPECT_EQ(Execute("pa").mutation, nullptr);
  EXPECT_NE(Execute("pb").mutation, nullptr);
  Close(wire::kPortal, "pb");
  EXPECT_EQ(Execute("pb").mutation, nullptr);
  Bind("pb", "b");  // the statement is still there
  EXPECT_NE(Execute("pb").mutation, nullptr);
}

TEST_F(PreparedStatementsTest, ASimpleQueryDropsOnlyTheUnnamedStatementAndPortal) {
  Parse("", "INSERT INTO synced VALUES (1)");
  Parse("named", "INSERT INTO synced VALUES (2)");
  Bind("", "");
  Bind("p", "named");
  registry_.OnQuery();
  EXPECT_EQ(Execute("").mutation, nullptr);
  EXPECT_NE(Execute("p").mutation, nullptr);
  EXPECT_EQ(registry_.statements(), 1u);
}

TEST_F(PreparedStatementsTest, PortalsEndWithTheTransactionAndStatementsStay) {
  Parse("s", "INSERT INTO synced VALUES (1)");
  Bind("p", "s");
  registry_.OnTransactionEnd();
  EXPECT_EQ(Execute("p").mutation, nullptr);
  EXPECT_EQ(registry_.portals(), 0u);
  EXPECT_EQ(registry_.statements(), 1u);
}

TEST_F(PreparedStatementsTest, ABindWithABadFormatCountLeavesNoPortal) {
  Parse("s", "INSERT INTO synced VALUES ($1)");
  Bind("p", "s", {"1"});
  Bind("p", "s", {"1", "2", "3"}, {0, 1});  // 2 formats for 3 values: Postgres rejects it
  EXPECT_EQ(Execute("p").mutation, nullptr);
}

TEST_F(PreparedStatementsTest, TransactionControlIsFoundOnlyWhenAskedFor) {
  Parse("c", "COMMIT");
  Parse("r", "rollback to savepoint s1");
  Bind("pc", "c");
  Bind("pr", "r");
  ASSERT_NE(Execute("pc").transaction_control, nullptr);
  EXPECT_EQ(*Execute("pc").transaction_control, "COMMIT");
  EXPECT_EQ(*Execute("pr").transaction_control, "rollback to savepoint s1");
  EXPECT_EQ(Execute("pc", /*tx=*/false).transaction_control, nullptr);
  EXPECT_EQ(Execute("pc").mutation, nullptr);
  Close(wire::kPortal, "pc");
  EXPECT_EQ(Execute("pc").transaction_control, nullptr);
  Parse("r", "SELECT 1");  // the name now means something else
  Bind("pr", "r");
  EXPECT_EQ(Execute("pr").transaction_control, nullptr);
}

TEST_F(PreparedStatementsTest, MalformedMessagesChangeNothing) {
  Parse("s", "INSERT INTO synced VALUES (1)");
  Bind("p", "s");
  registry_.OnParse("\x01");
  registry_.OnBind("p");
  registry_.OnClose("");
  EXPECT_NE(Execute("p").mutation, nullptr);
  EXPECT_EQ(registry_.OnExecute("", true).mutation, nullptr);
}

}  // namespace
}  // namespace sfbridge::proxy
