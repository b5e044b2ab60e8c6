// Writes held until their unit of work ends (WritePath::Hold / CommitHeld), against a real
// PostgreSQL, an in-process sfsim and the writer's gRPC service: one all-or-none Salesforce call
// per unit, the rows visible to the unit's own transaction only, a refusal anywhere leaving
// nothing anywhere, and no way for a client to use the mechanism without Salesforce.

#include "proxy/writes/held_writes.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "tests/integration/proxy/writes/write_path_fixture.h"

namespace sfbridge::proxy::testing {
namespace {

using Kind = StatementPlan::Kind;

class HeldWritesTest : public ::testing::Test, public WritePathFixture {
 protected:
  void SetUp() override {
    Start({"User", "Account", "Contact"});
    held_ = write_path_->NewHeldWrites();
    ASSERT_NE(held_, nullptr);
  }
  void TearDown() override { Stop(); }

  int64_t SalesforceCalls() { return sim_->limits().used(); }

  // Holds `sql` on `querier` (the client's connection, inside its transaction) as the session
  // would, and runs the answer's RETURNING.
  Result Hold(const std::string& sql, const BoundParams& params = {}, PqQuerier* querier = nullptr,
              HeldWrites* held = nullptr) {
    querier = querier != nullptr ? querier : querier_.get();
    held = held != nullptr ? held : held_.get();
    Result r;
    StatementPlan plan = write_path_->Plan(sql);
    r.plan = plan.kind;
    if (plan.kind != Kind::kMutation) return r;
    r.outcome =
        write_path_->Hold(*plan.mutation, params, TxStatus::kInTransaction, *querier, *held);
    Returning(r.outcome, r, *querier);
    return r;
  }

  static void Returning(const MutationOutcome& outcome, Result& r, PqQuerier& querier) {
    if (!outcome.returning_sql) return;
    auto rows = querier.Query(*outcome.returning_sql, outcome.returning_params);
    r.returning_status = rows.status();
    if (rows.ok()) r.returning = rows->rows;
  }

  // An account written through the write path at once: in Salesforce and in the table.
  std::string ExistingAccount(const std::string& name) {
    Result r = Exec("INSERT INTO account (name) VALUES ($1) RETURNING id", TextParams({name}));
    EXPECT_FALSE(r.outcome.error.has_value()) << r.outcome.error->message;
    EXPECT_EQ(r.returning.size(), 1u);
    return r.returning.empty() ? "" : r.returning[0][0].value_or("");
  }

  std::string TableCount(const std::string& table, const std::string& where = "true") {
    return Scalar("SELECT count(*) FROM salesforce." + table + " WHERE " + where);
  }

