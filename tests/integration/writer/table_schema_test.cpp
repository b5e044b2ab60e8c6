// Synced tables against a real PostgreSQL: creation with DESIGN's type mapping, the stored name
// mapping, evolution (new, removed and retyped fields) with values flowing throughout, and the
// roles that may read but not write.

#include "writer/table_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/core/status.h"
#include "tests/integration/writer/writer_test_db.h"
#include "writer/applier.h"

namespace sfbridge::writer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using Row = std::vector<std::string>;

// A SQL string literal.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  return out + "'";
}

class TableSchemaTest : public WriterTest {
 protected:
  void Ensure(const v1::ObjectSchema& schema, const TableOptions& options = {}) {
    absl::Status s = EnsureTable(*conn_, kSchema, schema, options);
    ASSERT_TRUE(s.ok()) << s;
  }
  void Apply(const std::vector<v1::RecordChange>& changes) {
    auto r = Applier({.cache_layouts = false}).ApplyBatch(*conn_, kSchema, changes, {});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->parked.empty()) << r->outcomes[r->parked[0]].reason;
  }
  // column -> type of salesforce.<table>, in table order.
  std::vector<Row> Columns(const std::string& table) {
    return Rows(
        "SELECT column_name::text, data_type::text, is_nullable::text FROM "
        "information_schema.columns WHERE table_schema = 'salesforce' AND table_name = $1 "
        "ORDER BY ordinal_position",
        {table});
  }
  std::string ColumnType(const std::string& table, const std::string& column) {
    return Scalar(
        "SELECT data_type::text FROM information_schema.columns WHERE table_schema = "
        "'salesforce' AND table_name = $1 AND column_name = $2",
        {table, column});
  }
};

TEST_F(TableSchemaTest, CreatesTheTableWithDesignTypesAndMetadata) {
  v1::ObjectSchema account = MakeSchema("Account", {{"Name", "string"},
                                                    {"ParentId", "reference"},
                                                    {"IsActive__c", "boolean"},
                                                    {"NumberOfEmployees", "int"},
                                                    {"Big__c", "long"},
                                                    {"AnnualRevenue", "currency"},
                                                    {"Rating__c", "double"},
                                                    {"Share__c", "percent"},
                                                    {"Founded__c", "date"},
                                                    {"SystemModstamp", "datetime"},
                                                    {"Opens__c", "time"},
                                                    {"Tags__c", "multipicklist"},
                                                    {"Industry", "picklist"},
                                                    {"Photo__c", "base64"},
                                                    {"BillingAddress", "address"},
                                                    {"BillingStreet", "textarea"},
                                                    {"Location__c", "location"},
                                                    {"Location__Latitude__s", "double"},
                                                    {"Website", "url"},
                                                    {"SomeNewType", "json"}});
  account.mutable_fields(16)->set_compound_field_name("BillingAddress");
  Ensure(account);
  EXPECT_THAT(
      Columns("account"),
      ElementsAre(Row{"id", "text", "NO"}, Row{"name", "text", "YES"},
                  Row{"parent_id", "text", "YES"}, Row{"is_active__c", "boolean", "YES"},
                  Row{"number_of_employees", "integer", "YES"}, Row{"big__c", "bigint", "YES"},
                  Row{"annual_revenue", "numeric", "YES"}, Row{"rating__c", "numeric", "YES"},
                  Row{"share__c", "numeric", "YES"}, Row{"founded__c", "date", "YES"},
                  Row{"system_modstamp", "timestamp with time zone", "YES"},
                  Row{"opens__c", "time without time zone", "YES"}, Row{"tags__c", "text", "YES"},
                  Row{"industry", "text", "YES"}, Row{"billing_street", "text", "YES"},
                  Row{"location__latitude__s", "numeric", "YES"}, Row{"website", "text", "YES"},
                  Row{"some_new_type", "text", "YES"},
                  Row{"_synced_at", "timestamp with time zone", "NO"},
                  Row{"_modstamp_ms", "bigint", "NO"}));
  EXPECT_EQ(Scalar("SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                   "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = "
                   "'salesforce.account'::regclass AND i.indisprimary"),
            "id");
  EXPECT_EQ(Scalar("SELECT tableowner = current_user FROM pg_tables WHERE schemaname = "
                   "'salesforce' AND tablename = 'account'"),
            "t");
  // The mapping the proxy reads to go from a column back to its API field.
  EXPECT_EQ(Scalar("SELECT field_name || ':' || field_type FROM sfbridge.field_mappings "
                   "WHERE org_id = $1 AND object_name = 'Account' AND column_name = 'parent_id'",
                   {kOrg}),
            "ParentId:reference");
  EXPECT_EQ(Scalar("SELECT count(*) FROM sfbridge.field_mappings WHERE object_name = 'Account'"),
            "18")
      << "every field with a column, Id included";
  EXPECT_EQ(Scalar("SELECT schema_name || '.' || table_name FROM sfbridge.synced_tables "
                   "WHERE org_id = $1 AND object_name = 'Account'",
                   {kOrg}),
            "salesforce.account");
  EXPECT_EQ(Scalar("SELECT to_regclass('salesforce._tombstones') IS NOT NULL"), "t");
  // A second call with the same schema changes nothing and fails nothing.
  Ensure(account);
  EXPECT_EQ(Columns("account").size(), 20u);
}

