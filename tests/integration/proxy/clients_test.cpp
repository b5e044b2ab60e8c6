// The sfbridge-proxy program with real clients: psql, pgbench in every protocol, psycopg 3
// (pipeline mode too), pgjdbc, password authentication (md5, SCRAM-SHA-256), TLS, 200 clients at
// once, readiness (also while PostgreSQL is down) and a clean stop on SIGTERM.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "proxy/pg_wire.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"
#include "tests/proxy/proxy_test_support.h"

namespace sfbridge::proxy::testing {
namespace {

using sfbridge::testing::ChildProcess;
using sfbridge::testing::CommandResult;
using sfbridge::testing::FindProgram;
using sfbridge::testing::RunCommand;
using sfbridge::testing::TempDatabase;
using sfbridge::testing::TempDir;

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The proxy binary in front of `upstream_url`, on a free port.
class ProxyProcess {
 public:
  explicit ProxyProcess(const std::string& upstream_url,
                        std::vector<std::string> extra_flags = {}) {
    HostPort pg = ParseUrlHostPort(upstream_url);
    std::vector<std::string> argv = {
        SFBRIDGE_PROXY, "--upstream.url=postgresql://" + pg.host + ":" + std::to_string(pg.port),
        "--listen.port=0", "--metrics.port=0", "--log.format=text"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    process_ = ChildProcess::Start(argv);
    if (!process_) return;
    auto admin = process_->WaitForLine("sfbridge-proxy admin on ", std::chrono::seconds(60));
    auto line = process_->WaitForLine("sfbridge-proxy listening on ", std::chrono::seconds(60));
    if (!line || !admin) {
      ADD_FAILURE() << "proxy did not start: " << process_->Output();
      return;
    }
    port_ = std::stoi(line->substr(line->rfind(':') + 1));
    admin_port_ = std::stoi(admin->substr(admin->rfind(':') + 1));
  }
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }
  ChildProcess& process() { return *process_; }
  std::string Url(const std::string& user, const std::string& db) const {
    return "postgresql://" + user + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  int admin_port_ = 0;
};

class ClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(db_.url());
    ASSERT_GT(proxy_->port(), 0);
    url_ = proxy_->Url("postgres", db_.name());
  }
  TempDatabase db_;
  TempDir dir_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::string url_;
};

TEST_F(ClientsTest, PsqlSimpleMultiStatementAndCopy) {
  CommandResult r =
      RunCommand({FindProgram("psql"), "-X", "-v", "ON_ERROR_STOP=1", "-At", url_, "-c",
                  "CREATE TABLE t(id int, name text); INSERT INTO t VALUES (1, "
                  "'one'), (2, 'two'); SELECT count(*) FROM t"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "CREATE TABLE\nINSERT 0 2\n2\n");  // psql 15 shows every result
  std::string in = dir_.Path("in.tsv"), out = dir_.Path("out.tsv");
  std::string rows;
  for (int i = 3; i <= 2002; ++i) rows += std::to_string(i) + "\trow" + std::to_string(i) + "\n";
  WriteFile(in, rows);
  r = RunCommand({FindProgram("psql"), "-X", "-v", "ON_ERROR_STOP=1", "-At", url_, "-c",
                  "\\copy t from '" + in + "'", "-c",
                  "\\copy (SELECT * FROM t ORDER BY id) to '" + out + "'", "-c",
                  "SELECT count(*), sum(id) FROM t"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2002|2005003"), std::string::npos) << r.output;
  std::ifstream copied(out);
  std::string all((std::istreambuf_iterator<char>(copied)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "1\tone\n2\ttwo\n" + rows);
  // An error in a transaction, then the session goes on after ROLLBACK.
  r = RunCommand({FindProgram("psql"), "-X", "-At", url_, "-c", "BEGIN", "-c", "SELECT 1/0", "-c",
                  "SELECT 1", "-c", "ROLLBACK", "-c", "SELECT 'after'"});
  EXPECT_NE(r.output.find("division by zero"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("current transaction is aborted"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("after"), std::string::npos) << r.output;
}

TEST_F(ClientsTest, PgbenchEveryProtocolKeepsTheBooksBalanced) {
  CommandResult init = RunCommand({FindProgram("pgbench"), "-i", "-s", "1", "-q", url_}, {},
                                  std::chrono::seconds(120));
  ASSERT_EQ(init.exit_code, 0) << init.output;
  for (std::string protocol : {"simple", "extended", "prepared"}) {
    // -n: no VACUUM, which would also empty pgbench_history before each run.
    CommandResult run = RunCommand(
        {FindProgram("pgbench"), "-n", "-M", protocol, "-c", "4", "-j", "2", "-T", "3", url_}, {},
        std::chrono::seconds(120));
    ASSERT_EQ(run.exit_code, 0) << protocol << ": " << run.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(run.output, m,
                                  std::regex("number of transactions actually processed: (\\d+)")))
        << run.output;
    EXPECT_GT(std::stoi(m[1]), 0) << protocol;
    EXPECT_NE(run.output.find("number of failed transactions: 0 "), std::string::npos)
        << run.output;
  }
  PgConn direct = Connect(db_.url());
  // TPC-B: every transfer lands in accounts, tellers, branches and history alike.
  std::string sums = Scalar(direct.get(),
                            "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ',' || "
                            "(SELECT sum(tbalance) FROM pgbench_tellers) || ',' || "
                            "(SELECT sum(bbalance) FROM pgbench_branches) || ',' || "
                            "(SELECT sum(delta) FROM pgbench_history)");
  std::string first = sums.substr(0, sums.find(','));
  EXPECT_EQ(sums, first + "," + first + "," + first + "," + first);
  EXPECT_NE(Scalar(direct.get(), "SELECT count(*) FROM pgbench_history"), "0");
}

TEST_F(ClientsTest, Psycopg3WithParametersAndPipelineMode) {
  std::string script = dir_.Path("client.py");
  WriteFile(script, R"PY(
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("CREATE TABLE items(id int primary key, name text, price numeric)")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO items VALUES (%s, %s, %s)",
                        [(i, f"item {i}", i * 1.5) for i in range(1, 51)])
        cur.execute("SELECT name, price FROM items WHERE id = %s", (7,))
        assert cur.fetchone() == ("item 7", 10.5), "params"
        cur.execute("SELECT id FROM items WHERE id = %s", (8,), prepare=True)
        cur.execute("SELECT id FROM items WHERE id = %s", (9,), prepare=True)
        assert cur.fetchone() == (9,), "prepared"
        cur.execute("SELECT id FROM items WHERE id = %s", (3,), binary=True)
        assert cur.fetchone() == (3,), "binary"
    with conn.pipeline():
        c1 = conn.execute("SELECT count(*) FROM items")
        c2 = conn.execute("UPDATE items SET price = price * 2 WHERE id <= %s", (10,))
        c3 = conn.execute("SELECT sum(price) FROM items WHERE id <= 10")
    assert c1.fetchone() == (50,), "pipeline count"
    assert c2.rowcount == 10, "pipeline update"
    assert float(c3.fetchone()[0]) == 165.0, "pipeline sum"
    try:
        with conn.transaction():
            conn.execute("INSERT INTO items VALUES (1, 'dup', 0)")
    except psycopg.errors.UniqueViolation:
        pass
    else:
        raise AssertionError("expected a unique violation")
    assert conn.execute("SELECT count(*) FROM items").fetchone() == (50,), "after rollback"
print("psycopg ok")
)PY");
  CommandResult r = RunCommand({"/usr/bin/python3", script, url_});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("psycopg ok"), std::string::npos) << r.output;
}

TEST_F(ClientsTest, PgjdbcPreparedStatementsBatchesAndTransactions) {
  std::string java = dir_.Path("ProxyClient.java");
  WriteFile(java, R"JAVA(
import java.sql.*;
public class ProxyClient {
  static void check(boolean ok, String what) { if (!ok) throw new AssertionError(what); }
  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection(args[0] + "?prepareThreshold=1")) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE acct(id int primary key, owner text, balance bigint)");
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO acct VALUES (?, ?, ?)")) {
        for (int i = 1; i <= 100; i++) {
          p.setInt(1, i); p.setString(2, "owner" + i); p.setLong(3, i * 10L); p.addBatch();
        }
        int[] counts = p.executeBatch();
        check(counts.length == 100, "batch");
      }
      try (PreparedStatement p = c.prepareStatement("SELECT owner, balance FROM acct WHERE id = ?")) {
        for (int i = 1; i <= 20; i++) {
          p.setInt(1, i);
          try (ResultSet r = p.executeQuery()) {
            check(r.next() && r.getString(1).equals("owner" + i) && r.getLong(2) == i * 10L, "select " + i);
          }
        }
      }
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE acct SET balance = 0");
        c.rollback();
        try (ResultSet r = s.executeQuery("SELECT sum(balance) FROM acct")) {
          check(r.next() && r.getLong(1) == 50500L, "rollback");
        }
        try {
          s.executeQuery("SELECT 1/0");
          check(false, "expected an error");
        } catch (SQLException e) {
          check("22012".equals(e.getSQLState()), "sqlstate " + e.getSQLState());
        }
        c.rollback();
      }
    }
    System.out.println("pgjdbc ok");
  }
}
)JAVA");
  std::string jar = "/usr/share/java/postgresql.jar";
  CommandResult compile =
      RunCommand({FindProgram("javac"), "-d", dir_.path(), java}, {}, std::chrono::seconds(180));
  ASSERT_EQ(compile.exit_code, 0) << compile.output;
  // No user in the URL: the driver takes the user.name property (the program adds parameters).
  std::string jdbc =
      "jdbc:postgresql://127.0.0.1:" + std::to_string(proxy_->port()) + "/" + db_.name();
  CommandResult run = RunCommand({FindProgram("java"), "-Duser.name=postgres", "-cp",
                                  dir_.path() + ":" + jar, "ProxyClient", jdbc},
                                 {}, std::chrono::seconds(180));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("pgjdbc ok"), std::string::npos) << run.output;
}

