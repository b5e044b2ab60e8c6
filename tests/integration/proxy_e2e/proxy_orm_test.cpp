// ORMs and query builders, unmodified, write through the sfbridge-proxy program to synced tables
// with the whole product running as programs (sfsim, fetcher, writer, proxy; real PostgreSQL and
// Kafka): SQLAlchemy 2's ORM (sqlalchemy_client.py), Django's ORM (django_client.py over the
// managed = False models of sfapp/models.py) and Knex with pg (knex_client.js). Each test runs
// one flow of one client, which asserts what the framework itself reports and prints the ids
// it wrote as JSON; the test then checks each write in sfsim (SOQL through its REST API and its
// digest) and in the table (read directly as the tables' owner). A write Salesforce refuses
// gives the framework's usual error and leaves nothing in sfsim or in the table.
//
// The clients come from scripts/install-test-clients.sh (called by scripts/install-deps.sh):
// a Python virtual environment and a node_modules folder, found through .cache/test-clients in
// the source tree or SFBRIDGE_TEST_CLIENTS.
//
// The stack starts once for the whole binary; every test works on records of its own, named
// with a unique tag.
// Over 500 lines on purpose: the stack starts once for the binary (its backfill takes most of a
// minute), so every client's flows live here rather than in binaries that would each start one.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <iostream>
#include <regex>
#include <sstream>

#include "common/core/strings.h"
#include "tests/harness/test_env.h"
#include "tests/integration/sync_test_support.h"
#include "tests/integration/proxy_e2e/e2e_stack.h"

namespace sfbridge::proxy::e2e {
namespace {

using core::StrCat;
using sfbridge::testing::CommandResult;
using sfbridge::testing::FindProgram;
using sfbridge::testing::RunCommand;
using sfbridge::testing::SourceDir;
using sfbridge::testing::TempDir;
using sfbridge::testing::UniqueName;
using std::chrono::seconds;
using ::testing::HasSubstr;

// The installed clients: SFBRIDGE_TEST_CLIENTS, else the link install-test-clients.sh keeps.
std::string ClientsDir() {
  const char* dir = std::getenv("SFBRIDGE_TEST_CLIENTS");
  return dir != nullptr && *dir != '\0' ? dir : SourceDir() + "/.cache/test-clients";
}

std::string LastLine(const std::string& text) {
  std::string last;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) last = line;
  }
  return last;
}

