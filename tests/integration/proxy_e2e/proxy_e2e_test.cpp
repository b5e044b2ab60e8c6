// Real clients — psql, pgbench in every protocol, libpq with typed parameters, psycopg 3 and
// pgjdbc — write through the sfbridge-proxy program to synced tables, with the whole product
// running as programs (sfsim, fetcher, writer, proxy; real PostgreSQL and Kafka). Each write is
// checked where a user would look: the driver's own result, the record in sfsim (its REST API
// and digest) and the row in PostgreSQL (read directly as the tables' owner).
//
// The stack starts once for the whole binary (the backfill takes a while); every test works on
// records of its own, named with a unique tag.
// Over 500 lines on purpose: the stack starts once for the binary (its backfill takes most of a
// minute), so every client's checks live here rather than in binaries that would each start one.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "common/core/strings.h"
#include "tests/harness/test_env.h"
#include "tests/proxy/proxy_test_support.h"
#include "tests/integration/proxy_e2e/e2e_stack.h"

namespace sfbridge::proxy::e2e {
namespace {

using core::StrAppend;
using core::StrCat;
using proxy::testing::Connect;
using proxy::testing::PgConn;
using proxy::testing::PgResult;
using proxy::testing::SqlState;
using sfbridge::testing::CommandResult;
using sfbridge::testing::FindProgram;
using sfbridge::testing::RunCommand;
using sfbridge::testing::TempDir;
using sfbridge::testing::UniqueName;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class ProxyE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new E2eStack(
        {{"User", 3}, {"Account", 120}, {"Contact", 150}, {"Invoice__c", 60}, {"Shipment__c", 40}});
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(stack_->ok()) << "the stack did not start"; }
  void TearDown() override {
    if (HasFailure()) std::cout << stack_->LogTails() << std::flush;
  }

  // psql through the proxy as the application role; one -c per command.
  static CommandResult Psql(const std::vector<std::string>& commands, bool stop_on_error = true) {
    std::vector<std::string> argv = {FindProgram("psql"), "-X", "-At", stack_->ProxyUrl()};
    if (stop_on_error) argv.insert(argv.end(), {"-v", "ON_ERROR_STOP=1"});
    for (const std::string& c : commands) argv.insert(argv.end(), {"-c", c});
    return RunCommand(argv, {}, seconds(120));
  }

  static std::string Owner(const std::string& sql, const postgres::Params& params = {}) {
    return stack_->OwnerScalar(sql, params);
  }

  static E2eStack* stack_;
};
E2eStack* ProxyE2eTest::stack_ = nullptr;