TEST_F(ClientsTest, TwoHundredConcurrentClients) {
  PgConn setup = Connect(db_.url());
  PQclear(Exec(setup.get(),
               "CREATE TABLE kv(k int primary key, v text);"
               "INSERT INTO kv SELECT g, 'v' || g FROM generate_series(1, 1000) g")
              .release());
  constexpr int kClients = 200;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string(proxy_->port()) +
                         " user=postgres dbname=" + db_.name() + " connect_timeout=60";
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      PgConn c(PQconnectdb(conninfo.c_str()));
      if (PQstatus(c.get()) != CONNECTION_OK) {
        ++failed;
        return;
      }
      for (int i = 0; i < 20; ++i) {
        int k = 1 + (t * 20 + i) % 1000;
        std::string key = std::to_string(k);
        const char* params[] = {key.c_str()};
        PgResult r(PQexecParams(c.get(), "SELECT v FROM kv WHERE k = $1", 1, nullptr, params,
                                nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || "v" + key != PQgetvalue(r.get(), 0, 0)) {
          ++failed;
          return;
        }
      }
      ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ok.load(), kClients);
}

// PostgreSQL of the test's own, stopped and started again on the same port under the proxy.
TEST(ProxyReadinessTest, NotReadyWhilePostgresIsDownWithTheReasonThenReadyAgain) {
  sfbridge::testing::OwnServer pg(sfbridge::testing::OwnServer::Kind::kPostgres);
  ProxyProcess proxy(pg.address());
  ASSERT_GT(proxy.port(), 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(proxy.admin_port());
  auto get = [&](const std::string& path) {
    return RunCommand({FindProgram("curl"), "-s", "-w", "\n%{http_code}", base + path}).output;
  };
  EXPECT_THAT(get("/readyz"), ::testing::EndsWith("\n200"));
  pg.Stop();
  // Probed every 2 s.
  std::string answer;
  for (int i = 0; i < 50; ++i) {
    answer = get("/readyz");
    if (answer.ends_with("\n503")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_THAT(answer, ::testing::HasSubstr("postgres unreachable"));
  EXPECT_THAT(answer, ::testing::EndsWith("\n503"));
  EXPECT_THAT(get("/metrics"),
              ::testing::HasSubstr("sfbridge_proxy_dependency_up{dependency=\"postgres\"} 0"));
  EXPECT_THAT(get("/metrics"), ::testing::HasSubstr("sfbridge_proxy_ready 0"));
  pg.Start();
  for (int i = 0; i < 50; ++i) {
    answer = get("/readyz");
    if (answer.ends_with("\n200")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_THAT(answer, ::testing::EndsWith("\n200"));
  EXPECT_THAT(get("/metrics"), ::testing::HasSubstr("sfbridge_proxy_ready 1"));
  // Loss and return logged once each.
  const std::string log = proxy.process().Output();
  size_t lost = 0;
  for (size_t at = log.find("state=down"); at != std::string::npos;
       at = log.find("state=down", at + 1)) {
    ++lost;
  }
  EXPECT_EQ(lost, 1u) << log;
  EXPECT_THAT(log, ::testing::HasSubstr("dependency=postgres state=up"));
}

TEST_F(ClientsTest, ReadyAndStopsCleanlyOnSigterm) {
  CommandResult ready =
      RunCommand({FindProgram("curl"), "-s", "-o", "/dev/null", "-w", "%{http_code}",
                  "http://127.0.0.1:" + std::to_string(proxy_->admin_port()) + "/readyz"});
  EXPECT_EQ(ready.output, "200");
  PgConn open = Connect("host=127.0.0.1 port=" + std::to_string(proxy_->port()) +
                        " user=postgres dbname=" + db_.name());
  ASSERT_TRUE(open);
  CommandResult metrics =
      RunCommand({FindProgram("curl"), "-s",
                  "http://127.0.0.1:" + std::to_string(proxy_->admin_port()) + "/metrics"});
  EXPECT_NE(metrics.output.find("sfbridge_proxy_connections 1"), std::string::npos)
      << metrics.output;
  EXPECT_NE(metrics.output.find("sfbridge_proxy_connections_total{outcome=\"accepted\"} 1"),
            std::string::npos);
  proxy_->process().Signal(SIGTERM);
  EXPECT_EQ(proxy_->process().Wait(std::chrono::seconds(30)), 0) << proxy_->process().Output();
  // The client's connection was closed by the stop.
  PgResult r = Exec(open.get(), "SELECT 1");
  EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK);
}

TEST(ProxyConfigTest, BadSettingsFailAtStartWithExitCode2) {
  CommandResult creds = RunCommand({SFBRIDGE_PROXY, "--upstream.url=postgresql://u:pw@h:5432"});
  EXPECT_EQ(creds.exit_code, 2) << creds.output;
  EXPECT_NE(creds.output.find("upstream.url"), std::string::npos) << creds.output;
  CommandResult half = RunCommand({SFBRIDGE_PROXY, "--tls.cert=/nonexistent.pem"});
  EXPECT_EQ(half.exit_code, 2) << half.output;
  CommandResult help = RunCommand({SFBRIDGE_PROXY, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* key : {"listen.port", "upstream.url", "tls.cert", "limits.max-message-bytes",
                          "limits.max-connections", "metrics.port"}) {
    EXPECT_NE(help.output.find(key), std::string::npos) << key;
  }
}

// A PostgreSQL cluster of its own whose pg_hba.conf demands passwords from two roles, and a
// proxy with TLS in front of it.
class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // Not RunCommand: the server keeps running in the script's process group.
    std::string cmd = sfbridge::testing::SourceDir() + "/scripts/servers.sh pg-start " +
                      dir_->Path("pg") + " > " + dir_->Path("url.out") + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream out(dir_->Path("url.out"));
    url_ = new std::string();
    std::getline(out, *url_);
    PgConn admin = Connect(*url_);
    ASSERT_TRUE(admin);
    PQclear(Exec(admin.get(),
                 "SET password_encryption = 'md5';"
                 "CREATE ROLE md5_user LOGIN PASSWORD 'md5-secret';"
                 "SET password_encryption = 'scram-sha-256';"
                 "CREATE ROLE scram_user LOGIN PASSWORD 'scram-secret'")
                .release());
    std::string hba = Scalar(admin.get(), "SHOW hba_file");
    std::ifstream old(hba);
    std::string rest((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
    WriteFile(hba,
              "host all md5_user 127.0.0.1/32 md5\n"
              "host all scram_user 127.0.0.1/32 scram-sha-256\n" +
                  rest);
    EXPECT_EQ(Scalar(admin.get(), "SELECT pg_reload_conf()"), "t");
    // A self-signed certificate for the proxy.
    CommandResult cert = RunCommand({FindProgram("openssl"), "req", "-x509", "-newkey", "rsa:2048",
                                     "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout",
                                     dir_->Path("key.pem"), "-out", dir_->Path("cert.pem")});
    ASSERT_EQ(cert.exit_code, 0) << cert.output;
  }
  static void TearDownTestSuite() {
    std::string cmd = sfbridge::testing::SourceDir() + "/scripts/servers.sh pg-stop " +
                      dir_->Path("pg") + " > /dev/null 2>&1";
    (void)!std::system(cmd.c_str());
    delete dir_;
    delete url_;
  }
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(
        *url_, std::vector<std::string>{"--tls.cert=" + dir_->Path("cert.pem"),
                                        "--tls.key=" + dir_->Path("key.pem")});
    ASSERT_GT(proxy_->port(), 0);
  }
  std::string ConnInfo(const std::string& user, const std::string& password,
                       const std::string& sslmode) {
    return "host=127.0.0.1 port=" + std::to_string(proxy_->port()) +
           " dbname=postgres user=" + user + " password=" + password + " sslmode=" + sslmode;
  }

  static TempDir* dir_;
  static std::string* url_;
  std::unique_ptr<ProxyProcess> proxy_;
};
TempDir* AuthTest::dir_ = nullptr;
std::string* AuthTest::url_ = nullptr;

TEST_F(AuthTest, Md5AndScramPasswordsAreJudgedByPostgres) {
  for (auto [user, password] :
       {std::pair{"md5_user", "md5-secret"}, std::pair{"scram_user", "scram-secret"}}) {
    PgConn good(PQconnectdb(ConnInfo(user, password, "disable").c_str()));
    ASSERT_EQ(PQstatus(good.get()), CONNECTION_OK) << user << ": " << PQerrorMessage(good.get());
    EXPECT_EQ(Scalar(good.get(), "SELECT current_user"), user);
    PgConn bad(PQconnectdb(ConnInfo(user, "wrong", "disable").c_str()));
    EXPECT_NE(PQstatus(bad.get()), CONNECTION_OK);
    EXPECT_NE(std::string(PQerrorMessage(bad.get())).find("password authentication failed"),
              std::string::npos)
        << PQerrorMessage(bad.get());
  }
}

TEST_F(AuthTest, TlsToTheProxyWithPsqlAndScram) {
  CommandResult r = RunCommand({FindProgram("psql"), "-X", "-At",
                                ConnInfo("scram_user", "scram-secret", "require"), "-c",
                                "\\conninfo", "-c", "SELECT 'over tls'"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SSL connection (protocol: TLS"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("over tls"), std::string::npos);
  PgConn c(PQconnectdb(ConnInfo("md5_user", "md5-secret", "require").c_str()));
  ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(PQsslInUse(c.get()), 1);
  // A large result over TLS arrives whole.
  EXPECT_EQ(Scalar(c.get(),
                   "SELECT length(string_agg(md5(g::text), '')) FROM "
                   "generate_series(1, 100000) g"),
            "3200000");
  PgResult big = Exec(c.get(), "SELECT repeat('x', 1000) FROM generate_series(1, 5000)");
  EXPECT_EQ(PQntuples(big.get()), 5000);
}

TEST_F(AuthTest, DirectTlsWithoutSslRequest) {
  // What a client with sslnegotiation=direct does: a TLS ClientHello (ALPN "postgresql") as the
  // very first bytes, then the startup packet inside TLS.
  int fd = RawConnect(static_cast<uint16_t>(proxy_->port()));
  ASSERT_GE(fd, 0);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  static const unsigned char kAlpn[] = "\x0apostgresql";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_len), "postgresql");
  std::string startup;
  wire::AppendStartup(&startup, {{"user", "postgres"}, {"database", "postgres"}});
  ASSERT_EQ(SSL_write(ssl, startup.data(), static_cast<int>(startup.size())),
            static_cast<int>(startup.size()));
  // The trusted superuser gets AuthenticationOk ... ReadyForQuery.
  std::string got;
  char buf[4096];
  while (got.find("Z\x00\x00\x00\x05I", 0) == std::string::npos) {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got.substr(0, 9), std::string("R\x00\x00\x00\x08\x00\x00\x00\x00", 9));
  EXPECT_NE(got.find("Z\x00\x00\x00\x05I"), std::string::npos);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
}

TEST(ProxyTlsTest, SslRequiredFailsWhenNoCertificateIsConfigured) {
  TempDatabase db;
  ProxyProcess proxy(db.url());
  ASSERT_GT(proxy.port(), 0);
  PgConn c(PQconnectdb(
      ("host=127.0.0.1 user=postgres sslmode=require port=" + std::to_string(proxy.port()))
          .c_str()));
  EXPECT_NE(PQstatus(c.get()), CONNECTION_OK);
  EXPECT_NE(std::string(PQerrorMessage(c.get())).find("does not support SSL"), std::string::npos)
      << PQerrorMessage(c.get());
  PgConn plain(PQconnectdb(("host=127.0.0.1 user=postgres sslmode=prefer port=" +
                            std::to_string(proxy.port()) + " dbname=" + db.name())
                               .c_str()));
  EXPECT_EQ(PQstatus(plain.get()), CONNECTION_OK) << PQerrorMessage(plain.get());
}

}  // namespace
}  // namespace sfbridge::proxy::testing