  std::unique_ptr<HeldWrites> held_;
};

TEST_F(HeldWritesTest, AUnitIsOneCallAndItsRowsAreConfirmedInTheClientsTransaction) {
  ASSERT_EQ(querier_->Scalar("BEGIN"), "<none>");
  Result account = Hold("INSERT INTO account (name) VALUES ('Held One') RETURNING id, name");
  ASSERT_FALSE(account.outcome.error.has_value()) << account.outcome.error->message;
  EXPECT_EQ(account.outcome.command_tag, "INSERT 0 1");
  ASSERT_EQ(account.returning.size(), 1u);
  const std::string provisional = account.returning[0][0].value_or("");
  EXPECT_TRUE(writes::IsProvisionalId(provisional)) << provisional;

  // A later statement of the unit refers to the new account by its provisional id.
  Result contact = Hold(
      "INSERT INTO contact (last_name, account_id) VALUES ('Held', $1) RETURNING id, account_id",
      TextParams({provisional}));
  ASSERT_FALSE(contact.outcome.error.has_value()) << contact.outcome.error->message;
  Result renamed =
      Hold("UPDATE account SET name = name || ' renamed' WHERE id = $1", TextParams({provisional}));
  ASSERT_FALSE(renamed.outcome.error.has_value()) << renamed.outcome.error->message;
  EXPECT_EQ(renamed.outcome.command_tag, "UPDATE 1");
  EXPECT_EQ(held_->size(), 3u);

  // Read your writes: the unit's transaction sees them, other sessions do not.
  EXPECT_EQ(
      querier_->Scalar("SELECT name FROM salesforce.account WHERE id = '" + provisional + "'"),
      "Held One renamed");
  EXPECT_EQ(TableCount("account", "name LIKE 'Held One%'"), "0");
  EXPECT_EQ(sim_->org().Count("Account", false), 3);

  const int64_t calls = SalesforceCalls();
  HeldCommit commit = write_path_->CommitHeld(*held_, *querier_);
  ASSERT_FALSE(commit.error.has_value()) << commit.error->message;
  EXPECT_EQ(SalesforceCalls(), calls + 1) << "one Composite request for the whole unit";
  EXPECT_TRUE(held_->empty());
  ASSERT_EQ(commit.statements.size(), 3u);

  // The answers again, over the confirmed rows: Salesforce's ids.
  Result confirmed;
  Returning(commit.statements[0], confirmed, *querier_);
  ASSERT_EQ(confirmed.returning.size(), 1u) << confirmed.returning_status;
  const std::string account_id = confirmed.returning[0][0].value_or("");
  EXPECT_EQ(account_id.size(), 18u) << account_id;
  EXPECT_FALSE(writes::IsProvisionalId(account_id));
  Result confirmed_contact;
  Returning(commit.statements[1], confirmed_contact, *querier_);
  ASSERT_EQ(confirmed_contact.returning.size(), 1u);
  EXPECT_EQ(confirmed_contact.returning[0][1].value_or(""), account_id);
  ASSERT_EQ(querier_->Scalar("COMMIT"), "<none>");

  sfsim::org::RecordPtr in_salesforce = sim_->org().Get(account_id);
  ASSERT_NE(in_salesforce, nullptr);
  EXPECT_EQ(TableCount("account", "id = '" + account_id +
                                      "' AND name = 'Held One renamed' AND "
                                      "system_modstamp IS NOT NULL AND _modstamp_ms > 0"),
            "1");
  const std::string contact_id = confirmed_contact.returning[0][0].value_or("");
  EXPECT_EQ(
      TableCount("contact", "id = '" + contact_id + "' AND account_id = '" + account_id + "'"),
      "1");
  EXPECT_EQ(TableCount("account", "id LIKE '000p%'"), "0");
  EXPECT_EQ(TableCount("contact", "id LIKE '000p%'"), "0");
}

TEST_F(HeldWritesTest, ARefusedRecordLeavesNothingAnywhere) {
  const std::string existing = ExistingAccount("Existing");
  const std::string before_name =
      Scalar("SELECT name FROM salesforce.account WHERE id = '" + existing + "'");
  const int64_t accounts = sim_->org().Count("Account", false);
  ASSERT_EQ(querier_->Scalar("BEGIN"), "<none>");
  ASSERT_FALSE(Hold("INSERT INTO account (name) VALUES ('Fine')").outcome.error.has_value());
  ASSERT_FALSE(Hold("UPDATE account SET name = 'Changed' WHERE id = $1", TextParams({existing}))
                   .outcome.error.has_value());
  // No Name: Salesforce refuses this one (REQUIRED_FIELD_MISSING).
  Result bad = Hold("INSERT INTO account (name) VALUES (NULL)");
  ASSERT_FALSE(bad.outcome.error.has_value()) << bad.outcome.error->message;
  ASSERT_FALSE(Hold("INSERT INTO account (name) VALUES ('After')").outcome.error.has_value());

  const int64_t calls = SalesforceCalls();
  HeldCommit commit = write_path_->CommitHeld(*held_, *querier_);
  ASSERT_TRUE(commit.error.has_value());
  EXPECT_EQ(commit.error->sqlstate, "23502") << commit.error->message;
  EXPECT_EQ(commit.failed_statement, 2u);
  EXPECT_EQ(SalesforceCalls(), calls + 1);
  ASSERT_EQ(querier_->Scalar("ROLLBACK"), "<none>");

  EXPECT_EQ(sim_->org().Count("Account", false), accounts);
  sfsim::org::RecordPtr record = sim_->org().Get(existing);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(Scalar("SELECT name FROM salesforce.account WHERE id = '" + existing + "'"),
            before_name);
  EXPECT_EQ(TableCount("account", "name IN ('Fine', 'After', 'Changed')"), "0");
}

TEST_F(HeldWritesTest, TooManyRecordsForOneUnitAreRefusedBeforeAnythingIsSent) {
  ASSERT_EQ(querier_->Scalar("BEGIN"), "<none>");
  Result big = Hold("INSERT INTO account (name) SELECT 'n' || g FROM generate_series(1, 200) g");
  ASSERT_FALSE(big.outcome.error.has_value()) << big.outcome.error->message;
  ASSERT_FALSE(Hold("INSERT INTO account (name) SELECT 'm' || g FROM generate_series(1, 200) g")
                   .outcome.error.has_value());
  const int64_t calls = SalesforceCalls();
  Result over = Hold("INSERT INTO account (name) SELECT 'o' || g FROM generate_series(1, 101) g");
  ASSERT_TRUE(over.outcome.error.has_value());
  EXPECT_EQ(over.outcome.error->sqlstate, "54000");
  EXPECT_TRUE(absl::StrContains(over.outcome.error->message, "at most 500"))
      << over.outcome.error->message;
  EXPECT_EQ(held_->size(), 2u) << "the refused statement is not held";
  EXPECT_EQ(SalesforceCalls(), calls);
  write_path_->DiscardHeld(*held_);
  ASSERT_EQ(querier_->Scalar("ROLLBACK"), "<none>");
  EXPECT_EQ(TableCount("account", "name ~ '^[nmo][0-9]'"), "0");
}

TEST_F(HeldWritesTest, AConcurrentUnitWaitsForTheRowAndSeesItsCommittedValue) {
  const std::string id = ExistingAccount("Contended");
  ASSERT_EQ(querier_->Scalar("BEGIN"), "<none>");
  ASSERT_FALSE(Hold("UPDATE account SET name = 'first' WHERE id = $1", TextParams({id}))
                   .outcome.error.has_value());

  PqQuerier other(db_.url());
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other.Scalar("SET search_path = salesforce, public"), "<none>");
  std::unique_ptr<HeldWrites> other_held = write_path_->NewHeldWrites();
  ASSERT_EQ(other.Scalar("BEGIN"), "<none>");
  std::future<Result> second = std::async(std::launch::async, [&] {
    return Hold("UPDATE account SET name = name || ' then second' WHERE id = $1", TextParams({id}),
                &other, other_held.get());
  });
  // The second session waits on the row the first holds, as in PostgreSQL.
  if (second.wait_for(std::chrono::milliseconds(500)) != std::future_status::timeout) {
    Result early = second.get();
    FAIL() << "the second write did not wait: "
           << (early.outcome.error ? early.outcome.error->message : early.outcome.command_tag);
  }
  ASSERT_FALSE(write_path_->CommitHeld(*held_, *querier_).error.has_value());
  ASSERT_EQ(querier_->Scalar("COMMIT"), "<none>");
  Result second_result = second.get();
  ASSERT_FALSE(second_result.outcome.error.has_value()) << second_result.outcome.error->message;
  HeldCommit second_commit = write_path_->CommitHeld(*other_held, other);
  ASSERT_FALSE(second_commit.error.has_value()) << second_commit.error->message;
  ASSERT_EQ(other.Scalar("COMMIT"), "<none>");
  // The second update read the first one's committed value.
  EXPECT_EQ(Scalar("SELECT name FROM salesforce.account WHERE id = '" + id + "'"),
            "first then second");
  sfsim::org::RecordPtr record = sim_->org().Get(id);
  ASSERT_NE(record, nullptr);
}

// No way around Salesforce: the function that changes synced tables for held writes works only
// with the token of the calling backend, only on synced tables, and a transaction that used it
// cannot commit before the proxy says its writes are confirmed.
TEST_F(HeldWritesTest, NobodyCanUseThePendingWriteFunctionWithoutTheProxy) {
  ASSERT_TRUE(conn_->Exec("CREATE ROLE held_app LOGIN").ok());
  ASSERT_TRUE(conn_
                  ->Exec("GRANT USAGE ON SCHEMA salesforce TO held_app; "
                         "GRANT SELECT ON ALL TABLES IN SCHEMA salesforce TO held_app")
                  .ok());
  std::string app_url = db_.url();
  const size_t at = app_url.find("//postgres@");
  ASSERT_NE(at, std::string::npos) << app_url;
  app_url.replace(at, 11, "//held_app@");
  PqQuerier app(app_url);
  ASSERT_TRUE(app.ok());
  auto call = [&](PqQuerier& q, const std::string& token, const std::string& table) {
    return q.Scalar("SELECT sfbridge.pending_write('" + token + "', '" + table +
                    "', 'insert', '[{\"id\":\"001000000000000AAA\",\"name\":\"sneaky\","
                    "\"_modstamp_ms\":0}]')");
  };
  // Without the token; with a made-up one; with the token of another backend.
  EXPECT_TRUE(absl::StrContains(call(app, "", "salesforce.account"), "permission denied"));
  EXPECT_TRUE(absl::StrContains(call(app, std::string(64, 'a'), "salesforce.account"),
                                "permission denied"));
  const std::string token_of_admin = Scalar(
      "SELECT encode(sha256(secret || convert_to(':' || pg_backend_pid(), 'UTF8')), 'hex') "
      "FROM sfbridge.proxy_secret");
  EXPECT_TRUE(
      absl::StrContains(call(app, token_of_admin, "salesforce.account"), "permission denied"));
  // The secret itself is not readable.
  EXPECT_TRUE(absl::StrContains(app.Scalar("SELECT secret FROM sfbridge.proxy_secret"),
                                "permission denied"));
  // From a function of the client's own: the same.
  ASSERT_TRUE(conn_->Exec("GRANT CREATE ON SCHEMA public TO held_app").ok());
  EXPECT_EQ(app.Scalar("CREATE FUNCTION public.sneak() RETURNS jsonb LANGUAGE sql AS $$ "
                       "SELECT sfbridge.pending_write(repeat('b', 64), 'salesforce.account', "
                       "'delete', '[{\"id\":\"x\"}]') $$"),
            "<none>");
  EXPECT_TRUE(absl::StrContains(app.Scalar("SELECT public.sneak()"), "permission denied"));
  EXPECT_EQ(TableCount("account", "name = 'sneaky'"), "0");

  // With its own backend's token (as the proxy would compute it) the function works, on synced
  // tables only, and the transaction cannot commit with the write unconfirmed.
  PqQuerier admin(db_.url());
  ASSERT_TRUE(admin.ok());
  const std::string token = admin.Scalar(
      "SELECT encode(sha256(secret || convert_to(':' || pg_backend_pid(), 'UTF8')), 'hex') "
      "FROM sfbridge.proxy_secret");
  EXPECT_TRUE(absl::StrContains(call(admin, token, "sfbridge.orgs"), "is not a synced table"));
  ASSERT_EQ(admin.Scalar("BEGIN"), "<none>");
  EXPECT_TRUE(absl::StrContains(call(admin, token, "salesforce.account"), "sneaky"));
  const std::string committed = admin.Scalar("COMMIT");
  EXPECT_TRUE(absl::StrContains(committed, "not confirmed by Salesforce")) << committed;
  EXPECT_EQ(TableCount("account", "name = 'sneaky'"), "0");
  // Nor after dropping the session's temporary tables.
  ASSERT_EQ(admin.Scalar("BEGIN"), "<none>");
  EXPECT_TRUE(absl::StrContains(call(admin, token, "salesforce.account"), "sneaky"));
  admin.Scalar("DISCARD TEMP");
  EXPECT_TRUE(absl::StrContains(admin.Scalar("COMMIT"), "not confirmed by Salesforce"));
  EXPECT_EQ(TableCount("account", "name = 'sneaky'"), "0");
  // Not even with the check made immediate, or the setting that queues it turned off.
  ASSERT_EQ(admin.Scalar("BEGIN"), "<none>");
  EXPECT_TRUE(absl::StrContains(call(admin, token, "salesforce.account"), "sneaky"));
  admin.Scalar("SET LOCAL sfbridge.pending_write = 'off'");
  EXPECT_TRUE(absl::StrContains(admin.Scalar("SET CONSTRAINTS ALL IMMEDIATE"),
                                "not confirmed by Salesforce"));
  admin.Scalar("ROLLBACK");
  EXPECT_EQ(TableCount("account", "name = 'sneaky'"), "0");
  conn_->Exec("DROP FUNCTION public.sneak()").IgnoreError();
}

}  // namespace
}  // namespace sfbridge::proxy::testing