TEST_F(ProxyE2eTest, PsqlInsertUpdateDeleteMultiStatementAndARejection) {
  const std::string tag = UniqueName("psql");
  CommandResult r = Psql({StrCat("INSERT INTO salesforce.account (name, account_number) VALUES ('",
                                 tag, " one', '", tag, "-1') RETURNING id")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> out = Lines(r.output);
  ASSERT_FALSE(out.empty());
  const std::string id = out[0];
  ASSERT_EQ(id.size(), 18u) << r.output;
  EXPECT_EQ(id.substr(0, 3), "001");
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Account", id, "Name, AccountNumber"), "Name"),
            tag + " one");
  EXPECT_EQ(
      Owner("SELECT name || '|' || account_number FROM salesforce.account WHERE id = $1", {id}),
      StrCat(tag, " one|", tag, "-1"));
  stack_->ExpectSameVersion("Account", "account", id);

  r =
      Psql({StrCat("UPDATE salesforce.account SET number_of_employees = 42, rating = 'Hot' "
                   "WHERE id = '",
                   id, "'")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "UPDATE 1\n");
  salesforce::Record updated = stack_->SfsimRecord("Account", id, "NumberOfEmployees, Rating");
  EXPECT_EQ(FieldText(updated, "NumberOfEmployees"), "42");
  EXPECT_EQ(FieldText(updated, "Rating"), "Hot");
  EXPECT_EQ(
      Owner("SELECT number_of_employees || '|' || rating FROM salesforce.account WHERE id = $1",
            {id}),
      "42|Hot");
  stack_->ExpectSameVersion("Account", "account", id);

  // Several rows in one INSERT.
  r = Psql(
      {StrCat("INSERT INTO salesforce.account (name, account_number) VALUES ('", tag, " two', '",
              tag, "-2'), ('", tag, " three', '", tag, "-3') RETURNING account_number")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, StrCat(tag, "-2\n", tag, "-3\nINSERT 0 2\n"));
  const std::string like = StrCat("'", tag, "-%'");
  EXPECT_EQ(
      stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber LIKE ", like)).size(), 3u);
  EXPECT_EQ(
      Owner(StrCat("SELECT count(*) FROM salesforce.account WHERE account_number LIKE ", like)),
      "3");

  // One query string mixing reads and a write: each statement sees the ones before it.
  r = Psql({StrCat("SELECT count(*) FROM salesforce.account WHERE account_number LIKE ", like,
                   "; UPDATE salesforce.account SET description = 'multi ' || account_number "
                   "WHERE account_number LIKE ",
                   like,
                   "; SELECT count(*) FROM salesforce.account WHERE description LIKE 'multi %' "
                   "AND account_number LIKE ",
                   like)});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "3\nUPDATE 3\n3\n");
  for (const auto& rec : stack_->Records(StrCat(
           "SELECT AccountNumber, Description FROM Account WHERE AccountNumber LIKE ", like))) {
    EXPECT_EQ(FieldText(rec, "Description"), "multi " + FieldText(rec, "AccountNumber"));
  }

  r = Psql({StrCat("DELETE FROM salesforce.account WHERE account_number = '", tag, "-3'")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "DELETE 1\n");
  EXPECT_EQ(
      stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber LIKE ", like)).size(), 2u);
  EXPECT_EQ(
      Owner(StrCat("SELECT count(*) FROM salesforce.account WHERE account_number LIKE ", like)),
      "2");

  // Salesforce refuses a Contact without LastName: psql shows the SQLSTATE and the message,
  // nothing changes anywhere, and the session goes on.
  const int64_t contacts = stack_->SfsimCount("Contact");
  const std::string rows = Owner("SELECT count(*) FROM salesforce.contact");
  r = Psql({"\\set VERBOSITY verbose",
            StrCat("INSERT INTO salesforce.contact (first_name) VALUES ('", tag, "')"),
            "\\echo sqlstate=:LAST_ERROR_SQLSTATE", "SELECT 'still usable'",
            StrCat("INSERT INTO salesforce.contact (first_name, last_name) VALUES ('After', '", tag,
                   "') RETURNING name")},
           /*stop_on_error=*/false);
  EXPECT_THAT(r.output, HasSubstr("ERROR:  23502: Required fields are missing")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("LastName (column last_name)")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("sqlstate=23502\nstill usable\nAfter " + tag + "\n")) << r.output;
  EXPECT_EQ(stack_->SfsimCount("Contact"), contacts + 1);
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.contact"), std::to_string(std::stoll(rows) + 1));
  EXPECT_EQ(stack_->Records(StrCat("SELECT Id FROM Contact WHERE FirstName = '", tag, "'")).size(),
            0u);
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.contact WHERE first_name = $1", {tag}), "0");

  // In an explicit transaction: the write is in Salesforce at once (psql shows the NOTICE), a
  // rejection aborts the transaction as any error does, and ROLLBACK does not undo the write.
  r = Psql({"BEGIN", StrCat("UPDATE salesforce.account SET rating = 'Warm' WHERE id = '", id, "'"),
            StrCat("INSERT INTO salesforce.contact (first_name) VALUES ('", tag, "')"),
            "SELECT 'in failed transaction'", "ROLLBACK",
            StrCat("SELECT rating FROM salesforce.account WHERE id = '", id, "'")},
           /*stop_on_error=*/false);
  EXPECT_THAT(r.output, HasSubstr("NOTICE:  the change is committed in Salesforce")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("current transaction is aborted")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ROLLBACK\nWarm\n")) << r.output;
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Account", id, "Rating"), "Rating"), "Warm");
  EXPECT_EQ(Owner("SELECT rating FROM salesforce.account WHERE id = $1", {id}), "Warm");
  stack_->ExpectSameVersion("Account", "account", id);

  // With ON_ERROR_STOP psql stops at the rejection and fails.
  r = Psql({StrCat("INSERT INTO salesforce.contact (first_name) VALUES ('", tag, "')"),
            "SELECT 'not reached'"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Required fields are missing"));
  EXPECT_THAT(r.output, Not(HasSubstr("not reached")));
}

TEST_F(ProxyE2eTest, PgbenchUpdatesInEveryProtocolAgreeWithSalesforce) {
  const std::string tag = UniqueName("bench");
  constexpr int kRows = 10;
  std::string values;
  for (int i = 1; i <= kRows; ++i) {
    StrAppend(&values, i > 1 ? ", " : "", "('", tag, " ", i, "', '", tag, "-", i, "')");
  }
  CommandResult r =
      Psql({StrCat("INSERT INTO salesforce.account (name, account_number) VALUES ", values)});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(r.output, StrCat("INSERT 0 ", kRows, "\n"));

  TempDir dir("sfbridge_e2e");
  for (const std::string mode : {"simple", "extended", "prepared"}) {
    const std::string script = dir.Path(mode + ".sql");
    std::ofstream(script) << "\\set k random(1, " << kRows << ")\n"
                          << "\\set n random(1, 99999999)\n"
                          << "UPDATE salesforce.account SET number_of_employees = :n, "
                          << "billing_city = 'pgbench " << mode << "' WHERE account_number = '"
                          << tag << "-' || :k;\n";
    const int64_t calls = stack_->SfsimCalls("composite");
    // 4 clients at once on 10 rows: concurrent updates of one record race in Salesforce and in
    // the writer alike.
    r = RunCommand({FindProgram("pgbench"), "-n", "-M", mode, "-c", "4", "-j", "2", "-t", "5", "-f",
                    script, stack_->ProxyUrl()},
                   {}, seconds(180));
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("number of transactions actually processed: 20/20"))
        << r.output;
    EXPECT_THAT(r.output, HasSubstr("number of failed transactions: 0 ")) << r.output;
    // Every transaction was one Composite call (its update and read-back) or shared one with
    // other clients' (coalescing).
    const int64_t used = stack_->SfsimCalls("composite") - calls;
    EXPECT_GE(used, 1) << mode;
    EXPECT_LE(used, 20) << mode;
    const std::string described = StrCat("'pgbench ", mode, "'");
    const size_t in_sfsim =
        stack_->Records(StrCat("SELECT Id FROM Account WHERE BillingCity = ", described)).size();
    EXPECT_GT(in_sfsim, 0u) << mode;
    EXPECT_EQ(
        Owner(StrCat("SELECT count(*) FROM salesforce.account WHERE billing_city = ", described)),
        std::to_string(in_sfsim))
        << mode;
  }

  // Every updated row holds what sfsim holds, value and version.
  std::vector<salesforce::Record> records = stack_->Records(
      StrCat("SELECT Id, NumberOfEmployees, BillingCity FROM Account WHERE AccountNumber "
             "LIKE '",
             tag, "-%'"));
  ASSERT_EQ(records.size(), static_cast<size_t>(kRows));
  for (const auto& rec : records) {
    EXPECT_EQ(Owner("SELECT coalesce(number_of_employees::text, '<null>') || '|' || "
                    "coalesce(billing_city, '<null>') "
                    "FROM salesforce.account WHERE id = $1",
                    {rec.id}),
              StrCat(FieldText(rec, "NumberOfEmployees"), "|", FieldText(rec, "BillingCity")))
        << rec.id;
    stack_->ExpectSameVersion("Account", "account", rec.id);
  }
  // And so does every synced table, as `sfbridge verify` sees it.
  CommandResult verify = stack_->Verify();
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("missing=0 extra=0 stale=0")) << verify.output;
  for (const char* object : {"Account", "Contact", "Invoice__c", "Shipment__c"}) {
    EXPECT_THAT(verify.output, HasSubstr(StrCat(object, " "))) << verify.output;
  }
}

// libpq with typed parameters (text and binary) of every kind the objects have: text, numeric,
// integer, boolean, date, time, timestamptz; a prepared statement run twice; a rejection.
TEST_F(ProxyE2eTest, LibpqTypedParameters) {
  PgConn conn = Connect(stack_->ProxyConnInfo());
  ASSERT_TRUE(conn);
  const std::string account =
      proxy::testing::Scalar(conn.get(), "SELECT min(id) FROM salesforce.account");
  ASSERT_EQ(account.size(), 18u) << account;
  const std::string notes = "libpq \xc3\xbc " + UniqueName("notes");

  // $5 is a binary int4 (3).
  const char three[4] = {0, 0, 0, 3};
  const char* values[] = {account.c_str(), "1234.56", "Sent", "2024-07-15", three, notes.c_str()};
  const int lengths[] = {0, 0, 0, 0, 4, 0};
  const int formats[] = {0, 0, 0, 0, 1, 0};
  const Oid types[] = {25, 1700, 25, 1082, 23, 25};
  PgResult inserted(PQexecParams(
      conn.get(),
      "INSERT INTO salesforce.invoice__c (account__c, amount__c, status__c, due_date__c, "
      "line_count__c, notes__c) VALUES ($1, $2, $3, $4, $5, $6) "
      "RETURNING id, name, amount__c, due_date__c, line_count__c",
      6, types, values, lengths, formats, 0));
  ASSERT_EQ(PQresultStatus(inserted.get()), PGRES_TUPLES_OK)
      << PQresultErrorMessage(inserted.get());
  EXPECT_STREQ(PQcmdStatus(inserted.get()), "INSERT 0 1");
  ASSERT_EQ(PQntuples(inserted.get()), 1);
  const std::string invoice = PQgetvalue(inserted.get(), 0, 0);
  EXPECT_EQ(invoice.substr(0, 3), "a00");
  EXPECT_STRNE(PQgetvalue(inserted.get(), 0, 1), "");  // the auto number Salesforce gave
  EXPECT_STREQ(PQgetvalue(inserted.get(), 0, 2), "1234.56");
  EXPECT_STREQ(PQgetvalue(inserted.get(), 0, 3), "2024-07-15");
  EXPECT_STREQ(PQgetvalue(inserted.get(), 0, 4), "3");
  salesforce::Record rec =
      stack_->SfsimRecord("Invoice__c", invoice,
                          "Name, Account__c, Amount__c, Status__c, Due_Date__c, Line_Count__c, "
                          "Notes__c");
  EXPECT_EQ(FieldText(rec, "Account__c"), account);
  EXPECT_EQ(std::stod(FieldText(rec, "Amount__c")), 1234.56);
  EXPECT_EQ(FieldText(rec, "Status__c"), "Sent");
  EXPECT_EQ(FieldText(rec, "Due_Date__c"), "2024-07-15");
  EXPECT_EQ(std::stod(FieldText(rec, "Line_Count__c")), 3);
  EXPECT_EQ(FieldText(rec, "Notes__c"), notes);
  EXPECT_EQ(Owner("SELECT concat_ws('|', name, account__c, amount__c, status__c, due_date__c, "
                  "line_count__c, notes__c) FROM salesforce.invoice__c WHERE id = $1",
                  {invoice}),
            StrCat(FieldText(rec, "Name"), "|", account, "|1234.56|Sent|2024-07-15|3|", notes));
  stack_->ExpectSameVersion("Invoice__c", "invoice__c", invoice);

  // A Shipment: boolean (binary), timestamptz with an offset, time, double, multipicklist.
  const char yes[1] = {1};
  const char* svalues[] = {
      "E2E parcel", invoice.c_str(),    "12.345", yes, "2024-05-06 07:08:09.123+02",
      "13:45:00",   "Express;Insurance"};
  const int slengths[] = {0, 0, 0, 1, 0, 0, 0};
  const int sformats[] = {0, 0, 0, 1, 0, 0, 0};
  const Oid stypes[] = {25, 25, 1700, 16, 1184, 1083, 25};
  PgResult shipped(PQexecParams(
      conn.get(),
      "INSERT INTO salesforce.shipment__c (name, invoice__c, weight_kg__c, insured__c, "
      "shipped_at__c, pickup_time__c, services__c) VALUES ($1, $2, $3, $4, $5, $6, $7) "
      "RETURNING id",
      7, stypes, svalues, slengths, sformats, 0));
  ASSERT_EQ(PQresultStatus(shipped.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(shipped.get());
  const std::string shipment = PQgetvalue(shipped.get(), 0, 0);
  rec = stack_->SfsimRecord("Shipment__c", shipment,
                            "Invoice__c, Weight_Kg__c, Insured__c, Shipped_At__c, Pickup_Time__c, "
                            "Services__c");
  EXPECT_EQ(FieldText(rec, "Invoice__c"), invoice);
  EXPECT_EQ(std::stod(FieldText(rec, "Weight_Kg__c")), 12.345);
  EXPECT_EQ(FieldText(rec, "Insured__c"), "true");
  EXPECT_THAT(FieldText(rec, "Shipped_At__c"), ::testing::StartsWith("2024-05-06T05:08:09.123"));
  EXPECT_THAT(FieldText(rec, "Pickup_Time__c"), ::testing::StartsWith("13:45:00"));
  EXPECT_EQ(FieldText(rec, "Services__c"), "Express;Insurance");
  EXPECT_EQ(Owner("SELECT concat_ws('|', invoice__c, weight_kg__c, insured__c, "
                  "shipped_at__c AT TIME ZONE 'UTC', pickup_time__c, services__c) "
                  "FROM salesforce.shipment__c WHERE id = $1",
                  {shipment}),
            StrCat(invoice, "|12.345|t|2024-05-06 05:08:09.123|13:45:00|Express;Insurance"));

  // A named prepared UPDATE, executed twice with other values.
  const Oid utypes[] = {16, 1700, 25};
  PgResult prepared(PQprepare(conn.get(), "e2e_update",
                              "UPDATE salesforce.shipment__c SET insured__c = $1, "
                              "weight_kg__c = weight_kg__c + $2 WHERE id = $3",
                              3, utypes));
  ASSERT_EQ(PQresultStatus(prepared.get()), PGRES_COMMAND_OK)
      << PQresultErrorMessage(prepared.get());
  for (const char* add : {"0.655", "1"}) {
    const char* uvalues[] = {"false", add, shipment.c_str()};
    PgResult updated(PQexecPrepared(conn.get(), "e2e_update", 3, uvalues, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(updated.get()), PGRES_COMMAND_OK)
        << PQresultErrorMessage(updated.get());
    EXPECT_STREQ(PQcmdStatus(updated.get()), "UPDATE 1");
  }
  rec = stack_->SfsimRecord("Shipment__c", shipment, "Weight_Kg__c, Insured__c");
  EXPECT_EQ(std::stod(FieldText(rec, "Weight_Kg__c")), 14);
  EXPECT_EQ(FieldText(rec, "Insured__c"), "false");
  EXPECT_EQ(Owner("SELECT weight_kg__c || '|' || insured__c FROM salesforce.shipment__c "
                  "WHERE id = $1",
                  {shipment}),
            "14.000|false");
  stack_->ExpectSameVersion("Shipment__c", "shipment__c", shipment);

  // Salesforce's validation rule refuses Paid At on an invoice that is not paid: 23514 with the
  // column, nothing changes, and the connection goes on.
  const char* pvalues[] = {"2024-08-01 10:00:00+00", invoice.c_str()};
  const Oid ptypes[] = {1184, 25};
  PgResult refused(PQexecParams(conn.get(),
                                "UPDATE salesforce.invoice__c SET paid_at__c = $1 WHERE id = $2", 2,
                                ptypes, pvalues, nullptr, nullptr, 0));
  EXPECT_EQ(PQresultStatus(refused.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(SqlState(refused.get()), "23514") << PQresultErrorMessage(refused.get());
  const char* column = PQresultErrorField(refused.get(), PG_DIAG_COLUMN_NAME);
  EXPECT_STREQ(column != nullptr ? column : "", "paid_at__c");
  EXPECT_THAT(PQresultErrorMessage(refused.get()), HasSubstr("Paid At can only be set"));
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Invoice__c", invoice, "Paid_At__c"), "Paid_At__c"),
            "<null>");
  EXPECT_EQ(Owner("SELECT coalesce(paid_at__c::text, '<null>') FROM salesforce.invoice__c "
                  "WHERE id = $1",
                  {invoice}),
            "<null>");
  EXPECT_EQ(proxy::testing::Scalar(conn.get(), "SELECT 'still usable'"), "still usable");
}

// psycopg 3: parameters, RETURNING, executemany, pipeline mode, the exception classes of
// Salesforce's rejections and a connection that goes on after a rollback.
TEST_F(ProxyE2eTest, Psycopg3WritesPipelineAndErrors) {
  const std::string tag = UniqueName("psycopg");
  CommandResult r = RunCommand(
      {"/usr/bin/python3", sfbridge::testing::SourceDir() + "/tests/integration/proxy_e2e/psycopg_client.py",
       stack_->ProxyUrl(), tag},
      {}, seconds(180));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> out = Lines(r.output);
  ASSERT_FALSE(out.empty());
  const std::string json = out.back();
  auto id_of = [&](const std::string& key) {
    std::smatch m;
    std::regex_search(json, m, std::regex(StrCat("\"", key, "\": \"([0-9A-Za-z]{18})\"")));
    return m.size() > 1 ? m[1].str() : std::string();
  };
  const std::string inserted = id_of("inserted"), piped = id_of("piped"),
                    deleted = id_of("deleted");
  ASSERT_EQ(inserted.size(), 18u) << json;
  ASSERT_EQ(piped.size(), 18u) << json;
  ASSERT_EQ(deleted.size(), 18u) << json;

  // The pipeline that failed is all or none: the write before the rejection is not applied
  // either (nowhere), and the one after it was skipped, as PostgreSQL skips the rest of a failed
  // pipeline.
  EXPECT_THAT(json, HasSubstr("\"pipeline_error_department\": null"));

  salesforce::Record rec = stack_->SfsimRecord(
      "Contact", inserted, "Name, Email, Title, DoNotCall, Birthdate, Description");
  EXPECT_EQ(FieldText(rec, "Description"), "it's inlined \\ as is");
  EXPECT_EQ(Owner("SELECT description FROM salesforce.contact WHERE id = $1", {inserted}),
            "it's inlined \\ as is");
  EXPECT_EQ(FieldText(rec, "Name"), "Ada " + tag);
  EXPECT_EQ(FieldText(rec, "Email"), tag + "@example.com");  // the rejected email never landed
  EXPECT_EQ(FieldText(rec, "Title"), "After rollback");
  EXPECT_EQ(FieldText(rec, "DoNotCall"), "false");
  EXPECT_EQ(FieldText(rec, "Birthdate"), "1991-04-05");
  EXPECT_EQ(Owner("SELECT concat_ws('|', name, email, title, do_not_call, birthdate) "
                  "FROM salesforce.contact WHERE id = $1",
                  {inserted}),
            StrCat("Ada ", tag, "|", tag, "@example.com|After rollback|f|1991-04-05"));
  stack_->ExpectSameVersion("Contact", "contact", inserted);

  // Every Contact of the tag, in sfsim and in the table alike.
  std::vector<salesforce::Record> records = stack_->Records(
      StrCat("SELECT Id, FirstName, Department FROM Contact WHERE LastName = '", tag, "'"));
  std::vector<std::string> in_sfsim, in_table;
  for (const auto& c : records) {
    in_sfsim.push_back(StrCat(FieldText(c, "FirstName"), ":", FieldText(c, "Department")));
  }
  std::sort(in_sfsim.begin(), in_sfsim.end());
  EXPECT_EQ(core::StrJoin(in_sfsim, ","),
            "Ada:<null>,Many1:Pipeline,Many2:Pipeline,Many3:Pipeline,Many4:<null>,Piped:Pipeline");
  EXPECT_EQ(Owner("SELECT string_agg(first_name || ':' || coalesce(department, '<null>'), ',' "
                  "ORDER BY first_name) FROM salesforce.contact WHERE last_name = $1",
                  {tag}),
            core::StrJoin(in_sfsim, ","));
  for (const auto& c : records) stack_->ExpectSameVersion("Contact", "contact", c.id);
  EXPECT_TRUE(stack_->Records(StrCat("SELECT Id FROM Contact WHERE Id = '", deleted, "'")).empty());
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce._tombstones WHERE id = $1", {deleted}), "1");
  EXPECT_TRUE(
      stack_->Records(StrCat("SELECT Id FROM Contact WHERE FirstName = '", tag, "-rejected'"))
          .empty());
}

// pgjdbc: PreparedStatement counts, batches, generated keys, RETURNING, a delete, and the
// SQLState of a rejected write.
TEST_F(ProxyE2eTest, PgjdbcPreparedStatementsBatchesAndKeys) {
  const std::string tag = UniqueName("jdbc");
  TempDir dir("sfbridge_e2e");
  CommandResult compile =
      RunCommand({FindProgram("javac"), "-d", dir.path(),
                  sfbridge::testing::SourceDir() + "/tests/integration/proxy_e2e/JdbcClient.java"},
                 {}, seconds(180));
  ASSERT_EQ(compile.exit_code, 0) << compile.output;
  const std::string url =
      StrCat("jdbc:postgresql://127.0.0.1:", stack_->proxy_port(), "/", stack_->database());
  CommandResult r =
      RunCommand({FindProgram("java"), "-cp", dir.path() + ":/usr/share/java/postgresql.jar",
                  "JdbcClient", url, stack_->app_role(), tag},
                 {}, seconds(180));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("rejected=23502\n"));
  EXPECT_THAT(r.output, HasSubstr("jdbc ok\n"));
  EXPECT_THAT(r.output, HasSubstr("warning=")) << r.output;
  EXPECT_EQ(stack_
                ->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber LIKE '", tag,
                                 "-rewritten-%'"))
                .size(),
            4u);
  EXPECT_EQ(Owner(StrCat("SELECT count(*) FROM salesforce.account WHERE account_number LIKE '", tag,
                         "-rewritten-%'")),
            "4");
  const std::string website = StrCat("https://", tag, ".example.com");
  std::vector<salesforce::Record> updatable = stack_->Records(
      StrCat("SELECT Website FROM Account WHERE AccountNumber = '", tag, "-batch-2'"));
  ASSERT_EQ(updatable.size(), 1u);
  EXPECT_EQ(FieldText(updatable[0], "Website"), website);
  EXPECT_EQ(
      Owner("SELECT website FROM salesforce.account WHERE account_number = $1", {tag + "-batch-2"}),
      website);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("key=([0-9A-Za-z]{18})"))) << r.output;
  const std::string key = m[1];

  salesforce::Record rec = stack_->SfsimRecord(
      "Account", key, "Name, AccountNumber, AnnualRevenue, NumberOfEmployees, Description");
  EXPECT_EQ(FieldText(rec, "Name"), tag + " jdbc");
  EXPECT_EQ(std::stod(FieldText(rec, "AnnualRevenue")), 2500000);
  EXPECT_EQ(FieldText(rec, "NumberOfEmployees"), "103");
  EXPECT_EQ(FieldText(rec, "Description"), "after rollback");
  EXPECT_EQ(Owner("SELECT concat_ws('|', name, annual_revenue, number_of_employees, description) "
                  "FROM salesforce.account WHERE id = $1",
                  {key}),
            StrCat(tag, " jdbc|2500000|103|after rollback"));
  stack_->ExpectSameVersion("Account", "account", key);

  std::vector<std::string> in_sfsim;
  for (const auto& a : stack_->Records(
           StrCat("SELECT AccountNumber, Rating, Description FROM Account WHERE AccountNumber "
                  "LIKE '",
                  tag, "-batch-%'"))) {
    in_sfsim.push_back(StrCat(FieldText(a, "AccountNumber").substr(tag.size() + 1), ":",
                              FieldText(a, "Rating"), ":", FieldText(a, "Description")));
  }
  std::sort(in_sfsim.begin(), in_sfsim.end());
  EXPECT_EQ(core::StrJoin(in_sfsim, ","),
            "batch-1:Cold:returned by jdbc,batch-2:Warm:<null>,batch-3:Cold:<null>,"
            "batch-4:Warm:<null>");
  EXPECT_EQ(Owner("SELECT string_agg(substr(account_number, $2) || ':' || rating || ':' || "
                  "coalesce(description, '<null>'), ',' ORDER BY account_number) "
                  "FROM salesforce.account WHERE account_number LIKE $1",
                  {tag + "-batch-%", std::to_string(tag.size() + 2)}),
            core::StrJoin(in_sfsim, ","));
  EXPECT_TRUE(
      stack_->Records(StrCat("SELECT Id FROM Contact WHERE FirstName = '", tag, "-rejected'"))
          .empty());
}

// The org's API budget in the control plane bounds the proxy too: with no token to be had, a
// write fails with 53400 before Salesforce is called; with the budget back, writes go on.
TEST_F(ProxyE2eTest, WritesWaitForTheOrgsBudget) {
  const std::string tag = UniqueName("budget");
  auto set_rate = [&](int rate) {
    return Owner("UPDATE sfbridge.orgs SET rate_per_second = $2 WHERE org_id = $1 RETURNING 1",
                 {stack_->org_id(), std::to_string(rate)});
  };
  ASSERT_EQ(set_rate(0), "1");
  ASSERT_EQ(Owner("UPDATE sfbridge.rate_buckets SET tokens = 0 WHERE org_id = $1 RETURNING 1",
                  {stack_->org_id()}),
            "1");
  const int64_t creates = stack_->SfsimCalls("composite");
  const int64_t accounts = stack_->SfsimCount("Account");
  CommandResult r =
      Psql({"\\set VERBOSITY verbose",
            StrCat("INSERT INTO salesforce.account (name) VALUES ('", tag, "') RETURNING id")});
  const std::string restored = set_rate(1000);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ERROR:  53400: the Salesforce API budget of org")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Nothing was sent to Salesforce")) << r.output;
  EXPECT_EQ(stack_->SfsimCalls("composite"), creates);
  EXPECT_EQ(stack_->SfsimCount("Account"), accounts);
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account WHERE name = $1", {tag}), "0");

  ASSERT_EQ(restored, "1");
  r = Psql({StrCat("INSERT INTO salesforce.account (name) VALUES ('", tag, "') RETURNING id")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string id = Lines(r.output).at(0);
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Account", id, "Name"), "Name"), tag);
  EXPECT_EQ(Owner("SELECT name FROM salesforce.account WHERE id = $1", {id}), tag);
}

}  // namespace
}  // namespace sfbridge::proxy::e2e
