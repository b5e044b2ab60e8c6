#pragma once

// The whole product as a user runs it, for tests that drive it with real third-party clients:
// the sfsim, sfbridge-writer, sfbridge-fetcher and sfbridge-proxy programs as child processes,
// against the test PostgreSQL (a database of its own) and Kafka. The proxy has an org, so its
// writes to synced tables go to sfsim first and then through the writer's gRPC Apply.
//
// Clients connect through the proxy as an application role of their own, which may only read
// the synced tables (the writer grants it SELECT); the test reads them back directly as their
// owner, and reads sfsim through its REST API (the product's Salesforce client) and admin API.
//
// Not thread-safe: one test thread uses it.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"
#include "tests/harness/child_process.h"
#include "tests/harness/test_env.h"

namespace sfbridge::proxy::e2e {

class E2eStack {
 public:
  // Starts sfsim with `counts` records per object (every object of `counts` is synced), then
  // the writer, the fetcher and the proxy, and waits until every object is live and its table
  // holds what sfsim holds. Failures are reported to gtest; ok() tells whether it all started.
  explicit E2eStack(const std::map<std::string, int>& counts);
  // Stops the programs (SIGTERM, then SIGKILL) and drops the application role.
  ~E2eStack();
  E2eStack(const E2eStack&) = delete;
  E2eStack& operator=(const E2eStack&) = delete;

  bool ok() const { return ok_; }
  const std::string& database() const { return db_.name(); }
  // A superuser URL of the database: the synced tables' owner (the writer connects as it).
  const std::string& owner_url() const { return db_.url(); }
  const std::string& org_id() const { return org_id_; }
  const std::string& app_role() const { return app_role_; }
  const std::string& sim_url() const { return sim_url_; }
  int proxy_port() const { return proxy_port_; }
  // postgresql://<app role>@127.0.0.1:<proxy port>/<database>
  std::string ProxyUrl() const;
  // The same as libpq keywords.
  std::string ProxyConnInfo() const;

  // Runs `sql` directly on PostgreSQL as the owner (not through the proxy).
  absl::StatusOr<postgres::QueryResult> Owner(std::string_view sql,
                                              const postgres::Params& params = {});
  // The first value of the first row of Owner(sql); "<null>", "<none>" or "error: ...".
  std::string OwnerScalar(std::string_view sql, const postgres::Params& params = {});

  // Every record a SOQL query matches, through sfsim's REST API (query, then queryMore).
  absl::StatusOr<std::vector<salesforce::Record>> Soql(std::string_view soql);
  // The same, failing the test (and empty) on an error.
  std::vector<salesforce::Record> Records(std::string_view soql);
  // The one record of `object` with `id` (fields `fields`); an empty record, and a test
  // failure, when there is not exactly one.
  salesforce::Record SfsimRecord(std::string_view object, std::string_view id,
                                 std::string_view fields);
  // Fails the test unless the row of `id` in salesforce.<table> has the version (SystemModstamp)
  // sfsim's digest of `object` gives the record.
  void ExpectSameVersion(std::string_view object, std::string_view table, std::string_view id);
  // The body of GET <sfsim>/__sfsim/<path> (the admin API); an error unless it answers 200.
  absl::StatusOr<std::string> AdminGet(std::string_view path);
  // sfsim's record count of `object` (admin digest), -1 on failure.
  int64_t SfsimCount(std::string_view object);
  // Salesforce API calls sfsim counted of `kind` (admin stats "callsByKind"), -1 on failure.
  int64_t SfsimCalls(std::string_view kind);

  // POST <sfsim>/__sfsim/<path> with `body` (the admin API); an error unless it answers 200.
  absl::Status AdminPost(std::string_view path, std::string_view body);
  // kill -9 of the proxy program, then a new one on the same port. False (with a gtest
  // failure) when it does not come back.
  bool KillAndRestartProxy();

  // `sfbridge verify` of every synced table against sfsim's digest.
  sfbridge::testing::CommandResult Verify() const;

  // The last `lines` lines of each program's output, for a failure message.
  std::string LogTails(int lines = 30) const;

 private:
  bool LaunchProxy(int port);
  std::map<std::string, std::string> proxy_env_;

  struct Program {
    std::string name;
    std::unique_ptr<sfbridge::testing::ChildProcess> process;
  };

  bool Start(const std::map<std::string, int>& counts);
  sfbridge::testing::ChildProcess* Launch(const std::string& name,
                                          const std::vector<std::string>& argv,
                                          const std::map<std::string, std::string>& env);
  // Whether every object is live and each table holds sfsim's digest count.
  bool CaughtUp(const std::vector<std::string>& objects);

  sfbridge::testing::TempDatabase db_;
  std::string org_id_, app_role_, sim_url_, writer_address_;
  int proxy_port_ = 0;
  bool ok_ = false;
  std::unique_ptr<postgres::Connection> owner_;
  std::vector<Program> programs_;  // in start order; stopped in reverse
  std::unique_ptr<salesforce::PocoTransport> transport_;
  std::unique_ptr<salesforce::Client> client_;
};

// A field's value as text: numbers and strings as they are, booleans as "true"/"false",
// "<null>" for null, "<absent>" when the record does not have the field.
std::string FieldText(const salesforce::Record& record, std::string_view field);

}  // namespace sfbridge::proxy::e2e
