// What makes a write through the proxy trustworthy for applications and their ORMs, against a
// real PostgreSQL, an in-process sfsim and the writer's gRPC service: everything that can be
// checked is checked before Salesforce is called (an error then means nothing changed anywhere),
// RETURNING means what PostgreSQL means, columns Salesforce sets may be sent as NULL or
// DEFAULT, and the first write after the proxy's pooled connections went stale succeeds.

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "tests/integration/proxy/writes/write_path_fixture.h"

namespace sfbridge::proxy::testing {
namespace {

using Kind = StatementPlan::Kind;

class WriteSemanticsTest : public ::testing::Test, public WritePathFixture {
 protected:
  void SetUp() override { Start({"User", "Account", "Invoice__c"}); }
  void TearDown() override { Stop(); }

  int64_t SalesforceCalls() { return sim_->limits().used(); }
  std::string Invoices() { return Scalar("SELECT count(*) FROM salesforce.invoice__c"); }

  std::string InsertInvoice(const std::string& amount, const std::string& status = "Sent") {
    Result r = Exec("INSERT INTO invoice__c (amount__c, status__c) VALUES ($1, $2) RETURNING id",
                    TextParams({amount, status}));
    EXPECT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
    EXPECT_EQ(r.returning.size(), 1u);
    return r.returning.empty() ? "" : r.returning[0][0].value_or("");
  }

