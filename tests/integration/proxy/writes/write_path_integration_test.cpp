// The write path end to end without the wire layer: statements planned and executed against a
// real PostgreSQL (the client's connection through libpq), an in-process sfsim and the writer's
// gRPC service. What a client would notice: the command tag, the RETURNING rows, the error and
// its SQLSTATE, the rows in the table, the records in the org, the budget spent.
// Over 500 lines: eighteen cases on the shared write path fixture (write_path_fixture.h), each
// checking the reply, the table, the org and the budget.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "proxy/writes/catalog.h"
#include "tests/integration/proxy/writes/write_path_fixture.h"

namespace sfbridge::proxy::testing {
namespace {

using Kind = StatementPlan::Kind;

class WritePathTest : public ::testing::Test, public WritePathFixture {
 protected:
  void SetUp() override { Start({"User", "Account", "Contact", "Invoice__c"}); }
  void TearDown() override { Stop(); }

  int64_t SalesforceCalls() { return sim_->limits().used(); }
  // A field's value in sfsim, as text.
  std::string SfsimValue(const std::string& id, std::string_view field) {
    const sfsim::org::ObjectDef* object = sim_->org().ObjectOfId(id);
    sfsim::org::RecordPtr record = sim_->org().Get(id);
    if (object == nullptr || record == nullptr) return "<gone>";
    for (size_t i = 0; i < object->fields.size(); ++i) {
      if (object->fields[i].name == field) return record->values[i].ToString();
    }
    return "<no field>";
  }
  std::string Rows(const std::string& table) {
    return Scalar(core::StrCat("SELECT count(*) FROM salesforce.", table));
  }

  // Inserts `n` invoices with amounts 10, 20, ...; their ids.
  std::vector<std::string> InsertInvoices(int n) {
    std::string sql = "INSERT INTO invoice__c (amount__c, status__c) VALUES ";
    for (int i = 1; i <= n; ++i) core::StrAppend(&sql, i > 1 ? ", " : "", "(", i * 10, ", 'Sent')");
    core::StrAppend(&sql, " RETURNING id");
    Result r = Exec(sql);
    EXPECT_EQ(r.plan, Kind::kMutation);
    EXPECT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
    std::vector<std::string> ids;
    for (const auto& row : r.returning) ids.push_back(row[0].value_or(""));
    return ids;
  }