// The string value of `"key": "..."` in a flat JSON object; "" when absent.
std::string JsonString(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m,
                         std::regex(StrCat("\"", key, "\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"")))) {
    return "";
  }
  return m[1];
}

// The strings of `"key": ["...", ...]`.
std::vector<std::string> JsonStrings(const std::string& json, const std::string& key) {
  std::smatch m;
  std::vector<std::string> values;
  if (!std::regex_search(json, m, std::regex(StrCat("\"", key, "\":\\s*\\[([^\\]]*)\\]")))) {
    return values;
  }
  const std::string list = m[1];
  const std::regex item("\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), item); it != std::sregex_iterator();
       ++it) {
    values.push_back((*it)[1]);
  }
  return values;
}

class ProxyOrmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new E2eStack({{"User", 3}, {"Account", 30}, {"Contact", 30}});
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(stack_->ok()) << "the stack did not start";
    ASSERT_EQ(access((ClientsDir() + "/.complete").c_str(), F_OK), 0)
        << "no test clients in " << ClientsDir() << ": run scripts/install-test-clients.sh";
  }
  void TearDown() override {
    if (HasFailure()) std::cout << stack_->LogTails() << std::flush;
  }

  // Runs one flow of a client script through the proxy; its whole output (the framework's SQL
  // log included) is printed when it fails. Returns the JSON of its last line, "" on failure.
  static std::string Run(const std::string& framework, const std::string& flow,
                         const std::string& tag, const std::string& url = "") {
    const std::string dir = SourceDir() + "/tests/integration/proxy_e2e/";
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    if (framework == "knex") {
      argv = {FindProgram("node"), dir + "knex_client.js"};
      env["NODE_PATH"] = ClientsDir() + "/node/node_modules";
    } else {
      argv = {ClientsDir() + "/venv/bin/python", dir + framework + "_client.py"};
    }
    argv.insert(argv.end(), {url.empty() ? stack_->ProxyUrl() : url, tag, flow});
    CommandResult r = RunCommand(argv, env, seconds(180));
    EXPECT_EQ(r.exit_code, 0) << framework << " " << flow << " failed; its output:\n"
                              << r.output << "\n"
                              << (url.empty() ? WhatTheTagLeft(tag) : "");
    if (r.exit_code != 0) return "";
    std::cout << r.output << std::flush;  // the SQL the framework sent, for the log
    return LastLine(r.output);
  }

  // After a client failed: the records of its tag in sfsim and the rows in the tables, so the
  // failure tells which of its writes were made before the error.
  static std::string WhatTheTagLeft(const std::string& tag) {
    std::string out = "left by " + tag + ": in sfsim";
    for (const auto& a :
         stack_->Records(StrCat("SELECT Id, AccountNumber FROM Account WHERE AccountNumber "
                                "LIKE '",
                                tag, "-%'"))) {
      out += StrCat(" Account ", a.id, " (", FieldText(a, "AccountNumber"), ")");
    }
    for (const auto& c :
         stack_->Records(StrCat("SELECT Id FROM Contact WHERE LastName = '", tag, "'"))) {
      out += StrCat(" Contact ", c.id);
    }
    return StrCat(
        out, "; in the tables ",
        Owner("SELECT count(*) FROM salesforce.account WHERE account_number LIKE $1", {tag + "-%"}),
        " accounts, ", Owner("SELECT count(*) FROM salesforce.contact WHERE last_name = $1", {tag}),
        " contacts");
  }

  static std::string Owner(const std::string& sql, const postgres::Params& params = {}) {
    return stack_->OwnerScalar(sql, params);
  }
  // "AccountNumber:Name:Rating" of every Account whose AccountNumber starts with `tag`-, in
  // sfsim and in the table alike (sorted); fails the test when they differ.
  static std::string TaggedAccounts(const std::string& tag) {
    std::vector<std::string> in_sfsim;
    for (const auto& a :
         stack_->Records(StrCat("SELECT Id, AccountNumber, Name, Rating FROM Account WHERE "
                                "AccountNumber LIKE '",
                                tag, "-%'"))) {
      in_sfsim.push_back(StrCat(FieldText(a, "AccountNumber"), ":", FieldText(a, "Name"), ":",
                                FieldText(a, "Rating")));
      stack_->ExpectSameVersion("Account", "account", a.id);
    }
    std::sort(in_sfsim.begin(), in_sfsim.end());
    const std::string sfsim = core::StrJoin(in_sfsim, ",");
    const std::string table = Owner(
        "SELECT coalesce(string_agg(account_number || ':' || coalesce(name, '<null>') || ':' || "
        "coalesce(rating, '<null>'), ',' ORDER BY account_number), '') "
        "FROM salesforce.account WHERE account_number LIKE $1",
        {tag + "-%"});
    EXPECT_EQ(table, sfsim) << "the table and sfsim differ";
    return sfsim;
  }

  // The "update" flow of `framework`: its Account's Rating, NumberOfEmployees and BillingCity
  // set to Hot, 42 and Lyon, in sfsim and in the table, at sfsim's version.
  static void ExpectUpdateFlow(const std::string& framework, const std::string& tag_prefix) {
    const std::string tag = UniqueName(tag_prefix);
    const std::string json = Run(framework, "update", tag);
    const std::string id = JsonString(json, "account");
    ASSERT_EQ(id.size(), 18u) << json;
    salesforce::Record rec =
        stack_->SfsimRecord("Account", id, "Rating, NumberOfEmployees, BillingCity");
    EXPECT_EQ(FieldText(rec, "Rating"), "Hot");
    EXPECT_EQ(FieldText(rec, "NumberOfEmployees"), "42");
    EXPECT_EQ(FieldText(rec, "BillingCity"), "Lyon");
    EXPECT_EQ(Owner("SELECT concat_ws('|', rating, number_of_employees, billing_city) "
                    "FROM salesforce.account WHERE id = $1",
                    {id}),
              "Hot|42|Lyon");
    stack_->ExpectSameVersion("Account", "account", id);
  }

  // A flow whose only write is an Account without Name: Salesforce refuses it (23502), the
  // framework raises its usual error, and nothing changed in sfsim or in the table.
  static void ExpectRefusedWriteLeavesNothing(const std::string& framework) {
    const std::string tag = UniqueName(framework.substr(0, 4) + "_ref");
    const int64_t accounts = stack_->SfsimCount("Account");
    const std::string rows = Owner("SELECT count(*) FROM salesforce.account");
    const std::string json = Run(framework, "refused", tag);
    EXPECT_EQ(JsonString(json, "sqlstate"), "23502") << json;
    EXPECT_THAT(JsonString(json, "error"), HasSubstr("Required fields are missing")) << json;
    EXPECT_EQ(stack_->SfsimCount("Account"), accounts);
    EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account"), rows);
    EXPECT_TRUE(
        stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber = '", tag, "-refused'"))
            .empty());
    EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account WHERE account_number = $1",
                    {tag + "-refused"}),
              "0");
  }

  // Deferred transactions (the tests at the end): runs a flow of deferred_client.py.
  static std::string RunDeferred(const std::string& flow, const std::string& tag,
                                 const std::string& existing = "") {
    std::vector<std::string> argv = {ClientsDir() + "/venv/bin/python",
                                     SourceDir() + "/tests/integration/proxy_e2e/deferred_client.py",
                                     stack_->ProxyUrl(), tag, flow};
    if (!existing.empty()) argv.push_back(existing);
    CommandResult r = RunCommand(argv, {}, seconds(180));
    EXPECT_EQ(r.exit_code, 0) << flow << ":\n" << r.output;
    return LastLine(r.output);
  }

  // Batches (the tests at the end).
  struct BatchResult {
    std::string error;  // the SQLSTATE the driver raised, "none" when it raised nothing
    std::string rows;   // the batch's rows the client read back through the proxy
  };

  static BatchResult RunBatch(const std::string& flow, const std::string& tag, bool bad) {
    const std::string dir = SourceDir() + "/tests/integration/proxy_e2e/";
    BatchResult out;
    if (flow == "pgjdbc_execute_batch") {
      TempDir classes("sfbridge_batch");
      CommandResult compile = RunCommand(
          {FindProgram("javac"), "-d", classes.path(), dir + "JdbcBatch.java"}, {}, seconds(180));
      EXPECT_EQ(compile.exit_code, 0) << compile.output;
      const std::string url =
          StrCat("jdbc:postgresql://127.0.0.1:", stack_->proxy_port(), "/", stack_->database());
      CommandResult r = RunCommand(
          {FindProgram("java"), "-cp", classes.path() + ":/usr/share/java/postgresql.jar",
           "JdbcBatch", url, stack_->app_role(), tag, bad ? "1" : "0"},
          {}, seconds(180));
      EXPECT_EQ(r.exit_code, 0) << r.output;
      std::smatch m;
      if (std::regex_search(r.output, m, std::regex("error=(\\w+)"))) out.error = m[1];
      if (std::regex_search(r.output, m, std::regex("rows=(\\d+)"))) out.rows = m[1];
      return out;
    }
    std::vector<std::string> argv = {ClientsDir() + "/venv/bin/python",
                                     dir + "batch_client.py",
                                     stack_->ProxyUrl(),
                                     tag,
                                     flow,
                                     bad ? "1" : "0"};
    if (flow == "pgx_send_batch") {
      argv = {ClientsDir() + "/pgx_client", stack_->ProxyUrl(), tag, bad ? "1" : "0"};
      EXPECT_EQ(access(argv[0].c_str(), X_OK), 0)
          << "no " << argv[0] << ": scripts/install-test-clients.sh builds it with Go";
    }
    CommandResult r = RunCommand(argv, {}, seconds(180));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::string json = LastLine(r.output);
    std::smatch m;
    if (std::regex_search(json, m, std::regex("\"error\":\\s*\"?(\\w+)"))) {
      out.error = m[1] == "null" ? "none" : std::string(m[1]);
    }
    if (std::regex_search(json, m, std::regex("\"rows\":\\s*(\\d+)"))) out.rows = m[1];
    return out;
  }

  static void ExpectAllOrNone(const std::string& flow) {
    const std::string bad_tag = UniqueName("batch_bad");
    BatchResult refused = RunBatch(flow, bad_tag, true);
    EXPECT_EQ(refused.error, "23502") << flow;
    EXPECT_EQ(refused.rows, "0") << flow;
    EXPECT_TRUE(
        stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber LIKE '", bad_tag, "-%'"))
            .empty())
        << flow << ": nothing of the refused batch may be in Salesforce";
    EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account WHERE account_number LIKE $1",
                    {bad_tag + "-%"}),
              "0")
        << flow;

    const std::string tag = UniqueName("batch_ok");
    const int64_t calls = stack_->SfsimCalls("composite");
    BatchResult applied = RunBatch(flow, tag, false);
    EXPECT_EQ(applied.error, "none") << flow;
    EXPECT_EQ(applied.rows, "5") << flow;
    EXPECT_EQ(stack_->SfsimCalls("composite"), calls + 1) << flow << ": one API call per batch";
    std::vector<salesforce::Record> in_sfsim =
        stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber LIKE '", tag, "-%'"));
    EXPECT_EQ(in_sfsim.size(), 5u) << flow;
    EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account WHERE account_number LIKE $1 AND "
                    "length(id) = 18 AND id NOT LIKE '000p%' AND _modstamp_ms > 0",
                    {tag + "-%"}),
              "5")
        << flow;
    if (!in_sfsim.empty()) stack_->ExpectSameVersion("Account", "account", in_sfsim[0].id);
  }

  static E2eStack* stack_;
};
E2eStack* ProxyOrmTest::stack_ = nullptr;

