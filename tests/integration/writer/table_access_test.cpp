// Who may do what to synced tables (invariant 2), with real login roles: the writer's role owns
// them, an application's role reads them and is refused every write by PostgreSQL itself. And a
// column added while readers hold the table: the DDL gives way instead of queueing them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/core/status.h"
#include "common/core/strings.h"
#include "tests/integration/writer/writer_test_db.h"
#include "writer/applier.h"
#include "writer/table_schema.h"

namespace sfbridge::writer {
namespace {

using core::StrCat;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

class TableAccessTest : public WriterTest {
 protected:
  Applier applier_{{.cache_layouts = false}};  // every call reads the table afresh

  void TearDown() override {
    for (const std::string& role : roles_) {
      // Privileges and owned objects in this database go with it; the role is cluster-wide.
      conn_->Exec(StrCat("DROP OWNED BY ", role, " CASCADE")).IgnoreError();
      conn_->Exec(StrCat("DROP ROLE IF EXISTS ", role)).IgnoreError();
    }
  }

  std::string CreateRole(const std::string& prefix, const std::string& options) {
    std::string role = testing::UniqueName(prefix);
    absl::Status s = conn_->Exec(StrCat("CREATE ROLE ", role, " ", options)).status();
    EXPECT_TRUE(s.ok()) << s;
    roles_.push_back(role);
    return role;
  }

  // The test database's URL with `role` as the user (the test server trusts local logins).
  std::string UrlAs(const std::string& role) {
    std::string url = db_.url();
    const size_t at = url.find('@'), scheme = url.find("://");
    EXPECT_NE(at, std::string::npos);
    return StrCat(url.substr(0, scheme + 3), role, url.substr(at));
  }

  std::vector<std::string> roles_;
};

TEST_F(TableAccessTest, TheWritersRoleOwnsSyncedTablesAndAnApplicationRoleOnlyReads) {
  // The writer's role: no superuser; it owns the control plane and may create schemas.
  const std::string writer_role = CreateRole("sfwriter", "LOGIN");
  const std::string read_role = CreateRole("sfread", "NOLOGIN");
  const std::string app_role = CreateRole("sfapp", StrCat("LOGIN IN ROLE ", read_role));
  ASSERT_TRUE(EnsureWriterTables(*conn_).ok());
  absl::Status handed_over =
      conn_
          ->Exec(StrCat("GRANT CREATE ON DATABASE \"", db_.name(), "\" TO ", writer_role,
                        "; ALTER SCHEMA sfbridge OWNER TO ", writer_role,
                        "; DO $o$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables "
                        "WHERE schemaname = 'sfbridge' LOOP EXECUTE format('ALTER TABLE "
                        "sfbridge.%I OWNER TO %I', t, '",
                        writer_role, "'); END LOOP; END $o$"))
          .status();
  ASSERT_TRUE(handed_over.ok()) << handed_over;
  auto writer = postgres::Connection::Connect(UrlAs(writer_role));
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE(EnsureTable(**writer, kSchema,
                          MakeSchema("Contact", {{"LastName", "string"}, {"Email", "email"}}),
                          {.read_role = read_role})
                  .ok());
  auto applied = applier_.ApplyBatch(**writer, kSchema,
                                     {Change("Contact", "003A", 1, {{"LastName", Text("Hopper")}}),
                                      Change("Contact", "003B", 1, {{"LastName", Text("Lamarr")}}),
                                      Deletion("Contact", "003B", 2)},
                                     {});
  ASSERT_TRUE(applied.ok()) << applied.status();

  EXPECT_EQ(Scalar("SELECT tableowner FROM pg_tables WHERE schemaname = 'salesforce' AND "
                   "tablename = 'contact'"),
            writer_role);
  EXPECT_EQ(Scalar("SELECT tableowner FROM pg_tables WHERE schemaname = 'salesforce' AND "
                   "tablename = '_tombstones'"),
            writer_role);
  EXPECT_EQ(Scalar("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'salesforce'"),
            writer_role);

  // The application logs in as itself: it reads the rows and the tombstones ...
  auto app = postgres::Connection::Connect(UrlAs(app_role));
  ASSERT_TRUE(app.ok()) << app.status();
  auto rows = (*app)->Exec("SELECT id, last_name, _synced_at IS NOT NULL FROM salesforce.contact");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(*rows->rows[0][1], "Hopper");
  EXPECT_EQ(*rows->rows[0][2], "t");
  auto tombs = (*app)->Exec("SELECT id FROM salesforce._tombstones");
  ASSERT_TRUE(tombs.ok()) << tombs.status();
  EXPECT_EQ(tombs->rows.size(), 1u);

  // ... and PostgreSQL refuses it every write, DDL included.
  for (const std::string& write : {
           std::string("INSERT INTO salesforce.contact (id, _modstamp_ms) VALUES ('003X', 9)"),
           std::string("UPDATE salesforce.contact SET last_name = 'Changed'"),
           std::string("DELETE FROM salesforce.contact"),
           std::string("TRUNCATE salesforce.contact"),
           std::string("COPY salesforce.contact (id, _modstamp_ms) FROM PROGRAM 'true'"),
           std::string("DELETE FROM salesforce._tombstones"),
           std::string("ALTER TABLE salesforce.contact ADD COLUMN sneaky text"),
           std::string("CREATE TABLE salesforce.sneaky (id text)"),
       }) {
    absl::StatusOr<postgres::QueryResult> r = (*app)->Exec(write);
    ASSERT_FALSE(r.ok()) << write;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied)
        << write << ": " << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("SQLSTATE 42501")) << write;
  }
  EXPECT_EQ(Scalar("SELECT string_agg(id || ' ' || last_name, ',') FROM salesforce.contact"),
            "003A Hopper");
  // A role outside the read role sees nothing.
  const std::string stranger = CreateRole("sfstranger", "LOGIN");
  auto other = postgres::Connection::Connect(UrlAs(stranger));
  ASSERT_TRUE(other.ok()) << other.status();
  auto denied = (*other)->Exec("SELECT count(*) FROM salesforce.contact");
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
}

