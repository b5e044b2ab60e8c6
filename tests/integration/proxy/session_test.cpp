// The session against real PostgreSQL through an in-process proxy, driven by libpq: pass-through
// of the protocol's features, and interception with a fake write path (fake_write_path.h).
// Over 500 lines: twenty cases on one in-process proxy fixture, one per protocol feature.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "proxy/pg_wire.h"
#include "tests/harness/test_env.h"
#include "tests/proxy/fake_write_path.h"
#include "tests/proxy/proxy_test_support.h"

namespace sfbridge::proxy::testing {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<FakeWritePath>();
    fake_ = fake.get();
    proxy_ = std::make_unique<InProcessProxy>(std::move(fake));
    direct_ = Connect(db_.url());
    ASSERT_TRUE(direct_);
    PgResult r = Exec(direct_.get(),
                      "CREATE TABLE fake_synced(id int, name text);"
                      "CREATE TABLE fake_refused(id int);"
                      "CREATE TABLE fake_log(v text);"
                      "CREATE TABLE plain(id int primary key, name text)");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
    conn_ = Connect(proxy_->ConnInfo(db_.name()));
    ASSERT_TRUE(conn_);
  }
  void TearDown() override {
    conn_.reset();
    proxy_.reset();
  }
  std::string LogRows() { return Scalar(direct_.get(), "SELECT count(*) FROM fake_log"); }

  sfbridge::testing::TempDatabase db_;
  FakeWritePath* fake_ = nullptr;
  std::unique_ptr<InProcessProxy> proxy_;
  PgConn direct_, conn_;
};

// ---- pass-through

TEST_F(SessionTest, SimpleAndMultiStatementQueriesPassThrough) {
  PGconn* c = conn_.get();
  ASSERT_TRUE(PQsendQuery(c, "INSERT INTO plain VALUES (1, 'a'); SELECT id, name FROM plain"));
  PgResult r1(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(r1.get()), PGRES_COMMAND_OK);
  EXPECT_STREQ(PQcmdStatus(r1.get()), "INSERT 0 1");
  PgResult r2(PQgetResult(c));
  ASSERT_EQ(PQresultStatus(r2.get()), PGRES_TUPLES_OK);
  EXPECT_STREQ(PQgetvalue(r2.get(), 0, 1), "a");
  EXPECT_EQ(PQgetResult(c), nullptr);
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
  EXPECT_TRUE(fake_->calls().empty());
}

TEST_F(SessionTest, TransactionStatusFollowsTheServer) {
  PGconn* c = conn_.get();
  Exec(c, "BEGIN");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_INTRANS);
  PgResult bad = Exec(c, "SELECT 1/0");
  EXPECT_EQ(SqlState(bad.get()), "22012");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_INERROR);
  PgResult ignored = Exec(c, "SELECT 1");
  EXPECT_EQ(SqlState(ignored.get()), "25P02");
  Exec(c, "ROLLBACK");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
}