// Statements that make plain PostgreSQL stand in for Salesforce and the sync: triggers give
// ids, system fields, the Contact's Name formula and the sync's columns, and refuse an Account
// without Name as Salesforce does (23502).
const char* const kStandInTriggers[] = {
    "CREATE SEQUENCE salesforce.ids",
    "CREATE FUNCTION salesforce.now_ms() RETURNS timestamptz LANGUAGE sql "
    "AS $$ SELECT date_trunc('milliseconds', clock_timestamp()) $$",
    R"sql(CREATE FUNCTION salesforce.on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'account' AND NEW.name IS NULL THEN
    RAISE EXCEPTION 'Required fields are missing: [Name]' USING ERRCODE = '23502';
  END IF;
  NEW.id := TG_ARGV[0] || lpad(nextval('salesforce.ids')::text, 15, '0');
  NEW.owner_id := coalesce(NEW.owner_id, '005000000000001AAA');
  NEW.is_deleted := false;
  NEW.created_date := salesforce.now_ms();
  NEW.last_modified_date := NEW.created_date;
  NEW.system_modstamp := NEW.created_date;
  NEW.created_by_id := '005000000000001AAA';
  NEW.last_modified_by_id := NEW.created_by_id;
  NEW._synced_at := now();
  NEW._modstamp_ms := (extract(epoch FROM NEW.system_modstamp) * 1000)::bigint;
  RETURN NEW;
END $$)sql",
    R"sql(CREATE FUNCTION salesforce.on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.last_modified_date := salesforce.now_ms();
  NEW.system_modstamp := NEW.last_modified_date;
  NEW._synced_at := now();
  NEW._modstamp_ms := (extract(epoch FROM NEW.system_modstamp) * 1000)::bigint;
  RETURN NEW;