TEST_F(TableSchemaTest, ReservedWordsCollisionsAndCustomObjects) {
  v1::ObjectSchema order = MakeSchema("Order", {{"User", "string"},
                                                {"Select", "string"},
                                                {"FirstName", "string"},
                                                {"First_Name", "string"},
                                                {"first_name", "string"}});
  Ensure(order);
  Ensure(MakeSchema("Invoice__c", {{"Amount__c", "currency"}}));
  Ensure(MakeSchema("Invoice_c", {{"Total__c", "currency"}}));  // not a real Salesforce name
  Apply({Change("Order", "801A", 10,
                {{"User", Text("u")},
                 {"Select", Text("s")},
                 {"FirstName", Text("a")},
                 {"First_Name", Text("b")},
                 {"first_name", Text("c")}})});
  EXPECT_EQ(Scalar("SELECT \"user\" || \"select\" FROM salesforce.\"order\""), "us");
  // The three fields that all snake-case to first_name: the first in sorted API-name order keeps
  // the plain name, the others get their hash suffix, and each keeps its own value.
  auto mapped = Rows(
      "SELECT field_name, column_name FROM sfbridge.field_mappings WHERE object_name = 'Order' "
      "AND field_name ILIKE 'first%' ORDER BY field_name");
  ASSERT_EQ(mapped.size(), 3u);
  EXPECT_EQ(mapped[0], (Row{"FirstName", "first_name"}));
  EXPECT_THAT(mapped[1][1], MatchesRegex("first_name_[0-9a-f]{8}"));
  EXPECT_THAT(mapped[2][1], MatchesRegex("first_name_[0-9a-f]{8}"));
  EXPECT_NE(mapped[1][1], mapped[2][1]);
  EXPECT_EQ(Scalar("SELECT " + mapped[1][1] + " || " + mapped[2][1] + " FROM salesforce.\"order\""),
            "bc");
  EXPECT_EQ(Scalar("SELECT to_regclass('salesforce.invoice__c') IS NOT NULL"), "t");
  EXPECT_THAT(Scalar("SELECT table_name FROM sfbridge.synced_tables WHERE object_name = "
                     "'Invoice_c'"),
              MatchesRegex("invoice_c"))
      << "distinct snake names need no suffix";
  // Names given out never move, whatever order describe lists the fields in later.
  v1::ObjectSchema reordered = MakeSchema("Order", {{"first_name", "string"},
                                                    {"First_Name", "string"},
                                                    {"FirstName", "string"},
                                                    {"Select", "string"},
                                                    {"User", "string"},
                                                    {"Afirst_name", "string"}});
  Ensure(reordered);
  EXPECT_EQ(Rows("SELECT field_name, column_name FROM sfbridge.field_mappings WHERE object_name "
                 "= 'Order' AND field_name ILIKE 'first%' ORDER BY field_name"),
            mapped);
}

TEST_F(TableSchemaTest, ATableNameHeldByAnotherObjectGetsASuffix) {
  ASSERT_TRUE(
      conn_->Exec("CREATE SCHEMA salesforce; CREATE TABLE salesforce.contact (x int)").ok());
  Ensure(MakeSchema("Contact", {{"LastName", "string"}}));
  std::string table =
      Scalar("SELECT table_name FROM sfbridge.synced_tables WHERE object_name = 'Contact'");
  EXPECT_THAT(table, MatchesRegex("contact_[0-9a-f]{8}"));
  Apply({Change("Contact", "003A", 1, {{"LastName", Text("Lovelace")}})});
  EXPECT_EQ(Scalar("SELECT last_name FROM salesforce." + table), "Lovelace");
  EXPECT_EQ(Columns("contact").size(), 1u) << "the unregistered table is left alone";
}