TEST_F(SessionTest, ExtendedProtocolWithParametersAndBinaryResults) {
  PGconn* c = conn_.get();
  const char* values[] = {"7", "seven"};
  PgResult ins(PQexecParams(c, "INSERT INTO plain VALUES ($1, $2)", 2, nullptr, values, nullptr,
                            nullptr, 0));
  ASSERT_EQ(PQresultStatus(ins.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(ins.get());
  PgResult prep(PQprepare(c, "get", "SELECT id, name FROM plain WHERE id = $1", 1, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK);
  PgResult desc(PQdescribePrepared(c, "get"));
  EXPECT_EQ(PQnparams(desc.get()), 1);
  EXPECT_EQ(PQnfields(desc.get()), 2);
  const char* id[] = {"7"};
  PgResult row(PQexecPrepared(c, "get", 1, id, nullptr, nullptr, /*binary*/ 1));
  ASSERT_EQ(PQresultStatus(row.get()), PGRES_TUPLES_OK);
  ASSERT_EQ(PQgetlength(row.get(), 0, 0), 4);
  uint32_t v;
  std::memcpy(&v, PQgetvalue(row.get(), 0, 0), 4);
  EXPECT_EQ(ntohl(v), 7u);
  PgResult dup(PQexecPrepared(c, "get", 1, id, nullptr, nullptr, 0));
  EXPECT_STREQ(PQgetvalue(dup.get(), 0, 1), "seven");
}

TEST_F(SessionTest, NoticesNotificationsAndParameterStatusPassOn) {
  PGconn* c = conn_.get();
  std::string notice;
  PQsetNoticeReceiver(
      c,
      [](void* arg, const PGresult* r) {
        *static_cast<std::string*>(arg) = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
      },
      &notice);
  Exec(c, "DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$");
  EXPECT_EQ(notice, "hello from the server");
  Exec(c, "SET application_name = 'through_proxy'");
  EXPECT_STREQ(PQparameterStatus(c, "application_name"), "through_proxy");
  Exec(c, "LISTEN chan");
  Exec(direct_.get(), "NOTIFY chan, 'payload'");
  PQconsumeInput(c);
  PGnotify* n = nullptr;
  for (int i = 0; i < 100 && !(n = PQnotifies(c)); ++i) {
    Exec(c, "SELECT 1");  // lets libpq read the notification
  }
  ASSERT_NE(n, nullptr);
  EXPECT_STREQ(n->extra, "payload");
  PQfreemem(n);
}

TEST_F(SessionTest, CopyInAndOutPassThrough) {
  PGconn* c = conn_.get();
  PgResult start = Exec(c, "COPY plain FROM STDIN");
  ASSERT_EQ(PQresultStatus(start.get()), PGRES_COPY_IN);
  std::string data;
  for (int i = 1; i <= 500; ++i) data += std::to_string(i) + "\tname" + std::to_string(i) + "\n";
  ASSERT_EQ(PQputCopyData(c, data.data(), static_cast<int>(data.size())), 1);
  ASSERT_EQ(PQputCopyEnd(c, nullptr), 1);
  PgResult done(PQgetResult(c));
  EXPECT_STREQ(PQcmdStatus(done.get()), "COPY 500");
  while (PGresult* r = PQgetResult(c)) PQclear(r);
  PgResult out = Exec(c, "COPY (SELECT id FROM plain ORDER BY id) TO STDOUT");
  ASSERT_EQ(PQresultStatus(out.get()), PGRES_COPY_OUT);
  int rows = 0;
  char* buf = nullptr;
  while (PQgetCopyData(c, &buf, 0) > 0) {
    ++rows;
    PQfreemem(buf);
  }
  while (PGresult* r = PQgetResult(c)) PQclear(r);
  EXPECT_EQ(rows, 500);
  // COPY FROM in the extended protocol: libpq's Sync behind the Execute is ignored by Postgres.
  PgResult ext(PQexecParams(c, "COPY plain FROM STDIN", 0, nullptr, nullptr, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(ext.get()), PGRES_COPY_IN);
  std::string more = "1000\tx\n";
  PQputCopyData(c, more.data(), static_cast<int>(more.size()));
  PQputCopyEnd(c, nullptr);
  while (PGresult* r = PQgetResult(c)) PQclear(r);
  EXPECT_EQ(Scalar(c, "SELECT count(*) FROM plain"), "501");
}

TEST_F(SessionTest, PipelineOfReadsWithAnErrorInTheMiddle) {
  PGconn* c = conn_.get();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  PQsendQueryParams(c, "SELECT 1", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQsendQueryParams(c, "SELECT 1/0", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQsendQueryParams(c, "SELECT 3", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQpipelineSync(c);
  PQsendQueryParams(c, "SELECT 4", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQpipelineSync(c);
  std::vector<ExecStatusType> seen;
  std::vector<std::string> values;
  for (int syncs = 0; syncs < 2;) {
    PGresult* r = PQgetResult(c);
    if (!r) continue;
    seen.push_back(PQresultStatus(r));
    if (PQresultStatus(r) == PGRES_TUPLES_OK) values.push_back(PQgetvalue(r, 0, 0));
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) ++syncs;
    PQclear(r);
  }
  EXPECT_EQ(values, (std::vector<std::string>{"1", "4"}));
  EXPECT_EQ(std::count(seen.begin(), seen.end(), PGRES_FATAL_ERROR), 1);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), PGRES_PIPELINE_ABORTED), 1);
  PQexitPipelineMode(c);
}

// ---- interception

TEST_F(SessionTest, SimpleMutationRunsThroughTheWritePath) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "INSERT INTO fake_synced VALUES (1, 'x')");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(r.get());
  EXPECT_STREQ(PQcmdStatus(r.get()), "INSERT 0 1");
  ASSERT_EQ(fake_->calls().size(), 1u);
  EXPECT_EQ(fake_->calls()[0].tx_status, TxStatus::kIdle);
  EXPECT_EQ(fake_->calls()[0].derived_value, "none!");
  EXPECT_EQ(LogRows(), "1");  // the derived query ran on the server
  EXPECT_EQ(Scalar(direct_.get(), "SELECT count(*) FROM fake_synced"), "0");  // not the original
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
  EXPECT_EQ(MetricValue(proxy_->metrics(), "sfbridge_proxy_statements_total{kind=\"mutation\"}"),
            1);
}

TEST_F(SessionTest, MultiStatementStringKeepsItsResultsAndOneImplicitTransaction) {
  PGconn* c = conn_.get();
  ASSERT_TRUE(PQsendQuery(c, "SELECT 1 AS a; INSERT INTO fake_synced VALUES (2); SELECT 2 AS b"));
  std::vector<std::string> got;
  while (PGresult* r = PQgetResult(c)) {
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      got.push_back(std::string(PQfname(r, 0)) + "=" + PQgetvalue(r, 0, 0));
    } else {
      got.push_back(PQcmdStatus(r));
    }
    PQclear(r);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"a=1", "INSERT 0 1", "b=2"}));
  EXPECT_EQ(LogRows(), "1");

  // An error after a mutation rolls back the whole string, derived queries included.
  PgResult r = Exec(c,
                    "INSERT INTO fake_log VALUES ('before'); INSERT INTO fake_synced VALUES "
                    "(3); SELECT 1/0; INSERT INTO fake_log VALUES ('after')");
  EXPECT_EQ(SqlState(r.get()), "22012");
  EXPECT_EQ(LogRows(), "1");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
  // An explicit transaction inside the string ends it.
  r = Exec(c, "BEGIN; INSERT INTO fake_synced VALUES (4); COMMIT; SELECT 5");
  EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "5");
  EXPECT_EQ(fake_->calls().back().tx_status, TxStatus::kInTransaction);
  EXPECT_EQ(LogRows(), "2");
}

