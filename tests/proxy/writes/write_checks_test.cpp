// Which columns of a write go to Salesforce, which Salesforce sets (accepted only as NULL,
// DEFAULT or, on UPDATE, the current value), and upserts.

#include "proxy/writes/write_checks.h"

#include <gtest/gtest.h>

#include "proxy/writes/statement_analysis.h"
#include "tests/proxy/writes/invoice_table.h"

namespace sfbridge::proxy::writes {
namespace {

using testing::Invoice;

bool Synced(std::string_view, std::string_view relation) { return relation == "invoice__c"; }

std::shared_ptr<const AnalyzedWrite> Write(const std::string& sql) {
  Analysis a = Analyze(sql, Synced);
  EXPECT_EQ(a.kind, Analysis::Kind::kWrite) << sql << " -> " << a.error.message;
  return a.write;
}

std::optional<PgError> Plan(const std::string& sql, ColumnPlan* plan) {
  auto w = Write(sql);
  if (w == nullptr) return PgError{.sqlstate = "none"};
  return PlanColumns(*w, Invoice(), plan);
}

using Row = std::vector<std::optional<std::string>>;

ServerQuerier::Rows RowsOf(std::vector<Row> rows) {
  ServerQuerier::Rows r;
  r.rows = std::move(rows);
  return r;
}

TEST(WriteChecksTest, ColumnsSalesforceSetsAreServerSetWithTheReason) {
  ColumnPlan plan;
  ASSERT_FALSE(
      Plan("INSERT INTO invoice__c (id, status__c, name, total__c, code__c, "
           "system_modstamp, _synced_at, _modstamp_ms) VALUES (NULL, 'a', NULL, NULL, "
           "'c', NULL, NULL, NULL)",
           &plan));
  using R = ColumnRole;
  EXPECT_EQ(plan.roles, (std::vector<R>{R::kServerSet, R::kSent, R::kServerSet, R::kServerSet,
                                        R::kSent, R::kServerSet, R::kServerSet, R::kServerSet}));
  EXPECT_NE(plan.why[0].find("Salesforce assigns the record Id"), std::string::npos);
  EXPECT_NE(plan.why[2].find("not createable"), std::string::npos);
  EXPECT_NE(plan.why[3].find("formula field"), std::string::npos);
  EXPECT_NE(plan.why[5].find("system field"), std::string::npos);
  EXPECT_NE(plan.why[6].find("kept by sfbridge"), std::string::npos);
  EXPECT_FALSE(plan.SendsAll());

  // On UPDATE createable-only is server-set, and the writable ones are sent.
  ASSERT_FALSE(Plan("UPDATE invoice__c SET code__c = 'x', legacy__c = 'y'", &plan));
  EXPECT_EQ(plan.roles, (std::vector<R>{R::kServerSet, R::kSent}));
  EXPECT_NE(plan.why[0].find("not updateable"), std::string::npos);
  ASSERT_FALSE(Plan("UPDATE invoice__c SET status__c = 'x', legacy__c = $1", &plan));
  EXPECT_TRUE(plan.SendsAll());
}

TEST(WriteChecksTest, DefaultLeavesAColumnToSalesforceOnlyWhenEveryRowSaysIt) {
  ColumnPlan plan;
  ASSERT_FALSE(
      Plan("INSERT INTO invoice__c (status__c, code__c, id) VALUES "
           "('a', DEFAULT, DEFAULT), ('b', DEFAULT, NULL)",
           &plan));
  EXPECT_EQ(plan.roles, (std::vector<ColumnRole>{ColumnRole::kSent, ColumnRole::kDefaulted,
                                                 ColumnRole::kServerSet}));

  std::optional<PgError> e =
      Plan("INSERT INTO invoice__c (status__c, code__c) VALUES ('a', DEFAULT), ('b', 'c')", &plan);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "0A000");
  EXPECT_EQ(e->column, "code__c");
  EXPECT_NE(e->message.find("in some rows but not in others"), std::string::npos) << e->message;

  e = Plan("UPDATE invoice__c SET status__c = DEFAULT", &plan);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "0A000");
  // A server-set column may be DEFAULT in an UPDATE: it stays as it is.
  EXPECT_FALSE(Plan("UPDATE invoice__c SET status__c = 'x', system_modstamp = DEFAULT", &plan));
}

TEST(WriteChecksTest, UnknownColumnIs42703) {
  ColumnPlan plan;
  std::optional<PgError> e = Plan("UPDATE invoice__c SET nope = 1", &plan);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "42703");
  EXPECT_EQ(e->column, "nope");
}

TEST(WriteChecksTest, InsertTakesOnlyNullForServerSetColumns) {
  auto w = Write("INSERT INTO invoice__c (id, status__c, created_date) VALUES ($1, $2, $3)");
  ColumnPlan plan;
  ASSERT_FALSE(PlanColumns(*w, Invoice(), &plan));
  EXPECT_FALSE(
      CheckServerSetValues(*w, Invoice(), plan, RowsOf({{std::nullopt, "a", std::nullopt}}), -1));
  std::optional<PgError> e = CheckServerSetValues(
      *w, Invoice(), plan, RowsOf({{std::nullopt, "a", std::nullopt}, {std::nullopt, "b", "17"}}),
      -1);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "428C9");
  EXPECT_EQ(e->column, "created_date");
  EXPECT_NE(e->message.find("system field"), std::string::npos) << e->message;
  EXPECT_NE(e->hint.find("NULL or DEFAULT"), std::string::npos) << e->hint;

  e = CheckServerSetValues(*w, Invoice(), plan, RowsOf({{"001000000000001AAA", "a", std::nullopt}}),
                           -1);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->column, "id");
}