END $$)sql",
    R"sql(CREATE FUNCTION salesforce.contact_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := CASE WHEN NEW.last_name IS NOT NULL
                   THEN concat_ws(' ', NEW.first_name, NEW.last_name) END;
  RETURN NEW;
END $$)sql",
    "CREATE TRIGGER i BEFORE INSERT ON salesforce.account "
    "FOR EACH ROW EXECUTE FUNCTION salesforce.on_insert('001')",
    "CREATE TRIGGER u BEFORE UPDATE ON salesforce.account "
    "FOR EACH ROW EXECUTE FUNCTION salesforce.on_update()",
    "CREATE TRIGGER i BEFORE INSERT ON salesforce.contact "
    "FOR EACH ROW EXECUTE FUNCTION salesforce.on_insert('003')",
    "CREATE TRIGGER u BEFORE UPDATE ON salesforce.contact "
    "FOR EACH ROW EXECUTE FUNCTION salesforce.on_update()",
    "CREATE TRIGGER n BEFORE INSERT OR UPDATE ON salesforce.contact "
    "FOR EACH ROW EXECUTE FUNCTION salesforce.contact_name()",
};

// The clients' own assertions are PostgreSQL's semantics: every flow passes against PostgreSQL
// itself, over tables with the synced tables' columns and triggers standing in for Salesforce.
// What the proxy must do is what this does (with Salesforce's values).
TEST_F(ProxyOrmTest, EveryFlowPassesOnPostgresqlItselfWithTriggersForSalesforce) {
  sfbridge::testing::TempDatabase db;
  auto conn = postgres::Connection::Connect(db.url());
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE((*conn)->Exec("CREATE SCHEMA salesforce").ok());
  for (const std::string table : {"account", "contact"}) {
    const std::string ddl = Owner(
        "SELECT format('CREATE TABLE salesforce.%I (%s, PRIMARY KEY (id))', $1::text, "
        "string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)), ', ' "
        "ORDER BY attnum)) FROM pg_attribute "
        "WHERE attrelid = format('salesforce.%I', $1::text)::regclass AND attnum > 0 "
        "AND NOT attisdropped",
        {table});
    auto created = (*conn)->Exec(ddl);
    ASSERT_TRUE(created.ok()) << ddl << ": " << created.status();
  }
  for (const char* sql : kStandInTriggers) {
    auto r = (*conn)->Exec(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }
  const std::map<std::string, std::vector<std::string>> flows = {
      {"sqlalchemy", {"add_commit", "add_all", "update", "delete", "orm_statements", "refused"}},
      {"django", {"create", "save", "bulk_create", "update", "delete", "get_or_create", "refused"}},
      {"knex", {"insert_returning", "update", "delete", "transaction", "refused"}},
  };
  for (const auto& [framework, names] : flows) {
    for (const std::string& flow : names) {
      const std::string json =
          Run(framework, flow, UniqueName(framework.substr(0, 4) + "_pg"), db.url());
      if (flow == "refused") {
        EXPECT_EQ(JsonString(json, "sqlstate"), "23502") << json;
      }
    }
  }
}

// ---------------------------------------------------------------------------------- SQLAlchemy

TEST_F(ProxyOrmTest, SqlAlchemyAddCommitThenAttributesReadBackTheRow) {
  const std::string tag = UniqueName("sqla_add");
  const std::string json = Run("sqlalchemy", "add_commit", tag);
  const std::string account = JsonString(json, "account"), contact = JsonString(json, "contact");
  ASSERT_EQ(account.size(), 18u) << json;
  ASSERT_EQ(contact.size(), 18u) << json;
  salesforce::Record rec =
      stack_->SfsimRecord("Account", account, "Name, AccountNumber, NumberOfEmployees");
  EXPECT_EQ(FieldText(rec, "Name"), tag + " one");
  EXPECT_EQ(FieldText(rec, "AccountNumber"), tag + "-1");
  EXPECT_EQ(FieldText(rec, "NumberOfEmployees"), "7");
  EXPECT_EQ(Owner("SELECT concat_ws('|', name, account_number, number_of_employees) "
                  "FROM salesforce.account WHERE id = $1",
                  {account}),
            StrCat(tag, " one|", tag, "-1|7"));
  stack_->ExpectSameVersion("Account", "account", account);
  rec = stack_->SfsimRecord("Contact", contact, "Name, FirstName, LastName, AccountId");
  EXPECT_EQ(FieldText(rec, "Name"), "Grace " + tag);
  EXPECT_EQ(FieldText(rec, "AccountId"), account);
  EXPECT_EQ(Owner("SELECT concat_ws('|', name, account_id) FROM salesforce.contact WHERE id = $1",
                  {contact}),
            StrCat("Grace ", tag, "|", account));
  stack_->ExpectSameVersion("Contact", "contact", contact);
}

TEST_F(ProxyOrmTest, SqlAlchemyAddAll) {
  const std::string tag = UniqueName("sqla_all");
  const std::string json = Run("sqlalchemy", "add_all", tag);
  std::vector<std::string> ids = JsonStrings(json, "accounts");
  ASSERT_EQ(ids.size(), 3u) << json;
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-1:", tag, " 1:Warm,", tag, "-2:", tag, " 2:Warm,",
                                        tag, "-3:", tag, " 3:Warm"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Owner("SELECT account_number FROM salesforce.account WHERE id = $1", {ids[i]}),
              StrCat(tag, "-", i + 1));
  }
}