TEST_F(TableAccessTest, SyncedAtMovesWithEveryWrite) {
  ASSERT_TRUE(EnsureTable(*conn_, kSchema, MakeSchema("Contact", {{"LastName", "string"}})).ok());
  ASSERT_TRUE(applier_.ApplyBatch(*conn_, kSchema, {Change("Contact", "003A", 1)}, {}).ok());
  const std::string first = Scalar("SELECT _synced_at FROM salesforce.contact");
  ASSERT_NE(first, "<none>");
  ASSERT_TRUE(conn_->Exec("SELECT pg_sleep(0.01)").ok());
  ASSERT_TRUE(applier_.ApplyBatch(*conn_, kSchema, {Change("Contact", "003A", 2)}, {}).ok());
  EXPECT_EQ(Scalar("SELECT _synced_at > $1::timestamptz FROM salesforce.contact", {first}), "t");
  // A stale version does not touch it.
  const std::string second = Scalar("SELECT _synced_at FROM salesforce.contact");
  ASSERT_TRUE(applier_.ApplyBatch(*conn_, kSchema, {Change("Contact", "003A", 1)}, {}).ok());
  EXPECT_EQ(Scalar("SELECT _synced_at FROM salesforce.contact"), second);
}

// A reader holding the table open makes ALTER TABLE wait, and every later reader queues behind
// the waiting ALTER. With lock_timeout the column add gives up after it (kAborted: retry), the
// readers go on, and the add lands once the long reader is done.
TEST_F(TableAccessTest, AColumnAddGivesWayToReadersAndLandsAfterThem) {
  ASSERT_TRUE(EnsureTable(*conn_, kSchema, MakeSchema("Contact", {{"LastName", "string"}})).ok());
  ASSERT_TRUE(applier_.ApplyBatch(*conn_, kSchema, {Change("Contact", "003A", 1)}, {}).ok());

  std::promise<void> reading, release;
  std::thread long_reader([&] {
    auto c = postgres::Connection::Connect(db_.url());
    ASSERT_TRUE(c.ok());
    absl::Status s = (*c)->InTransaction([&](postgres::Transaction& tx) -> absl::Status {
      auto r = tx.Exec("SELECT count(*) FROM salesforce.contact");
      reading.set_value();
      release.get_future().wait();
      return r.status();
    });
    EXPECT_TRUE(s.ok()) << s;
  });
  reading.get_future().wait();

  const auto lock_timeout = std::chrono::milliseconds(1500);
  const v1::ObjectSchema wider = MakeSchema("Contact", {{"LastName", "string"}, {"Fax", "phone"}});
  absl::Status added;
  Clock::duration add_took{};
  std::thread adder([&] {
    auto c = postgres::Connection::Connect(db_.url());
    ASSERT_TRUE(c.ok());
    const auto start = Clock::now();
    added = EnsureTable(**c, kSchema, wider, {.lock_timeout = lock_timeout});
    add_took = Clock::now() - start;
  });
  // A reader arriving while the add waits: delayed at most until the add gives up.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto reader = postgres::Connection::Connect(db_.url());
  ASSERT_TRUE(reader.ok());
  const auto read_start = Clock::now();
  auto r = (*reader)->Exec("SELECT count(*) FROM salesforce.contact");
  const auto read_took = Clock::now() - read_start;
  ASSERT_TRUE(r.ok()) << r.status();
  adder.join();
  EXPECT_EQ(added.code(), absl::StatusCode::kAborted) << added;
  EXPECT_TRUE(core::IsRetryable(added));
  EXPECT_THAT(std::string(added.message()), HasSubstr("lock timeout"));
  EXPECT_GE(add_took, lock_timeout);
  EXPECT_LT(add_took, lock_timeout + std::chrono::seconds(5));
  EXPECT_LT(read_took, lock_timeout + std::chrono::seconds(5));
  EXPECT_EQ(Scalar("SELECT count(*) FROM sfbridge.field_mappings WHERE field_name = 'Fax'"), "0");

  // The long reader ends: the retried add goes through, and values flow into the new column.
  release.set_value();
  long_reader.join();
  ASSERT_TRUE(EnsureTable(*conn_, kSchema, wider, {.lock_timeout = lock_timeout}).ok());
  ASSERT_TRUE(
      applier_
          .ApplyBatch(*conn_, kSchema, {Change("Contact", "003A", 2, {{"Fax", Text("555")}})}, {})
          .ok());
  EXPECT_EQ(Scalar("SELECT fax FROM salesforce.contact"), "555");
}

}  // namespace
}  // namespace sfbridge::writer