  void ExpectError(const Result& r, const std::string& sqlstate, const std::string& message_part) {
    ASSERT_EQ(r.plan, Kind::kMutation);
    ASSERT_TRUE(r.outcome.error.has_value()) << "no error, tag " << r.outcome.command_tag;
    EXPECT_EQ(r.outcome.error->sqlstate, sqlstate) << r.outcome.error->message;
    EXPECT_TRUE(absl::StrContains(r.outcome.error->message, message_part))
        << r.outcome.error->message;
  }
};

TEST_F(WritePathTest, InsertWithParametersAndReturningLandsInSalesforceAndTheTable) {
  BoundParams params = TextParams({"1234.50", "Sent", "2024-03-01"});
  // $4: a binary int4 (7), typed by the client.
  const char seven[4] = {0, 0, 0, 7};
  params.values.push_back(std::string(seven, 4));
  params.formats.push_back(1);
  params.type_oids.push_back(23);
  Result r = Exec(
      "INSERT INTO invoice__c (amount__c, status__c, due_date__c, line_count__c, notes__c) "
      "VALUES ($1, $2, $3, $4, 'first') RETURNING id, amount__c, name, due_date__c, line_count__c",
      params);
  ASSERT_EQ(r.plan, Kind::kMutation);
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  EXPECT_FALSE(r.outcome.pass_through);
  EXPECT_EQ(r.outcome.command_tag, "INSERT 0 1");
  EXPECT_TRUE(r.outcome.notices.empty());
  ASSERT_TRUE(r.returning_status.ok()) << r.returning_status;
  ASSERT_EQ(r.returning.size(), 1u);
  const std::string id = r.returning[0][0].value_or("");
  EXPECT_EQ(id.size(), 18u);
  EXPECT_EQ(id.substr(0, 3), "a00");
  EXPECT_EQ(r.returning[0][1], "1234.50");
  EXPECT_TRUE(r.returning[0][2].has_value());  // the auto number Salesforce gave
  EXPECT_EQ(r.returning[0][3], "2024-03-01");
  EXPECT_EQ(r.returning[0][4], "7");

  // In the org, and in the table with Salesforce's own values.
  sfsim::org::RecordPtr record = sim_->org().Get(id);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(Scalar("SELECT amount__c::text || '|' || status__c || '|' || due_date__c::text || "
                   "'|' || line_count__c || '|' || name || '|' || (_modstamp_ms > 0)::text "
                   "FROM salesforce.invoice__c WHERE id = $1",
                   {id}),
            core::StrCat("1234.50|Sent|2024-03-01|7|", *r.returning[0][2], "|true"));
  EXPECT_EQ(Scalar("SELECT _modstamp_ms FROM salesforce.invoice__c WHERE id = $1", {id}),
            std::to_string(record->system_modstamp_ms));
}

TEST_F(WritePathTest, MultiRowInsertUpdateDeleteWithParameters) {
  std::vector<std::string> ids = InsertInvoices(3);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(Rows("invoice__c"), "3");
  const std::string array = core::StrCat("{", core::StrJoin(ids, ","), "}");

  Result up = Exec(
      "UPDATE invoice__c AS i SET amount__c = i.amount__c * $2, notes__c = 'n' || i.amount__c "
      "WHERE i.id = ANY($1::text[]) RETURNING i.id, i.amount__c",
      TextParams({array, "2"}));
  ASSERT_FALSE(up.outcome.error.has_value()) << up.outcome.error->message;
  EXPECT_EQ(up.outcome.command_tag, "UPDATE 3");
  ASSERT_EQ(up.returning.size(), 3u);
  EXPECT_EQ(Scalar("SELECT string_agg(amount__c::text || ':' || notes__c, ',' ORDER BY "
                   "amount__c) FROM salesforce.invoice__c"),
            "20:n10,40:n20,60:n30");
  for (const std::string& id : ids) {
    sfsim::org::RecordPtr rec = sim_->org().Get(id);
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(Scalar("SELECT _modstamp_ms FROM salesforce.invoice__c WHERE id = $1", {id}),
              std::to_string(rec->system_modstamp_ms));
  }

  // An UPDATE that matches nothing calls nobody.
  const int64_t calls = SalesforceCalls();
  Result none = Exec("UPDATE invoice__c SET notes__c = 'x' WHERE amount__c < 0");
  EXPECT_EQ(none.outcome.command_tag, "UPDATE 0");
  EXPECT_EQ(SalesforceCalls(), calls);

  Result del = Exec("DELETE FROM salesforce.invoice__c WHERE id = ANY($1) RETURNING id, amount__c",
                    TextParams({core::StrCat("{", ids[0], ",", ids[2], "}")}));
  ASSERT_FALSE(del.outcome.error.has_value()) << del.outcome.error->message;
  EXPECT_EQ(del.outcome.command_tag, "DELETE 2");
  ASSERT_EQ(del.returning.size(), 2u);
  EXPECT_EQ(del.returning[0][1], "20");  // the rows as they were
  EXPECT_EQ(Rows("invoice__c"), "1");
  EXPECT_EQ(Scalar("SELECT count(*) FROM salesforce._tombstones WHERE id = ANY($1)",
                   {core::StrCat("{", ids[0], ",", ids[2], "}")}),
            "2");
  EXPECT_EQ(sim_->org().Get(ids[0]), nullptr);
  EXPECT_NE(sim_->org().Get(ids[1]), nullptr);
}

TEST_F(WritePathTest, EverySalesforceRejectionHasItsSqlStateAndLeavesTheTableAlone) {
  InsertInvoices(1);
  ASSERT_FALSE(Exec("INSERT INTO invoice__c (external_id__c) VALUES ('dup-1')").outcome.error);
  const std::string invoices = Rows("invoice__c");
  const int64_t records = sim_->org().Count("Invoice__c", false);

  Result missing = Exec("INSERT INTO contact (first_name) VALUES ($1)", TextParams({"Ann"}));
  ExpectError(missing, "23502", "Required fields are missing");
  EXPECT_EQ(missing.outcome.error->column, "last_name");
  EXPECT_TRUE(absl::StrContains(missing.outcome.error->detail, "LastName (column last_name)"));
  EXPECT_EQ(missing.outcome.error->table, "contact");
  EXPECT_EQ(Rows("contact"), "0");

  Result dup = Exec("INSERT INTO invoice__c (external_id__c) VALUES ('dup-1')");
  ExpectError(dup, "23505", "duplicate value");
  EXPECT_EQ(dup.outcome.error->column, "external_id__c");

  Result rule = Exec("INSERT INTO invoice__c (status__c, paid_at__c) VALUES ('Draft', now())");
  ExpectError(rule, "23514", "Paid At can only be set on a paid invoice");

  Result too_long = Exec("INSERT INTO invoice__c (external_id__c) VALUES (repeat('x', 41))");
  ExpectError(too_long, "22001", "");

  Result picklist = Exec("UPDATE invoice__c SET status__c = 'Bogus'");
  ExpectError(picklist, "22023", "Bogus");
  EXPECT_EQ(picklist.outcome.error->column, "status__c");

  // A user of the org in its table (synced by hand: no fetcher here); users cannot be deleted.
  const std::string user_id = sim_->org().Digest("User", false).begin()->first;
  ASSERT_EQ(Scalar("INSERT INTO salesforce.\"user\" (id, _modstamp_ms) VALUES ($1, 1) "
                   "RETURNING 1",
                   {user_id}),
            "1");
  Result readonly = Exec("DELETE FROM \"user\" WHERE id = $1", TextParams({user_id}));
  ExpectError(readonly, "42501", "");

  EXPECT_EQ(Rows("invoice__c"), invoices);
  EXPECT_EQ(Scalar("SELECT count(*) FROM salesforce.invoice__c WHERE status__c = 'Bogus'"), "0");
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), records);
  EXPECT_NE(Scalar("SELECT count(*) FROM salesforce.\"user\""), "0");
  const std::string metrics = metrics_.RenderText();
  EXPECT_TRUE(absl::StrContains(
      metrics, "sfbridge_proxy_salesforce_errors_total{code=\"DUPLICATE_VALUE\"} 1"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(
      metrics,
      core::StrCat("sfbridge_proxy_mutations_total{org=\"", org_id_,
                   "\",table=\"invoice__c\",operation=\"insert\",outcome=\"salesforce_error\"} 3")))
      << metrics;
}

TEST_F(WritePathTest, RequestLimitExceededIs53400) {
  sim_->limits().Set(std::nullopt, sim_->limits().daily_max());
  Result r = Exec("INSERT INTO invoice__c (notes__c) VALUES ('x')");
  ExpectError(r, "53400", "TotalRequests Limit exceeded");
  EXPECT_EQ(Rows("invoice__c"), "0");
}

TEST_F(WritePathTest, ForbiddenColumnsAndFormsAreRefusedBeforeSalesforce) {
  // Columns Salesforce sets are refused by value (NULL or the current value would be taken):
  // rows to write.
  InsertInvoices(1);
  ASSERT_FALSE(Exec("INSERT INTO contact (last_name) VALUES ('Doe')").outcome.error.has_value());
  const std::string rows = Rows("invoice__c");
  const int64_t calls = SalesforceCalls();
  Result name = Exec("INSERT INTO invoice__c (name) VALUES ('x')");  // auto number: read-only
  ExpectError(name, "428C9", "cannot be written");
  EXPECT_EQ(name.outcome.error->column, "name");
  ExpectError(Exec("UPDATE contact SET name = 'x'"), "428C9", "not updateable");  // formula
  ExpectError(Exec("UPDATE invoice__c SET system_modstamp = now()"), "428C9", "system field");
  ExpectError(Exec("UPDATE invoice__c SET id = 'x'"), "428C9", "Salesforce assigns");
  ExpectError(Exec("UPDATE invoice__c SET _synced_at = now()"), "428C9", "kept by sfbridge");
  ExpectError(Exec("UPDATE invoice__c SET nope = 1"), "42703", "does not exist");

  Result merge = Exec(
      "MERGE INTO invoice__c i USING (SELECT 1) s ON false WHEN NOT MATCHED "
      "THEN INSERT (notes__c) VALUES ('x')");
  EXPECT_EQ(merge.plan, Kind::kRefused);
  EXPECT_EQ(merge.refusal.sqlstate, "0A000");
  EXPECT_EQ(Exec("COPY salesforce.invoice__c FROM STDIN").plan, Kind::kRefused);
  EXPECT_EQ(Exec("TRUNCATE invoice__c").plan, Kind::kRefused);
  EXPECT_EQ(Exec("INSERT INTO invoice__c (notes__c) VALUES ('x') ON CONFLICT DO NOTHING").plan,
            Kind::kRefused);
  EXPECT_EQ(SalesforceCalls(), calls);
  EXPECT_EQ(Rows("invoice__c"), rows);
}

TEST_F(WritePathTest, DerivedQueryErrorsAreTheServersOwn) {
  InsertInvoices(1);
  const int64_t calls = SalesforceCalls();
  Result r = Exec("UPDATE invoice__c SET amount__c = amount__c / 0");
  ExpectError(r, "22012", "division by zero");
  Result bad_cast = Exec("INSERT INTO invoice__c (due_date__c) VALUES ($1)", TextParams({"soon"}));
  ExpectError(bad_cast, "22007", "invalid input syntax for type date");
  EXPECT_EQ(SalesforceCalls(), calls);
}

TEST_F(WritePathTest, SalesforceDownIsACleanErrorAndTheSessionGoesOn) {
  std::vector<std::string> ids = InsertInvoices(1);
  sim_.reset();
  // Nothing listens: nothing was sent, for an update and an insert alike.
  Result up = Exec("UPDATE invoice__c SET notes__c = 'x'");
  ExpectError(up, "08001", "Salesforce could not be reached");
  EXPECT_TRUE(absl::StrContains(up.outcome.error->detail, "Nothing was sent"))
      << up.outcome.error->detail;
  Result ins = Exec("INSERT INTO invoice__c (notes__c) VALUES ('x')");
  ExpectError(ins, "08001", "Salesforce could not be reached");
  EXPECT_EQ(querier_->Scalar("SELECT count(*) FROM salesforce.invoice__c"), "1");
  EXPECT_EQ(Scalar("SELECT coalesce(notes__c, '<null>') FROM salesforce.invoice__c"), "<null>");
}

TEST_F(WritePathTest, OneApiCallPerWriteStatement) {
  auto composites = [&] { return sim_->limits().CallsByKind()["composite"]; };
  int64_t calls = SalesforceCalls();
  const int64_t composite_before = composites();
  std::vector<std::string> ids = InsertInvoices(3);
  EXPECT_EQ(SalesforceCalls() - calls, 1);
  calls = SalesforceCalls();
  ASSERT_FALSE(Exec("UPDATE invoice__c SET notes__c = 'u' WHERE amount__c > 10").outcome.error);
  EXPECT_EQ(SalesforceCalls() - calls, 1);
  calls = SalesforceCalls();
  Result del = Exec("DELETE FROM invoice__c WHERE amount__c = 10 RETURNING id");
  ASSERT_FALSE(del.outcome.error) << del.outcome.error->message;
  EXPECT_EQ(SalesforceCalls() - calls, 1);
  EXPECT_EQ(composites() - composite_before, 3);
  // Each reached the table with Salesforce's versions.
  EXPECT_EQ(Scalar("SELECT string_agg(coalesce(notes__c, '-'), ',' ORDER BY amount__c) FROM "
                   "salesforce.invoice__c"),
            "u,u");
  for (const std::string& id : {ids[1], ids[2]}) {
    EXPECT_EQ(Scalar("SELECT _modstamp_ms FROM salesforce.invoice__c WHERE id = $1", {id}),
              std::to_string(sim_->org().Get(id)->system_modstamp_ms));
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM salesforce._tombstones WHERE id = $1", {ids[0]}), "1");
}

// Each injected fault on the write's request: the SQLSTATE, and whether sfsim changed. Only the
// "may have happened" code (40003) may come with a change, and only from a fault after the call.
TEST_F(WritePathTest, FaultsOnTheWriteSayWhetherSalesforceChanged) {
  WritePathOptions o = Options();
  o.salesforce_timeout = std::chrono::milliseconds(1'000);
  o.salesforce_attempts = 3;
  auto wp = MakeSalesforceWritePath(o, metrics_);
  ASSERT_TRUE(wp.ok());
  std::vector<std::string> ids = InsertInvoices(1);
  ASSERT_EQ(ids.size(), 1u);
  const std::string& id = ids[0];
  auto digest = [&] { return sim_->org().Digest("Invoice__c", true); };
  auto table = [&] {
    return Scalar(
        "SELECT coalesce(notes__c, '<null>') || '|' || _modstamp_ms FROM "
        "salesforce.invoice__c WHERE id = $1",
        {id});
  };

  struct Case {
    std::string name;
    sfsim::FaultSettings faults;
    std::string sql;
    std::string sqlstate;
    bool sfsim_changes;
  };
  const std::vector<Case> cases = {
      {"5xx on an update",
       {.error_5xx_rate = 1},
       "UPDATE invoice__c SET notes__c = 'a'",
       "08001",
       false},
      {"5xx on an insert",
       {.error_5xx_rate = 1},
       "INSERT INTO invoice__c (notes__c) VALUES ('b')",
       "08001",
       false},
      {"5xx on a delete", {.error_5xx_rate = 1}, "DELETE FROM invoice__c", "08001", false},
      {"dropped update", {.drop_rate = 1}, "UPDATE invoice__c SET notes__c = 'c'", "40003", false},
      {"dropped insert",
       {.drop_rate = 1},
       "INSERT INTO invoice__c (notes__c) VALUES ('d')",
       "40003",
       false},
      {"dropped delete", {.drop_rate = 1}, "DELETE FROM invoice__c", "40003", false},
      {"timed-out update",
       {.slow_rate = 1, .slow_ms = 1'500},
       "UPDATE invoice__c SET notes__c = 'e'",
       "40003",
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto sf_before = digest();
    const std::string table_before = table();
    const std::string rows_before = Rows("invoice__c");
    sim_->faults().Set(c.faults);
    Result r = Exec(**wp, c.sql);
    sim_->faults().Set({});
    ASSERT_TRUE(r.outcome.error.has_value()) << r.outcome.command_tag;
    EXPECT_EQ(r.outcome.error->sqlstate, c.sqlstate) << r.outcome.error->message;
    if (c.sqlstate == "08001") {
      EXPECT_TRUE(absl::StrContains(r.outcome.error->detail, "nothing was changed"))
          << r.outcome.error->detail;
    } else {
      EXPECT_TRUE(absl::StrContains(r.outcome.error->detail, "may or may not have been applied"))
          << r.outcome.error->detail;
    }
    EXPECT_EQ(digest() != sf_before, c.sfsim_changes);
    // The table changes only through the sync (none runs here).
    EXPECT_EQ(table(), table_before);
    EXPECT_EQ(Rows("invoice__c"), rows_before);
  }
  // The timed-out update was applied in Salesforce.
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), 1);
}

TEST_F(WritePathTest, AReadBackThatFailsAfterTheWriteIs58000WithTheChangeInSalesforce) {
  std::vector<std::string> ids = InsertInvoices(1);
  // A field the catalog maps (and the table has) that the org no longer has: the read-back in
  // the same request fails, the write itself succeeds.
  ASSERT_EQ(Scalar("ALTER TABLE salesforce.invoice__c ADD COLUMN gone__c text"), "<none>");
  ASSERT_EQ(Scalar("INSERT INTO sfbridge.field_mappings (org_id, object_name, field_name, "
                   "column_name, field_type) VALUES ($1, 'Invoice__c', 'Gone__c', 'gone__c', "
                   "'string') RETURNING 1",
                   {org_id_}),
            "1");
  ASSERT_EQ(Scalar("UPDATE sfbridge.synced_tables SET updated_at = now() + interval '1 s' "
                   "WHERE org_id = $1 AND object_name = 'Invoice__c' RETURNING 1",
                   {org_id_}),
            "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the catalog's refresh (10 ms)
  const int64_t calls = SalesforceCalls();
  Result r = Exec("UPDATE invoice__c SET notes__c = 'applied'");
  ExpectError(r, "58000", "IS applied in Salesforce");
  EXPECT_EQ(SalesforceCalls() - calls, 1);
  EXPECT_TRUE(absl::StrContains(r.outcome.error->hint, "Do not repeat"));
  EXPECT_EQ(Scalar("SELECT coalesce(notes__c, '<null>') FROM salesforce.invoice__c"), "<null>");
  EXPECT_EQ(SfsimValue(ids[0], "Notes__c"), "applied");
  // The detail names the records, so that the client can find what it is told is applied.
  for (const std::string& id : ids) {
    EXPECT_TRUE(absl::StrContains(r.outcome.error->detail, id)) << r.outcome.error->detail;
  }
}

TEST_F(WritePathTest, EveryCallTakesATokenOfThePriorityLane) {
  InsertInvoices(1);
  auto calls_total = [&] {
    return std::stoll(
        Scalar("SELECT calls_total FROM sfbridge.rate_buckets WHERE org_id = $1", {org_id_}));
  };
  const int64_t before = calls_total();
  const int64_t sf_before = SalesforceCalls();
  ASSERT_FALSE(Exec("UPDATE invoice__c SET notes__c = 'x'").outcome.error);
  // The write and its read-back: one Composite call, one token.
  EXPECT_EQ(SalesforceCalls() - sf_before, 1);
  EXPECT_EQ(calls_total() - before, 1);

  // Only the reserve left: the normal lane may not take it, the priority lane may.
  ASSERT_EQ(Scalar("UPDATE sfbridge.orgs SET rate_per_second = 0, priority_reserve = 5 "
                   "WHERE org_id = $1 RETURNING 1",
                   {org_id_}),
            "1");
  ASSERT_EQ(Scalar("UPDATE sfbridge.rate_buckets SET tokens = 1 WHERE org_id = $1 RETURNING 1",
                   {org_id_}),
            "1");
  ASSERT_FALSE(Exec("UPDATE invoice__c SET notes__c = 'y'").outcome.error);
  EXPECT_EQ(Scalar("SELECT notes__c FROM salesforce.invoice__c"), "y");

  // Nothing left, nothing coming: 53400 before anything is sent.
  const int64_t sf_now = SalesforceCalls();
  Result r = Exec("UPDATE invoice__c SET notes__c = 'z'");
  ExpectError(r, "53400", "API budget");
  EXPECT_EQ(SalesforceCalls(), sf_now);
  EXPECT_EQ(Scalar("SELECT notes__c FROM salesforce.invoice__c"), "y");
}

TEST_F(WritePathTest, WriterDownAfterSalesforceAcceptedSaysTheChangeIsInSalesforce) {
  WritePathOptions o = Options();
  o.writer_address = "127.0.0.1:1";  // nothing listens
  o.writer_timeout = std::chrono::milliseconds(500);
  auto wp = MakeSalesforceWritePath(o, metrics_);
  ASSERT_TRUE(wp.ok());
  Result r = Exec(**wp, "INSERT INTO invoice__c (notes__c) VALUES ('kept')");
  ExpectError(r, "58000", "IS applied in Salesforce");
  EXPECT_TRUE(absl::StrContains(r.outcome.error->detail, "through the sync"));
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), 1);
  EXPECT_EQ(Rows("invoice__c"), "0");
}

TEST_F(WritePathTest, InsideATransactionANoticeSaysItCannotBeRolledBack) {
  ASSERT_EQ(querier_->Scalar("BEGIN"), "<none>");
  Result r = Exec("INSERT INTO invoice__c (notes__c) VALUES ('t')", {}, TxStatus::kInTransaction);
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  ASSERT_EQ(r.outcome.notices.size(), 1u);
  EXPECT_EQ(r.outcome.notices[0].severity, "NOTICE");
  EXPECT_TRUE(absl::StrContains(r.outcome.notices[0].message, "cannot be rolled back"));
  ASSERT_EQ(querier_->Scalar("ROLLBACK"), "<none>");
  EXPECT_EQ(Rows("invoice__c"), "1");  // committed by the writer on its own connection
}

TEST_F(WritePathTest, ANameThatResolvesToAnotherTablePassesThrough) {
  ASSERT_EQ(querier_->Scalar("CREATE TABLE public.invoice__c (notes__c text)"), "<none>");
  ASSERT_EQ(querier_->Scalar("SET search_path = public, salesforce"), "<none>");
  Result r = Exec("INSERT INTO invoice__c (notes__c) VALUES ('local')");
  ASSERT_EQ(r.plan, Kind::kMutation);
  EXPECT_TRUE(r.outcome.pass_through);
  ASSERT_EQ(querier_->Scalar("SET search_path = salesforce, public"), "<none>");
  Result synced = Exec("INSERT INTO invoice__c (notes__c) VALUES ('synced')");
  EXPECT_FALSE(synced.outcome.pass_through);
  EXPECT_EQ(synced.outcome.command_tag, "INSERT 0 1");
}

TEST_F(WritePathTest, ANewSyncedTableIsSeenWithoutARestart) {
  EXPECT_EQ(Exec("INSERT INTO opportunity (name) VALUES ('x')").plan, Kind::kPassThrough);
  Sync("Opportunity");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past catalog_refresh (10 ms)
  Result r = Exec(
      "INSERT INTO opportunity (name, stage_name, close_date, amount, probability) "
      "VALUES ('Deal', 'Prospecting', '2024-06-30', 1000, 25) RETURNING expected_revenue");
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  ASSERT_EQ(r.returning.size(), 1u);
  EXPECT_EQ(r.returning[0][0], "250.00");  // the formula, as Salesforce computed it
  ExpectError(Exec("UPDATE opportunity SET expected_revenue = 1"), "428C9", "formula field");
}

TEST_F(WritePathTest, TheCatalogCarriesDescribesFlags) {
  auto conn = postgres::Connection::Connect(db_.url());
  ASSERT_TRUE(conn.ok());
  auto tables = writes::LoadSyncedTables(**conn, org_id_);
  ASSERT_TRUE(tables.ok()) << tables.status();
  const writes::SyncedTable* contact = nullptr;
  for (const auto& t : *tables) {
    if (t.object == "Contact") contact = &t;
  }
  ASSERT_NE(contact, nullptr);
  EXPECT_EQ(contact->schema, "salesforce");
  const writes::SyncedField* name = contact->FindField("Name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->createable, false);
  const writes::SyncedField* last = contact->FindField("LastName");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->createable, true);
  EXPECT_EQ(last->nillable, false);
  EXPECT_EQ(last->column, "last_name");
  EXPECT_EQ(last->column_type, "text");
}

TEST_F(WritePathTest, MoreRowsThanAllowedAreRefusedUnlessAllowedAndThenNotAtomic) {
  WritePathOptions o = Options();
  o.max_rows = 2;
  auto small = MakeSalesforceWritePath(o, metrics_);
  ASSERT_TRUE(small.ok());
  Result r = Exec(**small,
                  "INSERT INTO invoice__c (notes__c) SELECT 'n' || g FROM "
                  "generate_series(1, 3) g");
  ExpectError(r, "54000", "at most 2 rows per statement");
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), 0);