TEST_F(ProxyOrmTest, SqlAlchemyUpdate) { ExpectUpdateFlow("sqlalchemy", "sqla_upd"); }

TEST_F(ProxyOrmTest, SqlAlchemyDelete) {
  const std::string tag = UniqueName("sqla_del");
  const std::string json = Run("sqlalchemy", "delete", tag);
  const std::string id = JsonString(json, "account");
  ASSERT_EQ(id.size(), 18u) << json;
  EXPECT_TRUE(stack_->Records(StrCat("SELECT Id FROM Account WHERE Id = '", id, "'")).empty());
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account WHERE id = $1", {id}), "0");
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce._tombstones WHERE id = $1", {id}), "1");
}

// insert(Account).returning(Account), and update() / delete() with synchronize_session="fetch",
// which asks for the ids with RETURNING.
TEST_F(ProxyOrmTest, SqlAlchemyOrmInsertUpdateDeleteStatements) {
  const std::string tag = UniqueName("sqla_stmt");
  const std::string json = Run("sqlalchemy", "orm_statements", tag);
  std::vector<std::string> ids = JsonStrings(json, "accounts");
  ASSERT_EQ(ids.size(), 3u) << json;
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-1:", tag, " 1:Cold,", tag, "-2:", tag, " 2:Cold"));
  EXPECT_TRUE(stack_->Records(StrCat("SELECT Id FROM Account WHERE Id = '", ids[2], "'")).empty());
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce._tombstones WHERE id = $1", {ids[2]}), "1");
}

TEST_F(ProxyOrmTest, SqlAlchemyRefusedWriteLeavesNothing) {
  ExpectRefusedWriteLeavesNothing("sqlalchemy");
}

// ------------------------------------------------------------------------------------- Django

TEST_F(ProxyOrmTest, DjangoCreateReturnsSalesforceValues) {
  const std::string tag = UniqueName("dj_create");
  const std::string json = Run("django", "create", tag);
  const std::string account = JsonString(json, "account"), contact = JsonString(json, "contact");
  ASSERT_EQ(account.size(), 18u) << json;
  ASSERT_EQ(contact.size(), 18u) << json;
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-1:", tag, " one:<null>"));
  EXPECT_EQ(Owner("SELECT account_number FROM salesforce.account WHERE id = $1", {account}),
            tag + "-1");
  salesforce::Record rec = stack_->SfsimRecord("Contact", contact, "Name, AccountId");
  EXPECT_EQ(FieldText(rec, "Name"), "Grace " + tag);
  EXPECT_EQ(FieldText(rec, "AccountId"), account);
  EXPECT_EQ(Owner("SELECT concat_ws('|', name, account_id) FROM salesforce.contact WHERE id = $1",
                  {contact}),
            StrCat("Grace ", tag, "|", account));
  stack_->ExpectSameVersion("Contact", "contact", contact);
}

TEST_F(ProxyOrmTest, DjangoSave) {
  const std::string tag = UniqueName("dj_save");
  const std::string json = Run("django", "save", tag);
  const std::string id = JsonString(json, "account");
  ASSERT_EQ(id.size(), 18u) << json;
  salesforce::Record rec =
      stack_->SfsimRecord("Account", id, "Name, Rating, NumberOfEmployees, Description");
  EXPECT_EQ(FieldText(rec, "Name"), tag + " save");
  EXPECT_EQ(FieldText(rec, "Rating"), "Hot");
  EXPECT_EQ(FieldText(rec, "NumberOfEmployees"), "42");
  EXPECT_EQ(FieldText(rec, "Description"), "saved with update_fields");
  EXPECT_EQ(Owner("SELECT concat_ws('|', name, rating, number_of_employees, description) "
                  "FROM salesforce.account WHERE id = $1",
                  {id}),
            StrCat(tag, " save|Hot|42|saved with update_fields"));
  stack_->ExpectSameVersion("Account", "account", id);
}

TEST_F(ProxyOrmTest, DjangoBulkCreate) {
  const std::string tag = UniqueName("dj_bulk");
  const std::string json = Run("django", "bulk_create", tag);
  ASSERT_EQ(JsonStrings(json, "accounts").size(), 3u) << json;
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-1:", tag, " 1:Warm,", tag, "-2:", tag, " 2:Warm,",
                                        tag, "-3:", tag, " 3:Warm"));
}