TEST(WriteChecksTest, UpdateTakesNullOrTheCurrentValueForServerSetColumns) {
  // Rows: id, status__c, code__c, system_modstamp, then the current code__c and system_modstamp.
  auto w = Write("UPDATE invoice__c SET status__c = $1, code__c = $2, system_modstamp = $3");
  ColumnPlan plan;
  ASSERT_FALSE(PlanColumns(*w, Invoice(), &plan));
  EXPECT_FALSE(CheckServerSetValues(*w, Invoice(), plan,
                                    RowsOf({{"a01", "x", "C1", std::nullopt, "C1", "1700"},
                                            {"a02", "y", std::nullopt, "1800", "C2", "1800"}}),
                                    4));
  std::optional<PgError> e = CheckServerSetValues(
      *w, Invoice(), plan, RowsOf({{"a01", "x", "C9", std::nullopt, "C1", "1700"}}), 4);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "428C9");
  EXPECT_EQ(e->column, "code__c");
  EXPECT_NE(e->message.find("not updateable"), std::string::npos) << e->message;
  e = CheckServerSetValues(*w, Invoice(), plan,
                           RowsOf({{"a01", "x", std::nullopt, "1701", "C1", "1700"}}), 4);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->column, "system_modstamp");
}

TEST(WriteChecksTest, KeepSentColumnsDropsTheRestFromColumnsAndRows) {
  auto w = Write("UPDATE invoice__c SET status__c = $1, code__c = $2, legacy__c = $3");
  ColumnPlan plan;
  ASSERT_FALSE(PlanColumns(*w, Invoice(), &plan));
  AnalyzedWrite sent = *w;
  ServerQuerier::Rows rows = RowsOf({{"a01", "x", "C1", "L", "C1", "{}"}});
  KeepSentColumns(plan, &sent, &rows);
  EXPECT_EQ(sent.columns, (std::vector<std::string>{"status__c", "legacy__c"}));
  EXPECT_EQ(rows.rows[0], (Row{"a01", "x", "L"}));

  auto insert =
      Write("INSERT INTO invoice__c (id, status__c, code__c) VALUES (NULL, 'a', DEFAULT)");
  ASSERT_FALSE(PlanColumns(*insert, Invoice(), &plan));
  sent = *insert;
  rows = RowsOf({{std::nullopt, "a", std::nullopt}});
  KeepSentColumns(plan, &sent, &rows);
  EXPECT_EQ(sent.columns, (std::vector<std::string>{"status__c"}));
  EXPECT_EQ(rows.rows[0], (Row{"a"}));
}

TEST(WriteChecksTest, UpsertNeedsAnExternalIdAndEveryOtherSentColumnFromExcluded) {
  ColumnPlan plan;
  EXPECT_FALSE(
      Plan("INSERT INTO invoice__c (legacy__c, status__c, amount__c) VALUES ('L', 'a', 1) "
           "ON CONFLICT (legacy__c) DO UPDATE SET status__c = EXCLUDED.status__c, "
           "amount__c = EXCLUDED.amount__c",
           &plan));
  // Server-set columns given as NULL may be in the SET list or not.
  EXPECT_FALSE(
      Plan("INSERT INTO invoice__c (id, legacy__c, status__c) VALUES (NULL, 'L', 'a') "
           "ON CONFLICT (legacy__c) DO UPDATE SET id = EXCLUDED.id, "
           "status__c = EXCLUDED.status__c",
           &plan));
  EXPECT_FALSE(
      Plan("INSERT INTO invoice__c (legacy__c, status__c) VALUES ('L', 'a') "
           "ON CONFLICT (legacy__c) DO NOTHING",
           &plan));

  std::optional<PgError> e = Plan(
      "INSERT INTO invoice__c (legacy__c, status__c, amount__c) VALUES ('L', 'a', 1) "
      "ON CONFLICT (legacy__c) DO UPDATE SET status__c = EXCLUDED.status__c",
      &plan);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "0A000");
  EXPECT_NE(e->hint.find("amount__c, status__c"), std::string::npos) << e->hint;

  e = Plan(
      "INSERT INTO invoice__c (code__c, status__c) VALUES ('C', 'a') "
      "ON CONFLICT (code__c) DO NOTHING",
      &plan);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "42P10");
  EXPECT_NE(e->message.find("external-id field"), std::string::npos) << e->message;

  e = Plan("INSERT INTO invoice__c (status__c) VALUES ('a') ON CONFLICT (legacy__c) DO NOTHING",
           &plan);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sqlstate, "42P10");
}

}  // namespace
}  // namespace sfbridge::proxy::writes
