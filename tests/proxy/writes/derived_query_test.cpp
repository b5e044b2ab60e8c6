// The derived queries and the RETURNING query, as SQL text and parameters.

#include "proxy/writes/derived_query.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_checks.h"

namespace sfbridge::proxy::writes {
namespace {

SyncedTable Contact() {
  SyncedTable t{.schema = "salesforce", .table = "contact", .object = "Contact"};
  t.fields = {
      {.field = "Id", .column = "id", .column_type = "text", .salesforce_type = "id"},
      {.field = "LastName",
       .column = "last_name",
       .column_type = "text",
       .salesforce_type = "string"},
      {.field = "Birthdate",
       .column = "birthdate",
       .column_type = "date",
       .salesforce_type = "date"},
      {.field = "Amount__c",
       .column = "amount__c",
       .column_type = "numeric",
       .salesforce_type = "currency"},
      {.field = "Paid_At__c",
       .column = "paid_at__c",
       .column_type = "timestamp with time zone",
       .salesforce_type = "datetime"},
      {.field = "Pickup__c",
       .column = "pickup__c",
       .column_type = "time without time zone",
       .salesforce_type = "time"},
  };
  return t;
}

BoundParams Params(std::vector<std::optional<std::string>> values,
                   std::vector<uint32_t> types = {}) {
  BoundParams p;
  p.values = std::move(values);
  p.formats.assign(p.values.size(), 0);
  p.type_oids = std::move(types);
  p.type_oids.resize(p.values.size(), 0);
  return p;
}

std::shared_ptr<const AnalyzedWrite> Write(const std::string& sql) {
  Analysis a = Analyze(sql, [](std::string_view, std::string_view r) { return r == "contact"; });
  EXPECT_EQ(a.kind, Analysis::Kind::kWrite) << sql << " " << a.error.message;
  return a.write;
}

TEST(DerivedQueryTest, UpdateSelectsIdAndNewValuesCastToColumnTypes) {
  auto w = Write("UPDATE contact SET last_name = upper($2), amount__c = $1 WHERE last_name = $3");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"12.50", "smith", "x"}, {1700}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT contact.id, upper($2)::text, $1::numeric FROM salesforce.contact "
            "WHERE last_name = $3");
  ASSERT_EQ(q->params.values.size(), 3u);
  EXPECT_EQ(q->params.values[0], "12.50");
  EXPECT_EQ(q->params.type_oids[0], 1700u);
  EXPECT_EQ(q->params.values[1], "smith");
  EXPECT_EQ(q->params.values[2], "x");
}

TEST(DerivedQueryTest, UnusedParametersAreDroppedAndTheRestRenumbered) {
  auto w = Write("UPDATE contact AS c SET last_name = $3 WHERE c.id = $5");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"a", "b", "c", "d", "e"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql, "SELECT c.id, $1::text FROM salesforce.contact c WHERE c.id = $2");
  EXPECT_EQ(q->params.values, (std::vector<std::optional<std::string>>{"c", "e"}));
}

TEST(DerivedQueryTest, TimesAndDatesArriveAsNumbersWhateverTheSessionSettings) {
  auto w = Write("UPDATE contact SET birthdate = $1, paid_at__c = now(), pickup__c = '10:00'");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"2024-01-02"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT contact.id, $1::date - '1970-01-01'::date, "
            "floor(extract ('epoch' FROM now()::timestamp with time zone) * 1000)::bigint, "
            "floor(extract ('epoch' FROM '10:00'::time) * 1000)::bigint FROM salesforce.contact");
}

TEST(DerivedQueryTest, MultiColumnSetTakesEachExpressionOfTheRow) {
  auto w = Write("UPDATE contact SET (last_name, amount__c) = ('x', 2 + 2) WHERE id = 'a'");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT contact.id, 'x'::text, CAST(2 + 2 AS numeric) FROM salesforce.contact "
            "WHERE id = 'a'");
}

TEST(DerivedQueryTest, UpdateFromAndWithKeepTheirClauses) {
  auto w = Write(
      "WITH n AS (SELECT 'z' AS v) UPDATE contact c SET last_name = n.v FROM n "
      "WHERE c.id IN ('a', 'b')");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "WITH n AS (SELECT 'z' AS v) SELECT c.id, n.v::text FROM salesforce.contact c, n "
            "WHERE c.id IN ('a', 'b')");
}