TEST_F(ProxyOrmTest, DjangoQuerySetUpdate) {
  const std::string tag = UniqueName("dj_upd");
  const std::string json = Run("django", "update", tag);
  ASSERT_EQ(JsonStrings(json, "accounts").size(), 3u) << json;
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-1:", tag, " 1:Cold,", tag, "-2:", tag, " 2:Cold,",
                                        tag, "-3:", tag, " 3:<null>"));
  EXPECT_EQ(
      stack_
          ->Records(StrCat("SELECT Id FROM Account WHERE NumberOfEmployees = 5 AND AccountNumber "
                           "LIKE '",
                           tag, "-%'"))
          .size(),
      2u);
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account WHERE number_of_employees = 5 "
                  "AND account_number LIKE $1",
                  {tag + "-%"}),
            "2");
}

TEST_F(ProxyOrmTest, DjangoDelete) {
  const std::string tag = UniqueName("dj_del");
  const std::string json = Run("django", "delete", tag);
  const std::string id = JsonString(json, "deleted_one");
  ASSERT_EQ(id.size(), 18u) << json;
  EXPECT_EQ(TaggedAccounts(tag), "");
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce._tombstones WHERE id = $1", {id}), "1");
}

TEST_F(ProxyOrmTest, DjangoGetOrCreate) {
  const std::string tag = UniqueName("dj_goc");
  const std::string json = Run("django", "get_or_create", tag);
  const std::string id = JsonString(json, "account");
  ASSERT_EQ(id.size(), 18u) << json;
  // Created once, found the second time.
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-g:", tag, " got:<null>"));
  EXPECT_EQ(Owner("SELECT id FROM salesforce.account WHERE account_number = $1", {tag + "-g"}), id);
}

TEST_F(ProxyOrmTest, DjangoRefusedWriteLeavesNothing) { ExpectRefusedWriteLeavesNothing("django"); }

// --------------------------------------------------------------------------------------- Knex

TEST_F(ProxyOrmTest, KnexInsertReturning) {
  const std::string tag = UniqueName("knex_ins");
  const std::string json = Run("knex", "insert_returning", tag);
  const std::string id = JsonString(json, "account");
  ASSERT_EQ(id.size(), 18u) << json;
  ASSERT_EQ(JsonStrings(json, "accounts").size(), 2u) << json;
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-1:", tag, " one:<null>,", tag, "-2:", tag,
                                        " 2:<null>,", tag, "-3:", tag, " 3:<null>"));
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Account", id, "NumberOfEmployees"), "NumberOfEmployees"),
            "7");
  EXPECT_EQ(Owner("SELECT number_of_employees FROM salesforce.account WHERE id = $1", {id}), "7");
}

TEST_F(ProxyOrmTest, KnexUpdate) { ExpectUpdateFlow("knex", "knex_upd"); }

TEST_F(ProxyOrmTest, KnexDelete) {
  const std::string tag = UniqueName("knex_del");
  const std::string json = Run("knex", "delete", tag);
  std::vector<std::string> ids = JsonStrings(json, "accounts");
  ASSERT_EQ(ids.size(), 2u) << json;
  EXPECT_EQ(TaggedAccounts(tag), "");
  for (const std::string& id : ids) {
    EXPECT_EQ(Owner("SELECT count(*) FROM salesforce._tombstones WHERE id = $1", {id}), "1");
  }
}

TEST_F(ProxyOrmTest, KnexTransaction) {
  const std::string tag = UniqueName("knex_trx");
  const std::string json = Run("knex", "transaction", tag);
  const std::string id = JsonString(json, "account");
  ASSERT_EQ(id.size(), 18u) << json;
  EXPECT_EQ(TaggedAccounts(tag), StrCat(tag, "-t:", tag, " trx:<null>"));
  std::vector<salesforce::Record> contacts =
      stack_->Records(StrCat("SELECT Id, AccountId FROM Contact WHERE LastName = '", tag, "'"));
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(FieldText(contacts[0], "AccountId"), id);
  EXPECT_EQ(Owner("SELECT account_id FROM salesforce.contact WHERE last_name = $1", {tag}), id);
}

TEST_F(ProxyOrmTest, KnexRefusedWriteLeavesNothing) { ExpectRefusedWriteLeavesNothing("knex"); }

// Batches, sent as each driver sends them: the writes before one Sync (or of one query string)
// are one all-or-none Salesforce request. A batch of five Accounts whose third Salesforce refuses
// leaves nothing in sfsim and nothing in the table; the same batch without the bad row applies
// every row with one API call.
TEST_F(ProxyOrmTest, BatchAsyncpgExecutemanyIsAllOrNone) { ExpectAllOrNone("asyncpg_executemany"); }
TEST_F(ProxyOrmTest, BatchPsycopgExecutemanyIsAllOrNone) { ExpectAllOrNone("psycopg_executemany"); }
TEST_F(ProxyOrmTest, BatchPsycopgPipelineIsAllOrNone) { ExpectAllOrNone("psycopg_pipeline"); }
TEST_F(ProxyOrmTest, BatchMultiStatementQueryIsAllOrNone) { ExpectAllOrNone("multi_statement"); }
TEST_F(ProxyOrmTest, BatchPgxSendBatchIsAllOrNone) { ExpectAllOrNone("pgx_send_batch"); }
TEST_F(ProxyOrmTest, BatchPgjdbcExecuteBatchIsAllOrNone) {
  ExpectAllOrNone("pgjdbc_execute_batch");
}