TEST_F(TableSchemaTest, AFieldAddedMidRunGetsAColumnAndValuesFlow) {
  Ensure(MakeSchema("Contact", {{"LastName", "string"}}));
  Apply({Change("Contact", "003A", 1, {{"LastName", Text("Hopper")}})});
  Ensure(MakeSchema("Contact", {{"LastName", "string"}, {"Email", "email"}, {"Age__c", "int"}}));
  EXPECT_EQ(ColumnType("contact", "email"), "text");
  EXPECT_EQ(ColumnType("contact", "age__c"), "integer");
  EXPECT_EQ(Scalar("SELECT is_nullable || coalesce(column_default, '-') FROM "
                   "information_schema.columns WHERE table_name = 'contact' AND "
                   "column_name = 'email'"),
            "YES-");
  Apply({Change(
      "Contact", "003B", 2,
      {{"LastName", Text("Lamarr")}, {"Email", Text("h@l.example")}, {"Age__c", Number("85")}})});
  EXPECT_EQ(Rows("SELECT id, last_name, email, age__c::text FROM salesforce.contact ORDER BY id"),
            (std::vector<Row>{{"003A", "Hopper", "<null>", "<null>"},
                              {"003B", "Lamarr", "h@l.example", "85"}}));
}

TEST_F(TableSchemaTest, ARemovedFieldKeepsItsColumnAndData) {
  Ensure(MakeSchema("Contact", {{"LastName", "string"}, {"Fax", "phone"}}));
  Apply({Change("Contact", "003A", 1, {{"LastName", Text("Hopper")}, {"Fax", Text("555")}})});
  Ensure(MakeSchema("Contact", {{"LastName", "string"}}));
  EXPECT_EQ(ColumnType("contact", "fax"), "text");
  Apply({Change("Contact", "003A", 2, {{"LastName", Text("Hopper2")}}),
         Change("Contact", "003B", 2, {{"LastName", Text("Lamarr")}})});
  EXPECT_EQ(Rows("SELECT id, last_name, fax FROM salesforce.contact ORDER BY id"),
            (std::vector<Row>{{"003A", "Hopper2", "555"}, {"003B", "Lamarr", "<null>"}}));
  // Back again: the same column, with what it held.
  Ensure(MakeSchema("Contact", {{"LastName", "string"}, {"Fax", "phone"}}));
  EXPECT_EQ(Scalar("SELECT column_name FROM sfbridge.field_mappings WHERE field_name = 'Fax'"),
            "fax");
  EXPECT_EQ(Scalar("SELECT fax FROM salesforce.contact WHERE id = '003A'"), "555");
}

TEST_F(TableSchemaTest, TypeChangesNeverLoseAValue) {
  Ensure(MakeSchema("Thing__c", {{"Count__c", "int"},
                                 {"Price__c", "currency"},
                                 {"Code__c", "string"},
                                 {"Label__c", "string"},
                                 {"When__c", "datetime"},
                                 {"Day__c", "date"}}));
  auto datetime = [](int64_t ms) {
    v1::FieldValue v;
    v.set_datetime_ms(ms);
    return v;
  };
  auto date = [](int32_t days) {
    v1::FieldValue v;
    v.set_date_days(days);
    return v;
  };
  Apply({Change("Thing__c", "a01A", 1,
                {{"Count__c", Number("2147483647")},
                 {"Price__c", Number("12.50")},
                 {"Code__c", Text("0042.50")},
                 {"Label__c", Text("12")},
                 {"When__c", datetime(1705314030123)},
                 {"Day__c", date(19737)}}),
         Change("Thing__c", "a01B", 1,
                {{"Count__c", Number("-7")},
                 {"Price__c", Number("-0.001")},
                 {"Code__c", Text("17")},
                 {"Label__c", Text("twelve")},
                 {"When__c", datetime(0)},
                 {"Day__c", date(-1)}})});
  Ensure(MakeSchema("Thing__c", {{"Count__c", "long"},       // widening: bigint
                                 {"Price__c", "string"},     // anything -> text
                                 {"Code__c", "double"},      // text that round-trips? no: 0042.50
                                 {"Label__c", "int"},        // "twelve" cannot: stays text
                                 {"When__c", "date"},        // would drop the time: -> text
                                 {"Day__c", "datetime"}}));  // every date fits: timestamptz
  EXPECT_EQ(ColumnType("thing__c", "count__c"), "bigint");
  EXPECT_EQ(ColumnType("thing__c", "price__c"), "text");
  EXPECT_EQ(ColumnType("thing__c", "code__c"), "text");
  EXPECT_EQ(ColumnType("thing__c", "label__c"), "text");
  EXPECT_EQ(ColumnType("thing__c", "when__c"), "text");
  EXPECT_EQ(ColumnType("thing__c", "day__c"), "timestamp with time zone");
  EXPECT_EQ(Rows("SELECT count__c::text, price__c, code__c, label__c, when__c, "
                 "to_char(day__c AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
                 "FROM salesforce.thing__c ORDER BY id"),
            (std::vector<Row>{{"2147483647", "12.50", "0042.50", "12", "2024-01-15 10:20:30.123+00",
                               "2024-01-15 00:00:00"},
                              {"-7", "-0.001", "17", "twelve", "1970-01-01 00:00:00+00",
                               "1969-12-31 00:00:00"}}));
  EXPECT_EQ(Scalar("SELECT field_type FROM sfbridge.field_mappings WHERE field_name = 'Code__c'"),
            "double");
  // New values of the new types flow into the columns as they now are.
  Apply({Change("Thing__c", "a01C", 2,
                {{"Count__c", Number("9223372036854775807")},
                 {"Code__c", Number("3.25")},
                 {"Label__c", Number("12")},
                 {"When__c", date(19737)},
                 {"Day__c", datetime(1705314030123)}})});
  EXPECT_EQ(Rows("SELECT count__c::text, code__c, label__c, when__c FROM salesforce.thing__c "
                 "WHERE id = 'a01C'"),
            (std::vector<Row>{{"9223372036854775807", "3.25", "12", "2024-01-15"}}));
  // A text column whose values all fit the new type is converted.
  ASSERT_TRUE(conn_->Exec("DELETE FROM salesforce.thing__c WHERE label__c = 'twelve'").ok());
  Ensure(MakeSchema("Thing__c", {{"Label__c", "int"}}));
  EXPECT_EQ(ColumnType("thing__c", "label__c"), "integer");
  EXPECT_EQ(Scalar("SELECT string_agg(label__c::text, ',' ORDER BY id) FROM salesforce.thing__c"),
            "12,12");
}