  // `sql` fails with `sqlstate` before Salesforce is called: no call, nothing in the org or the
  // table changed.
  void ExpectRefusedBeforeSalesforce(const std::string& sql, const BoundParams& params,
                                     const std::string& sqlstate, const std::string& says) {
    const int64_t calls = SalesforceCalls();
    const size_t records = sim_->org().Count("Invoice__c", false);
    const std::string rows = Scalar(
        "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '') "
        "FROM salesforce.invoice__c t");
    Result r = Exec(sql, params);
    ASSERT_EQ(r.plan, Kind::kMutation) << sql;
    ASSERT_TRUE(r.outcome.error.has_value()) << sql << " -> " << r.outcome.command_tag;
    EXPECT_EQ(r.outcome.error->sqlstate, sqlstate) << sql << ": " << r.outcome.error->message;
    EXPECT_TRUE(absl::StrContains(r.outcome.error->message, says))
        << sql << ": " << r.outcome.error->message;
    EXPECT_EQ(SalesforceCalls(), calls) << sql;
    EXPECT_EQ(sim_->org().Count("Invoice__c", false), records) << sql;
    EXPECT_EQ(Scalar("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY "
                     "id)), '') FROM salesforce.invoice__c t"),
              rows)
        << sql;
    // The client's transaction goes on (the proxy raises the error on it; here nothing did).
    EXPECT_EQ(querier_->Scalar("SELECT 1"), "1");
  }
};

TEST_F(WriteSemanticsTest, AnOrmsInsertOfEveryColumnWithSchemaQualifiedReturning) {
  // SQLAlchemy 2, a model with schema='salesforce' mapping every column: NULL for what it does
  // not know, RETURNING qualified by schema and table.
  Result r = Exec(
      "INSERT INTO salesforce.invoice__c (id, name, amount__c, status__c, system_modstamp, "
      "created_date, created_by_id, last_modified_date, is_deleted, _synced_at, _modstamp_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
      "RETURNING salesforce.invoice__c.id, salesforce.invoice__c.name, invoice__c.amount__c, "
      "salesforce.invoice__c.system_modstamp IS NOT NULL, _synced_at IS NOT NULL",
      TextParams({std::nullopt, std::nullopt, "40.10", "Sent", std::nullopt, std::nullopt,
                  std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  ASSERT_EQ(r.plan, Kind::kMutation);
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  EXPECT_EQ(r.outcome.command_tag, "INSERT 0 1");
  ASSERT_TRUE(r.returning_status.ok()) << r.returning_status;
  ASSERT_EQ(r.returning.size(), 1u);
  const std::string id = r.returning[0][0].value_or("");
  ASSERT_EQ(id.size(), 18u);
  sfsim::org::RecordPtr record = sim_->org().Get(id);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(r.returning[0][1],
            Scalar("SELECT name FROM salesforce.invoice__c WHERE id = $1", {id}));
  EXPECT_TRUE(r.returning[0][1].has_value());  // the auto number Salesforce gave
  EXPECT_EQ(r.returning[0][2], "40.10");
  EXPECT_EQ(r.returning[0][3], "t");
  EXPECT_EQ(r.returning[0][4], "t");

  // `*` and `t.*` with the alias, as PostgreSQL takes them.
  r = Exec(
      "UPDATE salesforce.invoice__c AS t SET status__c = 'Paid' WHERE t.id = $1 "
      "RETURNING t.*, *",
      TextParams({id}));
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  ASSERT_TRUE(r.returning_status.ok()) << r.returning_status;
  ASSERT_EQ(r.returning.size(), 1u);
  EXPECT_EQ(r.returning[0][0], id);
}

TEST_F(WriteSemanticsTest, DefaultLeavesServerSetColumnsAndDefaultsToSalesforce) {
  // Django's db_default sends DEFAULT for the id it reads back with RETURNING.
  Result r = Exec(
      "INSERT INTO invoice__c (id, amount__c, status__c, _synced_at) VALUES "
      "(DEFAULT, 5, DEFAULT, DEFAULT), (DEFAULT, 6, DEFAULT, NULL) RETURNING id, status__c");
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  EXPECT_EQ(r.outcome.command_tag, "INSERT 0 2");
  ASSERT_EQ(r.returning.size(), 2u);
  for (const auto& row : r.returning) {
    ASSERT_NE(sim_->org().Get(row[0].value_or("")), nullptr);
    EXPECT_EQ(row[1], "Draft");  // the picklist's default in Salesforce
  }
}

TEST_F(WriteSemanticsTest, AnUpdateMayRepeatWhatSalesforceSetButNotChangeIt) {
  const std::string id = InsertInvoice("10");
  const int64_t stamp = sim_->org().Get(id)->system_modstamp_ms;
  // Django's save(): every column, the read-only ones with the values it loaded (or NULL).
  Result r = Exec(
      "UPDATE invoice__c SET amount__c = 11, name = $2, system_modstamp = $3, created_date = NULL, "
      "_synced_at = DEFAULT WHERE id = $1",
      TextParams(
          {id, Scalar("SELECT name FROM salesforce.invoice__c WHERE id = $1", {id}),
           Scalar("SELECT system_modstamp::text FROM salesforce.invoice__c WHERE id = $1", {id})}));
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  EXPECT_EQ(r.outcome.command_tag, "UPDATE 1");
  EXPECT_GT(sim_->org().Get(id)->system_modstamp_ms, stamp);  // Salesforce has it
  EXPECT_EQ(Scalar("SELECT amount__c::text FROM salesforce.invoice__c WHERE id = $1", {id}), "11");

  ExpectRefusedBeforeSalesforce(
      "UPDATE invoice__c SET amount__c = 12, name = 'INV-other' WHERE id = $1", TextParams({id}),
      "428C9", "cannot be written");
  ExpectRefusedBeforeSalesforce(
      "INSERT INTO invoice__c (amount__c, created_date) VALUES (1, now())", {}, "428C9",
      "system field");
  ExpectRefusedBeforeSalesforce(
      "INSERT INTO invoice__c (id, amount__c) VALUES ('a00000000000001AAA', 1)", {}, "428C9",
      "Salesforce assigns the record Id");
}

TEST_F(WriteSemanticsTest, ReturningIsCheckedBeforeSalesforceIsCalled) {
  const std::string id = InsertInvoice("12.50");
  ExpectRefusedBeforeSalesforce(
      "UPDATE invoice__c SET status__c = 'Paid' WHERE id = $1 "
      "RETURNING no_such_column",
      TextParams({id}), "42703", "no_such_column");
  ExpectRefusedBeforeSalesforce(
      "INSERT INTO invoice__c (amount__c) VALUES (1) RETURNING "
      "public.invoice__c.id",
      {}, "42P01", "invoice__c");
  ExpectRefusedBeforeSalesforce(
      "INSERT INTO invoice__c (amount__c) VALUES (1) RETURNING amount__c::int + 'x'", {}, "22P02",
      "");
  // Failing on the values the write would leave: the new amount, and the current row.
  ExpectRefusedBeforeSalesforce(
      "UPDATE invoice__c SET amount__c = 0 WHERE id = $1 RETURNING "
      "1 / amount__c",
      TextParams({id}), "22012", "division by zero");
  ExpectRefusedBeforeSalesforce(
      "UPDATE invoice__c SET notes__c = 'n' WHERE id = $1 RETURNING "
      "1 / (amount__c - 12.5)",
      TextParams({id}), "22012", "division by zero");
  ExpectRefusedBeforeSalesforce(
      "DELETE FROM invoice__c WHERE id = $1 RETURNING 1 / (amount__c - 12.5)", TextParams({id}),
      "22012", "division by zero");
  ExpectRefusedBeforeSalesforce(
      "INSERT INTO invoice__c (amount__c) VALUES ($1) RETURNING "
      "$2::int",
      TextParams({"1", "x"}), "22P02", "");
}

TEST_F(WriteSemanticsTest, TheFirstWriteAfterTheProxysConnectionsWentStaleSucceeds) {
  InsertInvoice("1");  // the budget's and the catalog's connections are pooled now
  // What a PostgreSQL restart does to them: every other backend of the database ends.
  ASSERT_EQ(querier_->Scalar("SELECT count(*) > 0 FROM (SELECT pg_terminate_backend(pid) FROM "
                             "pg_stat_activity WHERE datname = current_database() AND pid <> "
                             "pg_backend_pid()) t"),
            "t");
  conn_.reset();  // the fixture's own was one of them
  auto conn = postgres::Connection::Connect(db_.url());
  ASSERT_TRUE(conn.ok()) << conn.status();
  conn_ = *std::move(conn);
  Result r = Exec("UPDATE invoice__c SET status__c = 'Paid' WHERE amount__c = 1");
  ASSERT_FALSE(r.outcome.error.has_value())
      << r.outcome.error->sqlstate << " " << r.outcome.error->message;
  EXPECT_EQ(r.outcome.command_tag, "UPDATE 1");
}

TEST_F(WriteSemanticsTest, WithoutItsBudgetTheProxySaysItIsItsOwnFailureAndSendsNothing) {
  const std::string id = InsertInvoice("3");
  // The org's budget cannot be read: the proxy's own database failing, not Salesforce.
  ASSERT_EQ(Scalar("ALTER TABLE sfbridge.rate_buckets RENAME TO rate_buckets_away"), "<none>");
  const int64_t calls = SalesforceCalls();
  Result r = Exec("UPDATE invoice__c SET status__c = 'Paid' WHERE id = $1", TextParams({id}));
  ASSERT_EQ(Scalar("ALTER TABLE sfbridge.rate_buckets_away RENAME TO rate_buckets"), "<none>");
  ASSERT_TRUE(r.outcome.error.has_value());
  EXPECT_EQ(r.outcome.error->sqlstate, "57P03") << r.outcome.error->message;
  EXPECT_TRUE(absl::StrContains(r.outcome.error->message, "control-plane database"))
      << r.outcome.error->message;
  EXPECT_EQ(r.outcome.error->detail, "Nothing was sent to Salesforce; nothing was changed.");
  EXPECT_EQ(SalesforceCalls(), calls);
  EXPECT_EQ(Scalar("SELECT status__c FROM salesforce.invoice__c WHERE id = $1", {id}), "Sent");
  // And once it is back, the same write goes through.
  r = Exec("UPDATE invoice__c SET status__c = 'Paid' WHERE id = $1", TextParams({id}));
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
}

TEST_F(WriteSemanticsTest, InsertOnConflictOfAnExternalIdIsAnUpsertSafeToRepeat) {
  const std::string sql =
      "INSERT INTO salesforce.invoice__c (id, external_id__c, amount__c, status__c) VALUES "
      "(NULL, $1, $2, 'Sent') ON CONFLICT (external_id__c) DO UPDATE SET amount__c = "
      "EXCLUDED.amount__c, status__c = EXCLUDED.status__c RETURNING id, amount__c";
  const size_t before = sim_->org().Count("Invoice__c", false);
  Result first = Exec(sql, TextParams({"EXT-1", "10.00"}));
  ASSERT_FALSE(first.outcome.error.has_value()) << first.outcome.error->message;
  EXPECT_EQ(first.outcome.command_tag, "INSERT 0 1");
  ASSERT_EQ(first.returning.size(), 1u);
  const std::string id = first.returning[0][0].value_or("");
  EXPECT_EQ(first.returning[0][1], "10.00");
  // The client's retry, and a later change: the same record, updated.
  Result again = Exec(sql, TextParams({"EXT-1", "11.00"}));
  ASSERT_FALSE(again.outcome.error.has_value()) << again.outcome.error->message;
  EXPECT_EQ(again.outcome.command_tag, "INSERT 0 1");
  ASSERT_EQ(again.returning.size(), 1u);
  EXPECT_EQ(again.returning[0][0], id);
  EXPECT_EQ(again.returning[0][1], "11.00");
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), before + 1);
  EXPECT_EQ(Scalar("SELECT count(*) || ':' || max(amount__c)::text FROM salesforce.invoice__c "
                   "WHERE external_id__c = 'EXT-1'"),
            "1:11.00");

  // DO NOTHING: only the records not there yet.
  Result nothing = Exec(
      "INSERT INTO invoice__c (external_id__c, amount__c) VALUES ('EXT-1', 99), ('EXT-2', 5) "
      "ON CONFLICT (external_id__c) DO NOTHING RETURNING external_id__c, amount__c");
  ASSERT_FALSE(nothing.outcome.error.has_value()) << nothing.outcome.error->message;
  EXPECT_EQ(nothing.outcome.command_tag, "INSERT 0 1");
  ASSERT_EQ(nothing.returning.size(), 1u);
  EXPECT_EQ(nothing.returning[0][0], "EXT-2");
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), before + 2);
  EXPECT_EQ(Scalar("SELECT amount__c::text FROM salesforce.invoice__c WHERE external_id__c = "
                   "'EXT-1'"),
            "11.00");

  // Not an external id, or a partial SET list: refused before Salesforce.
  ExpectRefusedBeforeSalesforce(
      "INSERT INTO invoice__c (notes__c, amount__c) VALUES ('n', 1) ON CONFLICT (notes__c) DO "
      "NOTHING",
      {}, "42P10", "external-id field");
  ExpectRefusedBeforeSalesforce(
      "INSERT INTO invoice__c (external_id__c, amount__c, status__c) VALUES ('EXT-3', 1, 'Sent') "
      "ON CONFLICT (external_id__c) DO UPDATE SET amount__c = EXCLUDED.amount__c",
      {}, "0A000", "every other inserted column");
}

}  // namespace
}  // namespace sfbridge::proxy::testing