TEST(DerivedQueryTest, DeleteSelectsIdsAndTheOldRowForReturning) {
  auto plain = Write("DELETE FROM salesforce.contact WHERE last_name = $1");
  auto q = BuildAffectedRowsQuery(*plain, Contact(), Params({"x"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql, "SELECT contact.id FROM salesforce.contact WHERE last_name = $1");

  auto with_using = Write("DELETE FROM contact c USING gone g WHERE g.id = c.id");
  q = BuildAffectedRowsQuery(*with_using, Contact(), Params({}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql, "SELECT c.id FROM salesforce.contact c, gone g WHERE g.id = c.id");
}

TEST(DerivedQueryTest, DeleteWithReturningCarriesTheRowAsJsonAndChecksReturningOnIt) {
  auto w = Write("DELETE FROM contact c WHERE c.id = $1 RETURNING lower(c.last_name)");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"003x"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT c.id, pg_catalog.to_jsonb(c.*)::text, (SELECT length(sfbridge_r::text) FROM "
            "(SELECT lower(c.last_name) FROM pg_catalog.jsonb_populate_record(c.*, "
            "pg_catalog.jsonb_build_object()) c) sfbridge_r) FROM salesforce.contact c "
            "WHERE c.id = $1");
}

TEST(DerivedQueryTest, InsertValuesCastsEachCell) {
  auto w = Write("INSERT INTO contact (last_name, amount__c) VALUES ($1, 1.5), ('b', $2)");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"a", "2"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql, "VALUES ($1::text, (1.5)::numeric), ('b'::text, $2::numeric)");
}

TEST(DerivedQueryTest, InsertSelectRenamesTheSourceColumns) {
  auto w = Write(
      "INSERT INTO contact (last_name, birthdate) SELECT name, born FROM people "
      "WHERE ok = $1");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"t"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT sfbridge_new.c1::text, sfbridge_new.c2::date - '1970-01-01'::date FROM "
            "(SELECT name, born FROM people WHERE ok = $1) sfbridge_new(c1, c2)");
}

TEST(DerivedQueryTest, QuotingOfNamesThatNeedIt) {
  SyncedTable t = Contact();
  t.schema = "Sales Force";
  t.table = "order";
  auto w = Analyze("UPDATE \"order\" SET last_name = 'x' WHERE \"Weird\" = 1",
                   [](std::string_view, std::string_view) { return true; });
  ASSERT_EQ(w.kind, Analysis::Kind::kWrite);
  auto q = BuildAffectedRowsQuery(*w.write, t, Params({}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT \"order\".id, 'x'::text FROM \"Sales Force\".\"order\" WHERE \"Weird\" = 1");
}

TEST(DerivedQueryTest, MissingColumnAndMissingParameterAreErrors) {
  auto w = Write("UPDATE contact SET nope = 1");
  EXPECT_EQ(BuildAffectedRowsQuery(*w, Contact(), Params({})).status().code(),
            absl::StatusCode::kNotFound);
  auto p = Write("UPDATE contact SET last_name = $2");
  EXPECT_EQ(BuildAffectedRowsQuery(*p, Contact(), Params({"a"})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DerivedQueryTest, ReturningReadsTheConfirmedRowsAsTheTablesRowType) {
  auto w = Write("UPDATE contact c SET last_name = $1 RETURNING c.id, upper(last_name), $2");
  auto q = BuildReturningQuery(*w, Contact(), Params({"a", "b"}, {0, 25}), "[{\"id\":\"x\"}]");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT c.id, upper(last_name), $1 FROM "
            "jsonb_populate_recordset(NULL::salesforce.contact, $2::jsonb) c");
  ASSERT_EQ(q->params.values.size(), 2u);
  EXPECT_EQ(q->params.values[0], "b");
  EXPECT_EQ(q->params.type_oids[0], 25u);
  EXPECT_EQ(q->params.values[1], "[{\"id\":\"x\"}]");
  EXPECT_EQ(q->params.type_oids[1], kJsonbOid);

  auto star = Write("INSERT INTO contact (last_name) VALUES ('x') RETURNING *");
  q = BuildReturningQuery(*star, Contact(), Params({}), "[]");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT * FROM jsonb_populate_recordset(NULL::salesforce.contact, $1::jsonb) contact");
}

TEST(DerivedQueryTest, ReturningQualifiedByTheTargetsSchemaReadsTheRows) {
  // What SQLAlchemy sends for a model with schema='salesforce'.
  auto w = Write(
      "INSERT INTO salesforce.contact (last_name) VALUES ($1) RETURNING salesforce.contact.id, "
      "contact.last_name, salesforce.contact.*, db.salesforce.contact.amount__c, other.contact.id");
  auto q = BuildReturningQuery(*w, Contact(), Params({"a"}), "[]");
  ASSERT_TRUE(q.ok()) << q.status();
  // other.contact.id is not the target: PostgreSQL reports it, and so does the query.
  EXPECT_EQ(q->sql,
            "SELECT contact.id, contact.last_name, contact.*, contact.amount__c, other.contact.id "
            "FROM jsonb_populate_recordset(NULL::salesforce.contact, $1::jsonb) contact");

  // With an alias only the alias names the rows, as in PostgreSQL.
  auto aliased = Write(
      "UPDATE salesforce.contact AS c SET last_name = 'x' RETURNING "
      "salesforce.contact.id");
  q = BuildReturningQuery(*aliased, Contact(), Params({}), "[]");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT salesforce.contact.id FROM "
            "jsonb_populate_recordset(NULL::salesforce.contact, $1::jsonb) c");
}

TEST(DerivedQueryTest, DefaultIsReadAsNullAndWriterColumnsHaveTheirTypes) {
  auto w = Write(
      "INSERT INTO contact (id, last_name, _synced_at, _modstamp_ms) VALUES "
      "(DEFAULT, 'a', NULL, DEFAULT)");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "VALUES (NULL::text, 'a'::text, floor(extract ('epoch' FROM NULL::timestamp with time "
            "zone) * 1000)::bigint, NULL::bigint)");
}

TEST(DerivedQueryTest, UpdateCarriesCurrentValuesOfServerSetColumnsAndChecksReturning) {
  auto w = Write("UPDATE contact SET last_name = $1, id = $2 WHERE id = $2 RETURNING id || 'x'");
  ColumnPlan plan;
  plan.roles = {ColumnRole::kSent, ColumnRole::kServerSet};
  plan.why = {"", "Salesforce assigns the record Id"};
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"a", "003x"}), &plan);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(
      q->sql,
      "SELECT contact.id, $1::text, $2::text, contact.id::text, (SELECT "
      "length(sfbridge_r::text) FROM (SELECT id || 'x' FROM "
      "pg_catalog.jsonb_populate_record(contact.*, pg_catalog.jsonb_build_object('last_name', "
      "$1::text)) contact) sfbridge_r) FROM salesforce.contact WHERE id = $2");
  EXPECT_EQ(q->current_at, 3);

  auto plain = Write("UPDATE contact SET last_name = DEFAULT");
  q = BuildAffectedRowsQuery(*plain, Contact(), Params({}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql, "SELECT contact.id, NULL::text FROM salesforce.contact");
  EXPECT_EQ(q->current_at, -1);
}

