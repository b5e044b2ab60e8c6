// Which statements write a synced table, which are refused before Salesforce, and which pass
// through, over many statement shapes.

#include "proxy/writes/statement_analysis.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/writes/sql_tree.h"

namespace sfbridge::proxy::writes {
namespace {

using Kind = Analysis::Kind;

// Synced: salesforce.contact, salesforce.invoice__c (and "order", a keyword).
bool Synced(std::string_view schema, std::string_view relation) {
  const bool name = relation == "contact" || relation == "invoice__c" || relation == "order";
  return name && (schema.empty() || schema == "salesforce");
}

Analysis Of(const std::string& sql) { return Analyze(sql, Synced); }

void ExpectRefused(const std::string& sql, const std::string& sqlstate,
                   const std::string& message_part) {
  Analysis a = Of(sql);
  ASSERT_EQ(a.kind, Kind::kRefused) << sql;
  EXPECT_EQ(a.error.sqlstate, sqlstate) << sql;
  EXPECT_NE(a.error.message.find(message_part), std::string::npos)
      << sql << " -> " << a.error.message;
}

TEST(StatementAnalysisTest, ReadsAndOtherTablesPassThrough) {
  for (const std::string sql : {
           "SELECT * FROM contact WHERE id = $1",
           "SELECT count(*) FROM salesforce.contact c JOIN salesforce.invoice__c i ON true",
           "INSERT INTO audit_log (what) VALUES ('x')",
           "UPDATE public_things SET a = 1",
           "DELETE FROM other.contact WHERE true",  // another schema's contact
           "COPY salesforce.contact TO STDOUT",
           "COPY contact (id) TO STDOUT",
           "WITH x AS (SELECT 1) SELECT * FROM x",
           "EXPLAIN UPDATE contact SET last_name = 'x'",  // no ANALYZE: nothing runs
           "BEGIN",
           "SET search_path = salesforce, public",
           "EXECUTE my_statement(1, 2)",
           "TRUNCATE audit_log",
           "MERGE INTO audit_log a USING contact c ON a.id = c.id WHEN MATCHED THEN DELETE",
       }) {
    EXPECT_EQ(Of(sql).kind, Kind::kPassThrough) << sql;
  }
}

TEST(StatementAnalysisTest, BadSqlPassesThroughForPostgresToReport) {
  EXPECT_EQ(Of("UPDATE contact SET WHERE").kind, Kind::kPassThrough);
  EXPECT_EQ(Of("INSERT INTO contact (a VALUES (1)").kind, Kind::kPassThrough);
  EXPECT_EQ(Of("").kind, Kind::kPassThrough);
  EXPECT_EQ(Of("'unterminated").kind, Kind::kPassThrough);
}

TEST(StatementAnalysisTest, InsertValuesWithParamsAndReturning) {
  Analysis a =
      Of("INSERT INTO Contact (Last_Name, \"first_name\") VALUES ($1, $2), ('a', 'b') "
         "RETURNING id, last_name");
  ASSERT_EQ(a.kind, Kind::kWrite);
  EXPECT_EQ(a.write->operation, Operation::kInsert);
  EXPECT_EQ(a.write->relation, "contact");
  EXPECT_EQ(a.write->schema, "");
  EXPECT_EQ(a.write->columns, (std::vector<std::string>{"last_name", "first_name"}));
  EXPECT_TRUE(a.write->returning);
  EXPECT_TRUE(a.write->from_values);
  EXPECT_FALSE(a.write->default_values);
}

TEST(StatementAnalysisTest, InsertSelectAndDefaultValuesAndQuotedKeywordTable) {
  Analysis select = Of("INSERT INTO salesforce.contact AS c (last_name) SELECT name FROM people");
  ASSERT_EQ(select.kind, Kind::kWrite);
  EXPECT_FALSE(select.write->from_values);
  EXPECT_EQ(select.write->schema, "salesforce");
  EXPECT_EQ(select.write->alias, "c");
  EXPECT_EQ(select.write->RowName(), "c");

  Analysis defaults = Of("INSERT INTO invoice__c DEFAULT VALUES");
  ASSERT_EQ(defaults.kind, Kind::kWrite);
  EXPECT_TRUE(defaults.write->default_values);

  Analysis keyword = Of("INSERT INTO \"order\" (name) VALUES ('x')");
  ASSERT_EQ(keyword.kind, Kind::kWrite);
  EXPECT_EQ(keyword.write->relation, "order");

  // A quoted name in another case is another relation.
  EXPECT_EQ(Of("INSERT INTO \"Contact\" (name) VALUES ('x')").kind, Kind::kPassThrough);
}

TEST(StatementAnalysisTest, UpdateShapes) {
  Analysis a =
      Of("UPDATE contact c SET last_name = upper($1), (title, department) = ('a', $2) "
         "FROM accounts a WHERE a.id = c.account_id AND c.email LIKE $3");
  ASSERT_EQ(a.kind, Kind::kWrite);
  EXPECT_EQ(a.write->operation, Operation::kUpdate);
  EXPECT_EQ(a.write->alias, "c");
  EXPECT_EQ(a.write->columns, (std::vector<std::string>{"last_name", "title", "department"}));
  EXPECT_FALSE(a.write->returning);

  Analysis all = Of("UPDATE salesforce.invoice__c SET notes__c = NULL RETURNING *");
  ASSERT_EQ(all.kind, Kind::kWrite);
  EXPECT_TRUE(all.write->returning);

  Analysis with = Of("WITH v AS (SELECT 'x' AS n) UPDATE contact SET title = v.n FROM v");
  EXPECT_EQ(with.kind, Kind::kWrite);
}

TEST(StatementAnalysisTest, DeleteShapes) {
  Analysis a = Of("DELETE FROM contact WHERE id = ANY($1) RETURNING id, last_name");
  ASSERT_EQ(a.kind, Kind::kWrite);
  EXPECT_EQ(a.write->operation, Operation::kDelete);
  EXPECT_TRUE(a.write->returning);
  EXPECT_EQ(Of("DELETE FROM contact USING gone g WHERE g.id = contact.id").kind, Kind::kWrite);
  EXPECT_EQ(Of("DELETE FROM invoice__c").kind, Kind::kWrite);
}

TEST(StatementAnalysisTest, UnsupportedFormsAreRefusedWithClearErrors) {
  ExpectRefused("MERGE INTO contact c USING src s ON c.id = s.id WHEN MATCHED THEN DELETE", "0A000",
                "MERGE into synced table contact");
  ExpectRefused("COPY salesforce.contact FROM STDIN", "0A000", "COPY FROM into synced table");
  ExpectRefused("TRUNCATE audit_log, contact", "0A000", "TRUNCATE of synced table contact");
  ExpectRefused("INSERT INTO contact (last_name) VALUES ('x') ON CONFLICT DO NOTHING", "0A000",
                "the conflict target must be one column");
  ExpectRefused("INSERT INTO contact (a, b) VALUES (1, 2) ON CONFLICT (a, b) DO NOTHING", "0A000",
                "the conflict target must be one column");
  ExpectRefused("INSERT INTO contact (a) VALUES (1) ON CONFLICT ON CONSTRAINT k DO NOTHING",
                "0A000", "the conflict target must be one column");
  ExpectRefused("INSERT INTO contact (a) VALUES (1) ON CONFLICT (lower(a)) DO NOTHING", "0A000",
                "not an expression");
  ExpectRefused("INSERT INTO contact (a, b) VALUES (1, 2) ON CONFLICT (a) DO UPDATE SET b = 3",
                "0A000", "SET b = EXCLUDED.b");
  ExpectRefused(
      "INSERT INTO contact (a, b) VALUES (1, 2) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b "
      "WHERE contact.b <> 2",
      "0A000", "DO UPDATE ... WHERE");
  ExpectRefused("INSERT INTO contact DEFAULT VALUES ON CONFLICT (a) DO NOTHING", "0A000",
                "DEFAULT VALUES");
  ExpectRefused("WITH d AS (DELETE FROM contact RETURNING id) SELECT * FROM d", "0A000",
                "data-modifying WITH query on synced table contact");
  ExpectRefused(
      "WITH d AS (INSERT INTO log (a) VALUES (1) RETURNING a) "
      "UPDATE contact SET title = 'x'",
      "0A000", "data-modifying WITH query in a write to a synced table");
  ExpectRefused(
      "WITH d AS (UPDATE invoice__c SET notes__c = 'x' RETURNING id) "
      "INSERT INTO log SELECT * FROM d",
      "0A000", "invoice__c");
  ExpectRefused("PREPARE p(text) AS UPDATE contact SET title = $1", "0A000", "PREPARE");
  ExpectRefused("EXPLAIN ANALYZE DELETE FROM contact", "0A000", "EXPLAIN ANALYZE");
  ExpectRefused("EXPLAIN (ANALYZE, BUFFERS) UPDATE contact SET title = 'x'", "0A000",
                "EXPLAIN ANALYZE");
  ExpectRefused("INSERT INTO contact VALUES ('x')", "0A000", "must name its columns");
  ExpectRefused("UPDATE contact SET tags[1] = 'x'", "0A000", "subscript or field");
  ExpectRefused("INSERT INTO contact (addr.street) VALUES ('x')", "0A000", "subscript or field");
  ExpectRefused("UPDATE contact SET (title, department) = (SELECT 'a', 'b')", "0A000",
                "SET (...) = (SELECT");
  ExpectRefused("UPDATE contact SET title = 'x' WHERE CURRENT OF cur", "0A000", "CURRENT OF");
  ExpectRefused("DELETE FROM contact WHERE CURRENT OF cur", "0A000", "CURRENT OF");
  ExpectRefused("UPDATE contact SET title = a.t FROM a WHERE a.id = contact.id RETURNING *",
                "0A000", "FROM ... RETURNING");
  ExpectRefused("DELETE FROM contact USING a WHERE a.id = contact.id RETURNING contact.id", "0A000",
                "USING ... RETURNING");
  ExpectRefused("INSERT INTO contact (last_name, title) VALUES ('x')", "42601",
                "more target columns than expressions");
  ExpectRefused("INSERT INTO contact (last_name) VALUES ('x', 'y')", "42601",
                "more expressions than target columns");
  ExpectRefused("INSERT INTO contact (last_name) SELECT 'x', 'y'", "42601",
                "more expressions than target columns");
}

TEST(StatementAnalysisTest, DefaultIsCountedPerColumnForLaterChecks) {
  Analysis a =
      Of("INSERT INTO contact (last_name, title, id) VALUES ('x', DEFAULT, DEFAULT), "
         "('y', 'z', DEFAULT)");
  ASSERT_EQ(a.kind, Kind::kWrite);
  EXPECT_EQ(a.write->value_rows, 2u);
  EXPECT_EQ(a.write->defaults, (std::vector<size_t>{0, 1, 2}));
  EXPECT_FALSE(a.write->AnyDefault(0));
  EXPECT_TRUE(a.write->AnyDefault(1));
  EXPECT_FALSE(a.write->AllDefault(1));
  EXPECT_TRUE(a.write->AllDefault(2));

  a = Of("UPDATE contact SET title = DEFAULT, last_name = 'x'");
  ASSERT_EQ(a.kind, Kind::kWrite);
  EXPECT_TRUE(a.write->AllDefault(0));
  EXPECT_FALSE(a.write->AnyDefault(1));
}

TEST(StatementAnalysisTest, OnConflictOnOneColumnIsAnUpsert) {
  Analysis a =
      Of("INSERT INTO contact (ext__c, last_name, title) VALUES ($1, $2, $3) ON CONFLICT (ext__c) "
         "DO UPDATE SET last_name = EXCLUDED.last_name, title = excluded.title RETURNING id");
  ASSERT_EQ(a.kind, Kind::kWrite) << a.error.message;
  ASSERT_TRUE(a.write->upsert.has_value());
  EXPECT_EQ(a.write->upsert->column, "ext__c");
  EXPECT_FALSE(a.write->upsert->do_nothing);
  EXPECT_EQ(a.write->upsert->set_columns, (std::vector<std::string>{"last_name", "title"}));
  EXPECT_TRUE(a.write->returning);

  a = Of(
      "INSERT INTO contact (ext__c, last_name) VALUES ('e', 'x') ON CONFLICT (ext__c) DO NOTHING");
  ASSERT_EQ(a.kind, Kind::kWrite);
  ASSERT_TRUE(a.write->upsert.has_value());
  EXPECT_TRUE(a.write->upsert->do_nothing);
  EXPECT_FALSE(Of("INSERT INTO contact (last_name) VALUES ('x')").write->upsert.has_value());
}

TEST(StatementAnalysisTest, RefusalsNameTheTableAndGiveAHint) {
  Analysis a = Of("TRUNCATE salesforce.invoice__c");
  ASSERT_EQ(a.kind, Kind::kRefused);
  EXPECT_EQ(a.error.table, "invoice__c");
  EXPECT_FALSE(a.error.hint.empty());
}

TEST(StatementAnalysisTest, SeveralStatementsInOneTextWithAWriteAreRefused) {
  ExpectRefused("SELECT 1; UPDATE contact SET title = 'x'", "0A000", "statement of its own");
  EXPECT_EQ(Of("SELECT 1; SELECT 2").kind, Kind::kPassThrough);
}

TEST(StatementAnalysisTest, SplitKeepsEachStatementsText) {
  auto parts = SplitStatements("SELECT 1; UPDATE contact SET title = 'a;b' ;\n;  SELECT $$x;$$");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0], "SELECT 1");
  EXPECT_EQ((*parts)[1], " UPDATE contact SET title = 'a;b' ");
  EXPECT_EQ((*parts)[2], "  SELECT $$x;$$");
  EXPECT_EQ(SplitStatements("SELECT 'unterminated").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitStatements(std::string(kMaxStatementBytes + 1, ' ')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sfbridge::proxy::writes