TEST_F(SessionTest, MutationErrorInExplicitTransactionFailsItOnBothSides) {
  PGconn* c = conn_.get();
  Exec(c, "BEGIN");
  Exec(c, "INSERT INTO fake_log VALUES ('kept until rollback')");
  PgResult r = Exec(c, "INSERT INTO fake_synced VALUES (1, 'error')");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  EXPECT_EQ(SqlState(r.get()), "23505");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY),
               "duplicate value found: name (fake)");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_MESSAGE_DETAIL), "columns: name");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_MESSAGE_HINT), "use another name");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_COLUMN_NAME), "name");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_TABLE_NAME), "fake_synced");
  EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SCHEMA_NAME), "public");
  EXPECT_EQ(PQresultErrorField(r.get(), PG_DIAG_CONTEXT), nullptr);
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_INERROR);
  // The server agrees: the transaction is aborted there too.
  PgResult next = Exec(c, "SELECT 1");
  EXPECT_EQ(SqlState(next.get()), "25P02");
  // In a failed transaction a mutation goes to Postgres (25P02), not to the write path.
  size_t before = fake_->calls().size();
  PgResult again = Exec(c, "INSERT INTO fake_synced VALUES (2)");
  EXPECT_EQ(SqlState(again.get()), "25P02");
  EXPECT_EQ(fake_->calls().size(), before);
  Exec(c, "ROLLBACK");
  EXPECT_EQ(LogRows(), "0");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
}