TEST(DerivedQueryTest, InsertWithReturningChecksItOnEachRowsValues) {
  auto w = Write(
      "INSERT INTO contact AS c (last_name, amount__c) VALUES ($1, 1.5), ('b', DEFAULT) "
      "RETURNING c.amount__c / 2");
  auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"a"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->sql,
            "SELECT sfbridge_new.c1::text, sfbridge_new.c2::numeric, (SELECT "
            "length(sfbridge_r::text) FROM (SELECT c.amount__c / 2 FROM "
            "pg_catalog.jsonb_populate_record(NULL::salesforce.contact, "
            "pg_catalog.jsonb_build_object('last_name', sfbridge_new.c1::text, 'amount__c', "
            "sfbridge_new.c2::numeric)) c) sfbridge_r) FROM (VALUES ($1::text, (1.5)::numeric), "
            "('b'::text, NULL::numeric)) sfbridge_new(c1, c2)");

  // More than 50 columns: jsonb_build_object takes 100 arguments at most.
  std::string columns, values;
  SyncedTable wide = Contact();
  for (int i = 0; i < 60; ++i) {
    const std::string c = "f" + std::to_string(i);
    wide.fields.push_back(
        {.field = c, .column = c, .column_type = "text", .salesforce_type = "string"});
    columns += (i ? ", " : "") + c;
    values += (i ? ", '" : "'") + c + "'";
  }
  auto many =
      Write("INSERT INTO contact (" + columns + ") VALUES (" + values + ") RETURNING id::text");
  q = BuildAffectedRowsQuery(*many, wide, Params({}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_NE(q->sql.find("pg_catalog.jsonb_concat(pg_catalog.jsonb_build_object('f0', "),
            std::string::npos)
      << q->sql;
  EXPECT_NE(q->sql.find("pg_catalog.jsonb_build_object('f50', sfbridge_new.c51::text"),
            std::string::npos)
      << q->sql;
}

TEST(DerivedQueryTest, ReturningOfPlainColumnsNeedsNoCheck) {
  // Nothing there can fail on a row: the derived query stays as it was.
  for (const std::string returning :
       {"id", "contact.last_name, *", "salesforce.contact.*, _synced_at, _modstamp_ms"}) {
    auto w = Write("UPDATE contact SET last_name = $1 RETURNING " + returning);
    auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"a"}));
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->sql, "SELECT contact.id, $1::text FROM salesforce.contact") << returning;
  }
  // A name that is not the target's, or that the catalog does not know, is checked.
  for (const std::string returning : {"other.id", "nope", "last_name::int", "$2"}) {
    auto w = Write("UPDATE contact SET last_name = $1 RETURNING " + returning);
    auto q = BuildAffectedRowsQuery(*w, Contact(), Params({"a", "b"}));
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_NE(q->sql.find("jsonb_populate_record"), std::string::npos) << returning;
  }
  auto aliased =
      Write("UPDATE salesforce.contact c SET last_name = $1 RETURNING salesforce.contact.id");
  auto q = BuildAffectedRowsQuery(*aliased, Contact(), Params({"a"}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_NE(q->sql.find("jsonb_populate_record"), std::string::npos);
}

}  // namespace
}  // namespace sfbridge::proxy::writes