  o.max_rows = 1000;
  auto big = MakeSalesforceWritePath(o, metrics_);
  ASSERT_TRUE(big.ok());
  Result many = Exec(**big,
                     "INSERT INTO invoice__c (notes__c) SELECT 'n' || g FROM "
                     "generate_series(1, 450) g");
  ASSERT_FALSE(many.outcome.error.has_value()) << many.outcome.error->message;
  EXPECT_EQ(many.outcome.command_tag, "INSERT 0 450");
  EXPECT_EQ(Rows("invoice__c"), "450");
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), 450);

  // Row 230 is refused: the first call's 200 records stay, in Salesforce and in the table.
  Result partial = Exec(**big,
                        "INSERT INTO invoice__c (status__c) SELECT CASE WHEN g = 230 THEN "
                        "'Bogus' ELSE 'Draft' END FROM generate_series(1, 250) g");
  ExpectError(partial, "22023", "Bogus");
  EXPECT_TRUE(absl::StrContains(partial.outcome.error->detail, "200 records of this statement"))
      << partial.outcome.error->detail;
  EXPECT_EQ(Rows("invoice__c"), "650");
  EXPECT_EQ(sim_->org().Count("Invoice__c", false), 650);
}

TEST_F(WritePathTest, InsertDefaultValuesLetsSalesforceFillTheRecord) {
  Result r = Exec("INSERT INTO invoice__c DEFAULT VALUES RETURNING status__c, name");
  ASSERT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
  EXPECT_EQ(r.outcome.command_tag, "INSERT 0 1");
  ASSERT_EQ(r.returning.size(), 1u);
  EXPECT_EQ(r.returning[0][0], "Draft");  // the picklist's default
  EXPECT_EQ(Rows("invoice__c"), "1");
}

}  // namespace
}  // namespace sfbridge::proxy::testing