// Explicit transactions in deferred mode (sfbridge.transactions = 'deferred', here in the
// connection string): the writes wait for COMMIT and go to Salesforce as one all-or-none call.
TEST_F(ProxyOrmTest, DeferredRollbackSendsNothing) {
  const std::string tag = UniqueName("def_rb");
  const std::string existing = Owner("SELECT min(id) FROM salesforce.account");
  const std::string description =
      FieldText(stack_->SfsimRecord("Account", existing, "Description"), "Description");
  const int64_t calls = stack_->SfsimCalls("composite");
  const std::string json = RunDeferred("rollback", tag, existing);
  EXPECT_THAT(JsonString(json, "provisional"), ::testing::StartsWith("000p")) << json;
  EXPECT_EQ(stack_->SfsimCalls("composite"), calls);
  EXPECT_TRUE(stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber = '", tag, "-p'"))
                  .empty());
  EXPECT_TRUE(
      stack_->Records(StrCat("SELECT Id FROM Contact WHERE LastName = '", tag, "'")).empty());
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Account", existing, "Description"), "Description"),
            description);
  EXPECT_EQ(
      Owner("SELECT count(*) FROM salesforce.account WHERE account_number = $1", {tag + "-p"}),
      "0");
}

TEST_F(ProxyOrmTest, DeferredCommitIsOneCallAndTheReturnedIdsStillFindTheRows) {
  const std::string tag = UniqueName("def_ok");
  const std::string existing = Owner("SELECT min(id) FROM salesforce.account");
  const int64_t calls = stack_->SfsimCalls("composite");
  const std::string json = RunDeferred("commit", tag, existing);
  EXPECT_EQ(stack_->SfsimCalls("composite"), calls + 1) << "one API call for the transaction";
  const std::string account = JsonString(json, "account");
  ASSERT_EQ(account.size(), 18u) << json;
  EXPECT_THAT(account, ::testing::Not(::testing::StartsWith("000p")));
  EXPECT_EQ(JsonString(json, "contact_account"), account);
  std::vector<salesforce::Record> contacts =
      stack_->Records(StrCat("SELECT Id, AccountId FROM Contact WHERE LastName = '", tag, "'"));
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(FieldText(contacts[0], "AccountId"), account);
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Account", existing, "Description"), "Description"), tag);
  EXPECT_EQ(Owner("SELECT description FROM salesforce.account WHERE id = $1", {existing}), tag);
  EXPECT_EQ(Owner("SELECT account_id FROM salesforce.contact WHERE id = $1", {contacts[0].id}),
            account);
  stack_->ExpectSameVersion("Account", "account", account);
  stack_->ExpectSameVersion("Contact", "contact", contacts[0].id);
}

TEST_F(ProxyOrmTest, DeferredCommitThatSalesforceRefusesLeavesNothing) {
  const std::string tag = UniqueName("def_bad");
  const std::string json = RunDeferred("refused", tag);
  EXPECT_EQ(JsonString(json, "error"), "23502") << json;
  EXPECT_THAT(json, HasSubstr("\"rows\": 0"));
  EXPECT_TRUE(
      stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber LIKE '", tag, "-%'"))
          .empty());
  EXPECT_EQ(
      Owner("SELECT count(*) FROM salesforce.account WHERE account_number LIKE $1", {tag + "-%"}),
      "0");
}

TEST_F(ProxyOrmTest, DeferredSqlAlchemySessionAddsParentAndChildThenUsesThem) {
  const std::string tag = UniqueName("def_orm");
  const std::string json = RunDeferred("sqlalchemy", tag);
  const std::string account = JsonString(json, "account");
  ASSERT_EQ(account.size(), 18u) << json;
  std::vector<salesforce::Record> contacts =
      stack_->Records(StrCat("SELECT Id, AccountId FROM Contact WHERE LastName = '", tag, "'"));
  ASSERT_EQ(contacts.size(), 1u);
  EXPECT_EQ(FieldText(contacts[0], "AccountId"), account);
}