TEST_F(SessionTest, RefusedStatementErrorsInBothProtocols) {
  PGconn* c = conn_.get();
  PgResult r = Exec(c, "DELETE FROM fake_refused");
  EXPECT_EQ(SqlState(r.get()), "0A000");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
  Exec(c, "BEGIN");
  PgResult ext(PQexecParams(c, "DELETE FROM fake_refused WHERE id = $1", 1, nullptr,
                            std::vector<const char*>{"1"}.data(), nullptr, nullptr, 0));
  EXPECT_EQ(SqlState(ext.get()), "0A000");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_INERROR);
  Exec(c, "ROLLBACK");
  EXPECT_EQ(MetricValue(proxy_->metrics(), "sfbridge_proxy_statements_total{kind=\"refused\"}"), 2);
  EXPECT_TRUE(fake_->calls().empty());
}

TEST_F(SessionTest, FailingDerivedQueryFailsTheStatement) {
  PGconn* c = conn_.get();
  Exec(c, "BEGIN");
  PgResult r = Exec(c, "INSERT INTO fake_synced VALUES (1, 'queryfail')");
  EXPECT_EQ(SqlState(r.get()), "22012");
  EXPECT_EQ(PQtransactionStatus(c), PQTRANS_INERROR);
  EXPECT_EQ(fake_->calls().back().derived_value, "22012");
  Exec(c, "ROLLBACK");
  PgResult ext(PQexecParams(c, "INSERT INTO fake_synced VALUES (1, 'queryfail')", 0, nullptr,
                            nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(SqlState(ext.get()), "22012");
  EXPECT_EQ(Scalar(c, "SELECT 7"), "7");  // the session goes on
}

TEST_F(SessionTest, NoticesAndPassThroughOutcomes) {
  PGconn* c = conn_.get();
  std::string notice;
  PQsetNoticeReceiver(
      c,
      [](void* arg, const PGresult* r) {
        *static_cast<std::string*>(arg) = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
      },
      &notice);
  PgResult r = Exec(c, "INSERT INTO fake_synced VALUES (1, 'notice')");
  EXPECT_STREQ(PQcmdStatus(r.get()), "INSERT 0 1");
  EXPECT_EQ(notice, "the Salesforce change cannot be rolled back");
  PgResult p = Exec(c, "INSERT INTO fake_synced VALUES (9, 'passthrough')");
  EXPECT_STREQ(PQcmdStatus(p.get()), "INSERT 0 1");
  EXPECT_EQ(Scalar(direct_.get(), "SELECT name FROM fake_synced WHERE id = 9"), "passthrough");
}

TEST_F(SessionTest, ReturningRowsInSimpleAndExtendedProtocolsAndBinaryFormat) {
  PGconn* c = conn_.get();
  PgResult s = Exec(c, "INSERT INTO fake_synced VALUES (1) RETURNING id, name");
  ASSERT_EQ(PQresultStatus(s.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(s.get());
  EXPECT_STREQ(PQcmdStatus(s.get()), "INSERT 0 1");
  EXPECT_STREQ(PQfname(s.get(), 1), "name");
  EXPECT_STREQ(PQgetvalue(s.get(), 0, 0), "42");
  EXPECT_STREQ(PQgetvalue(s.get(), 0, 1), "fake");

  PgResult prep(PQprepare(c, "ins", "INSERT INTO fake_synced(name) VALUES ($1) RETURNING id, name",
                          1, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK);
  const char* v[] = {"bob"};
  PgResult text(PQexecPrepared(c, "ins", 1, v, nullptr, nullptr, 0));
  ASSERT_EQ(PQresultStatus(text.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(text.get());
  EXPECT_STREQ(PQcmdStatus(text.get()), "INSERT 0 1");
  EXPECT_STREQ(PQgetvalue(text.get(), 0, 1), "bob");
  PgResult bin(PQexecPrepared(c, "ins", 1, v, nullptr, nullptr, 1));
  ASSERT_EQ(PQresultStatus(bin.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(bin.get());
  ASSERT_EQ(PQgetlength(bin.get(), 0, 0), 4);
  uint32_t id;
  std::memcpy(&id, PQgetvalue(bin.get(), 0, 0), 4);
  EXPECT_EQ(ntohl(id), 42u);
  ASSERT_EQ(fake_->calls().size(), 3u);
  EXPECT_EQ(fake_->calls()[1].params.at(0), "bob");
}

TEST_F(SessionTest, ReturningThatFailsAfterTheWriteSaysTheWriteIsApplied) {
  PGconn* c = conn_.get();
  PgResult s = Exec(c, "INSERT INTO fake_synced VALUES (1, 'returnfail') RETURNING id");
  EXPECT_EQ(SqlState(s.get()), "58000");
  const std::string message = PQresultErrorField(s.get(), PG_DIAG_MESSAGE_PRIMARY);
  EXPECT_NE(message.find("IS applied"), std::string::npos) << message;
  EXPECT_NE(message.find("division by zero"), std::string::npos) << message;
  const std::string detail = PQresultErrorField(s.get(), PG_DIAG_MESSAGE_DETAIL);
  EXPECT_NE(detail.find("22012"), std::string::npos) << detail;
  PgResult ext(PQexecParams(c, "INSERT INTO fake_synced VALUES (2, 'returnfail') RETURNING id", 0,
                            nullptr, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(SqlState(ext.get()), "58000");
  EXPECT_EQ(Scalar(c, "SELECT 7"), "7");  // the session goes on
}

TEST_F(SessionTest, UnnamedAndNamedStatementsKeepTheirPlans) {
  PGconn* c = conn_.get();
  // A named mutation statement prepared first, then the unnamed one reused for a read: the
  // named one still intercepts, the read does not.
  PQclear(PQprepare(c, "w", "INSERT INTO fake_synced(name) VALUES ($1)", 1, nullptr));
  const char* a[] = {"a"};
  PgResult read(PQexecParams(c, "SELECT $1::text", 1, nullptr, a, nullptr, nullptr, 0));
  EXPECT_STREQ(PQgetvalue(read.get(), 0, 0), "a");
  const char* b[] = {"b"};
  PgResult w(PQexecPrepared(c, "w", 1, b, nullptr, nullptr, 0));
  EXPECT_STREQ(PQcmdStatus(w.get()), "INSERT 0 1");
  PgResult unnamed(PQexecParams(c, "INSERT INTO fake_synced(name) VALUES ($1)", 1, nullptr, b,
                                nullptr, nullptr, 0));
  EXPECT_STREQ(PQcmdStatus(unnamed.get()), "INSERT 0 1");
  // Re-preparing the name for a read drops the plan.
  PQclear(Exec(c, "DEALLOCATE w").release());
  PQclear(PQprepare(c, "w", "SELECT count(*) FROM fake_log", 0, nullptr));
  PgResult count(PQexecPrepared(c, "w", 0, nullptr, nullptr, nullptr, 0));
  EXPECT_STREQ(PQgetvalue(count.get(), 0, 0), "2");
  EXPECT_EQ(fake_->calls().size(), 2u);
  EXPECT_EQ(fake_->calls()[0].params.at(0), "b");
}

TEST_F(SessionTest, PipelinedMutationsKeepOrderAndErrorsAbortToSync) {
  PGconn* c = conn_.get();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  const char* x[] = {"x"};
  PQsendQueryParams(c, "SELECT 1", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQsendQueryParams(c, "INSERT INTO fake_synced(name) VALUES ($1) RETURNING id, name", 1, nullptr,
                    x, nullptr, nullptr, 0);
  PQsendQueryParams(c, "INSERT INTO fake_synced(name) VALUES ($1)", 1, nullptr, x, nullptr, nullptr,
                    0);
  PQsendQueryParams(c, "SELECT 2", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQpipelineSync(c);
  PQsendQueryParams(c, "INSERT INTO fake_synced(name) VALUES ('error')", 0, nullptr, nullptr,
                    nullptr, nullptr, 0);
  PQsendQueryParams(c, "SELECT 3", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQpipelineSync(c);
  PQsendQueryParams(c, "SELECT count(*) FROM fake_log", 0, nullptr, nullptr, nullptr, nullptr, 0);
  PQpipelineSync(c);
  std::vector<std::string> got;
  for (int syncs = 0; syncs < 3;) {
    PGresult* r = PQgetResult(c);
    if (!r) continue;
    switch (PQresultStatus(r)) {
      case PGRES_TUPLES_OK:
        got.push_back(std::string(PQcmdStatus(r)) + ":" + PQgetvalue(r, 0, PQnfields(r) - 1));
        break;
      case PGRES_COMMAND_OK:
        got.push_back(PQcmdStatus(r));
        break;
      case PGRES_FATAL_ERROR:
        got.push_back("error " + SqlState(r));
        break;
      case PGRES_PIPELINE_ABORTED:
        got.push_back("aborted");
        break;
      case PGRES_PIPELINE_SYNC:
        got.push_back("sync");
        ++syncs;
        break;
      default:
        got.push_back("other");
        break;
    }
    PQclear(r);
  }
  PQexitPipelineMode(c);
  EXPECT_EQ(got, (std::vector<std::string>{"SELECT 1:1", "INSERT 0 1:x", "INSERT 0 1", "SELECT 1:2",
                                           "sync", "error 23505", "aborted", "sync", "SELECT 1:1",
                                           "sync"}));
}

// ---- cancel, bad input, limits

TEST_F(SessionTest, CancelReachesTheRightServerConnection) {
  PGconn* c = conn_.get();
  PgConn other = Connect(proxy_->ConnInfo(db_.name()));
  ASSERT_TRUE(other);
  ASSERT_TRUE(PQsendQuery(c, "SELECT pg_sleep(60)"));
  ASSERT_TRUE(PQsendQuery(other.get(), "SELECT pg_sleep(1), 'other done'"));
  // The query must have reached the server before the cancel.
  for (int i = 0; i < 200; ++i) {
    if (Scalar(direct_.get(),
               "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT "
               "pg_sleep(60)' AND state = 'active'") == "1") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto start = std::chrono::steady_clock::now();
  PGcancel* cancel = PQgetCancel(c);
  char err[256];
  ASSERT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
  PQfreeCancel(cancel);
  PgResult r(PQgetResult(c));
  EXPECT_EQ(SqlState(r.get()), "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  while (PGresult* x = PQgetResult(c)) PQclear(x);
  PgResult o(PQgetResult(other.get()));
  ASSERT_EQ(PQresultStatus(o.get()), PGRES_TUPLES_OK);  // the other session was not cancelled
  EXPECT_STREQ(PQgetvalue(o.get(), 0, 1), "other done");
  while (PGresult* x = PQgetResult(other.get())) PQclear(x);
  // The client saw the proxy's key, not the server's pid.
  EXPECT_NE(std::to_string(PQbackendPID(c)), Scalar(c, "SELECT pg_backend_pid()"));
}

TEST_F(SessionTest, BadInputClosesOnlyThatConnection) {
  double errors_before = MetricValue(proxy_->metrics(), "sfbridge_proxy_protocol_errors_total");
  // Garbage instead of a startup packet.
  int fd = RawConnect(proxy_->port());
  ASSERT_GE(fd, 0);
  std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  send(fd, garbage.data(), garbage.size(), 0);
  bool closed = false;
  std::string reply = ReadUntilClosed(fd, 20000, &closed);
  close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.substr(0, 1), "E");

  // An oversize length prefix after a good startup.
  fd = RawConnect(proxy_->port());
  std::string startup;
  wire::AppendStartup(&startup, {{"user", "postgres"}, {"database", db_.name()}});
  send(fd, startup.data(), startup.size(), 0);
  std::string huge = {'Q', '\x7f', '\xff', '\xff', '\xf0'};
  // After authentication (trust) the proxy reads the message header and gives up at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  send(fd, huge.data(), huge.size(), 0);
  reply = ReadUntilClosed(fd, 20000, &closed);
  close(fd);
  EXPECT_TRUE(closed);
  EXPECT_NE(reply.find("exceeds the maximum size"), std::string::npos);

  // A truncated message, then the client goes away.
  fd = RawConnect(proxy_->port());
  send(fd, startup.data(), startup.size(), 0);
  std::string partial = {'Q', 0, 0, 0, 100, 's', 'e', 'l'};
  send(fd, partial.data(), partial.size(), 0);
  shutdown(fd, SHUT_WR);
  reply = ReadUntilClosed(fd, 20000, &closed);
  close(fd);
  EXPECT_TRUE(closed);

  // The established session is unaffected.
  EXPECT_EQ(Scalar(conn_.get(), "SELECT 'still fine'"), "still fine");
  for (int i = 0; i < 100; ++i) {
    if (MetricValue(proxy_->metrics(), "sfbridge_proxy_protocol_errors_total") >=
        errors_before + 3) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(MetricValue(proxy_->metrics(), "sfbridge_proxy_protocol_errors_total"),
            errors_before + 3);
}

TEST(SessionLimitsTest, ConnectionsBeyondTheLimitAreRefused) {
  sfbridge::testing::TempDatabase db;
  ProxyOptions options;
  options.max_connections = 2;
  InProcessProxy proxy(MakePassThroughWritePath(), options);
  PgConn a = Connect(proxy.ConnInfo(db.name()));
  PgConn b = Connect(proxy.ConnInfo(db.name()));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(MetricValue(proxy.metrics(), "sfbridge_proxy_connections"), 2);
  PgConn c(PQconnectdb(proxy.ConnInfo(db.name()).c_str()));
  EXPECT_NE(PQstatus(c.get()), CONNECTION_OK);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("too many clients"), std::string::npos)
      << PQerrorMessage(c.get());
  EXPECT_EQ(MetricValue(proxy.metrics(), "sfbridge_proxy_connections_total{outcome=\"rejected\"}"),
            1);
  a.reset();
  for (int i = 0; i < 100 && proxy.server().open_connections() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  PgConn d = Connect(proxy.ConnInfo(db.name()));
  EXPECT_TRUE(d);
}

TEST(SessionUpstreamTest, UnreachableDatabaseIsACleanError) {
  ProxyOptions options;
  core::MetricsRegistry metrics;
  options.listen_port = 0;
  options.upstream_host = "127.0.0.1";
  options.upstream_port = 1;  // nothing listens there
  ProxyServer server(options, MakePassThroughWritePath(), metrics);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_FALSE(server.CheckUpstream().ok());
  PgConn c(PQconnectdb(
      ("host=127.0.0.1 user=postgres sslmode=disable port=" + std::to_string(server.port()))
          .c_str()));
  EXPECT_NE(PQstatus(c.get()), CONNECTION_OK);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("cannot reach the database"),
            std::string::npos)
      << PQerrorMessage(c.get());
}

}  // namespace
}  // namespace sfbridge::proxy::testing