TEST_F(TableSchemaTest, AReadRoleCanSelectButNotWrite) {
  const std::string role = testing::UniqueName("reader");
  ASSERT_TRUE(conn_->Exec("CREATE ROLE " + role + " NOLOGIN").ok());
  Ensure(MakeSchema("Contact", {{"LastName", "string"}}), TableOptions{role});
  Apply({Change("Contact", "003A", 1, {{"LastName", Text("Hopper")}})});
  absl::Status read = conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
    if (auto s = tx.Exec("SET LOCAL ROLE " + role); !s.ok()) return s.status();
    auto r = tx.Exec("SELECT last_name FROM salesforce.contact");
    if (!r.ok()) return r.status();
    EXPECT_EQ(r->rows.size(), 1u);
    return tx.Exec("SELECT count(*) FROM salesforce._tombstones").status();
  });
  EXPECT_TRUE(read.ok()) << read;
  for (const std::string& write :
       {std::string("INSERT INTO salesforce.contact (id, _modstamp_ms) VALUES ('x', 1)"),
        std::string("UPDATE salesforce.contact SET last_name = 'x'"),
        std::string("DELETE FROM salesforce.contact"),
        std::string("DELETE FROM salesforce._tombstones")}) {
    absl::Status s = conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
      if (auto r = tx.Exec("SET LOCAL ROLE " + role); !r.ok()) return r.status();
      return tx.Exec(write).status();
    });
    EXPECT_FALSE(s.ok()) << write;
    EXPECT_THAT(std::string(s.message()), HasSubstr("permission denied")) << write;
    // The SQLSTATE itself, as the server raises it (checked server-side: libpqxx 6 does not
    // carry the SQLSTATE of insufficient_privilege into its exception).
    absl::Status state = conn_->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
      if (auto r = tx.Exec("SET LOCAL ROLE " + role); !r.ok()) return r.status();
      return tx
          .Exec("DO $t$ BEGIN EXECUTE " + Quote(write) +
                "; RAISE EXCEPTION 'write was allowed'; "
                "EXCEPTION WHEN insufficient_privilege THEN NULL; END $t$")
          .status();
    });
    EXPECT_TRUE(state.ok()) << write << ": " << state;
  }
  EXPECT_EQ(Scalar("SELECT last_name FROM salesforce.contact"), "Hopper");
  // A role that is not there is not an error: nothing to grant yet.
  Ensure(MakeSchema("Lead", {{"LastName", "string"}}), TableOptions{"no_such_role_here"});
  ASSERT_TRUE(conn_->Exec("DROP OWNED BY " + role + "; DROP ROLE " + role).ok());
}

TEST_F(TableSchemaTest, AnOrgThatIsNotSetUpIsAPreconditionFailure) {
  v1::ObjectSchema s = MakeSchema("Contact", {{"LastName", "string"}});
  s.set_org_id("00D00000000000XAAA");
  absl::Status st = EnsureTable(*conn_, kSchema, s);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("00D00000000000XAAA"));
  EXPECT_EQ(Scalar("SELECT to_regclass('salesforce.contact') IS NULL"), "t");
}

}  // namespace
}  // namespace sfbridge::writer