// kill -9 of the proxy after Salesforce applied a deferred transaction's writes and before the
// client's transaction committed: the client loses its connection, PostgreSQL rolls the pending
// rows back, and the sync brings what Salesforce holds; `sfbridge verify` finds no difference.
TEST_F(ProxyOrmTest, DeferredCommitWithTheProxyKilledConvergesThroughTheSync) {
  const std::string tag = UniqueName("def_kill");
  const int64_t accounts = stack_->SfsimCount("Account");
  // sfsim applies a request, then takes 3 s to answer it: the window to kill the proxy in.
  ASSERT_TRUE(stack_->AdminPost("faults", R"({"latencyMs":3000})").ok());
  std::future<std::string> client =
      std::async(std::launch::async, [&] { return RunDeferred("killed", tag); });
  const bool applied = sfbridge::testing::WaitUntil(
      [&] { return stack_->SfsimCount("Account") > accounts; }, seconds(60));
  ASSERT_TRUE(stack_->KillAndRestartProxy());
  ASSERT_TRUE(stack_->AdminPost("faults", R"({"latencyMs":0})").ok());
  ASSERT_TRUE(applied) << "the COMMIT never reached sfsim";
  const std::string json = client.get();
  EXPECT_THAT(json, HasSubstr("connection lost")) << json;
  // Salesforce has both records; the tables get them through the sync.
  std::vector<salesforce::Record> in_sfsim =
      stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber = '", tag, "-k'"));
  ASSERT_EQ(in_sfsim.size(), 1u);
  EXPECT_TRUE(sfbridge::testing::WaitUntil(
      [&] {
        return Owner(
                   "SELECT count(*) FROM salesforce.contact c JOIN salesforce.account a ON "
                   "a.id = c.account_id WHERE a.id = $1 AND c.last_name = $2",
                   {in_sfsim[0].id, tag}) == "1";
      },
      seconds(60)));
  EXPECT_EQ(Owner("SELECT count(*) FROM salesforce.account WHERE id LIKE '000p%'"), "0");
  CommandResult verify = stack_->Verify();
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("missing=0 extra=0 stale=0")) << verify.output;
  // The new proxy takes writes.
  const std::string again = RunDeferred("refused", UniqueName("def_after"));
  EXPECT_EQ(JsonString(again, "error"), "23502") << again;
}

TEST_F(ProxyOrmTest, DeferredModeFromSetAndAlterRoleAndAnInvalidValueRefused) {
  const std::string tag = UniqueName("def_set");
  const int64_t calls = stack_->SfsimCalls("composite");
  ASSERT_EQ(
      Owner(StrCat("ALTER ROLE ", stack_->app_role(), " SET sfbridge.transactions = 'deferred'")),
      "<none>");
  const std::string json = RunDeferred("settings", tag);
  Owner(StrCat("ALTER ROLE ", stack_->app_role(), " RESET sfbridge.transactions"));
  EXPECT_THAT(JsonString(json, "set"), ::testing::StartsWith("000p")) << json;
  EXPECT_THAT(JsonString(json, "role"), ::testing::StartsWith("000p")) << json;
  EXPECT_EQ(JsonString(json, "invalid"), "22023") << json;
  EXPECT_EQ(stack_->SfsimCalls("composite"), calls) << "every transaction was rolled back";
  EXPECT_TRUE(
      stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber LIKE '", tag, "-%'"))
          .empty());
}

// PostgreSQL refuses a COMMIT after Salesforce accepted the transaction's writes: the client
// hears 58000 ("applied"), never the constraint's own SQLSTATE, and the sync brings the record.
TEST_F(ProxyOrmTest, DeferredCommitRefusedByPostgresqlAfterSalesforceSaysApplied) {
  const std::string tag = UniqueName("def_pgfail");
  const std::string json = RunDeferred("commit_fails", tag);
  EXPECT_EQ(JsonString(json, "error"), "58000") << json;
  EXPECT_THAT(JsonString(json, "message"), HasSubstr("ARE applied in Salesforce")) << json;
  std::vector<salesforce::Record> in_sfsim =
      stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber = '", tag, "-a'"));
  ASSERT_EQ(in_sfsim.size(), 1u);
  EXPECT_TRUE(sfbridge::testing::WaitUntil(
      [&] {
        return Owner("SELECT count(*) FROM salesforce.account WHERE id = $1", {in_sfsim[0].id}) ==
               "1";
      },
      seconds(60)));
}

TEST_F(ProxyOrmTest, DeferredRollbackToSavepointAfterAWriteIsRefused) {
  const std::string tag = UniqueName("def_sp");
  const int64_t calls = stack_->SfsimCalls("composite");
  const std::string json = RunDeferred("savepoint", tag);
  EXPECT_EQ(JsonString(json, "error"), "0A000") << json;
  EXPECT_THAT(json, HasSubstr("\"rows\": 0"));
  EXPECT_EQ(stack_->SfsimCalls("composite"), calls);
  EXPECT_TRUE(stack_->Records(StrCat("SELECT Id FROM Account WHERE AccountNumber = '", tag, "-sp'"))
                  .empty());
}

TEST_F(ProxyOrmTest, DeferredWritersOfOneRowTakeTurns) {
  const std::string existing = Owner("SELECT max(id) FROM salesforce.account");
  const std::string json = RunDeferred("wait", UniqueName("def_wait"), existing);
  EXPECT_EQ(JsonString(json, "description"), "first then second") << json;
  EXPECT_EQ(FieldText(stack_->SfsimRecord("Account", existing, "Description"), "Description"),
            "first then second");
}

}  // namespace
}  // namespace sfbridge::proxy::e2e
