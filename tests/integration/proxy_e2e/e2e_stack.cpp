#include "tests/integration/proxy_e2e/e2e_stack.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <sstream>
#include <thread>

#include "common/core/clock.h"
#include "common/core/strings.h"
#include "tests/integration/fetcher/fetcher_test_support.h"
#include "tests/integration/sync_test_support.h"
#include "tests/proxy/proxy_test_support.h"

namespace sfbridge::proxy::e2e {
namespace {

using core::StrAppend;
using core::StrCat;
using std::chrono::seconds;
namespace st = sfbridge::testing;
using st::ChildProcess;

// The first number after `"key":` in a JSON text; -1 when absent.
int64_t JsonNumber(const std::string& json, std::string_view key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex(StrCat("\"", key, "\":(-?[0-9]+)")))) return -1;
  return std::stoll(m[1]);
}

std::string Tail(const std::string& text, int lines) {
  size_t at = text.size();
  for (int n = 0; n <= lines && at != std::string::npos && at > 0; ++n) {
    at = text.rfind('\n', at - 1);
  }
  return at == std::string::npos ? text : text.substr(at + 1);
}

}  // namespace

E2eStack::E2eStack(const std::map<std::string, int>& counts) {
  ok_ = Start(counts);
  if (!ok_) ADD_FAILURE() << "the stack did not start\n" << LogTails(60);
}

E2eStack::~E2eStack() {
  for (auto it = programs_.rbegin(); it != programs_.rend(); ++it) {
    it->process->Signal(SIGTERM);
    if (!it->process->Wait(seconds(30))) it->process->Signal(SIGKILL);
  }
  programs_.clear();
  client_.reset();
  if (owner_ && !app_role_.empty()) {
    // The role owns nothing; its privileges go with the database, but the role is the
    // cluster's.
    (void)owner_->Exec(StrCat("DROP OWNED BY ", app_role_));
    owner_.reset();
    auto admin = postgres::Connection::Connect(st::PostgresServerUrl());
    if (admin.ok()) (void)(*admin)->Exec(StrCat("DROP ROLE IF EXISTS ", app_role_));
  }
}

bool E2eStack::Start(const std::map<std::string, int>& counts) {
  org_id_ = st::UniqueName("e2e");
  app_role_ = st::UniqueName("e2e_app");
  owner_ = st::ConnectWithUnlimitedOrg(db_.url(), org_id_);
  if (owner_ == nullptr) {
    ADD_FAILURE() << "no control plane in " << db_.url();
    return false;
  }
  if (auto r = owner_->Exec(StrCat("CREATE ROLE ", app_role_, " LOGIN")); !r.ok()) {
    ADD_FAILURE() << r.status();
    return false;
  }

  std::vector<std::string> objects;
  std::string count_flag = "--org.counts=";
  for (const auto& [object, n] : counts) {
    objects.push_back(object);
    StrAppend(&count_flag, objects.size() > 1 ? "," : "", object, "=", n);
  }
  ChildProcess* sim = Launch("sfsim",
                             {SFBRIDGE_SFSIM, count_flag, "--org.seed=17", "--admin.enabled",
                              StrCat("--oauth.client-id=", st::kClientId),
                              StrCat("--oauth.client-secret=", st::kClientSecret),
                              StrCat("--oauth.username=", st::kUsername),
                              StrCat("--oauth.password=", st::kPassword), "--log.format=text"},
                             {});
  if (sim == nullptr) return false;
  auto listening = sim->WaitForLine("sfsim listening on ", seconds(60));
  if (!listening) return false;
  sim_url_ = listening->substr(std::string_view("sfsim listening on ").size());

  std::map<std::string, std::string> env =
      st::FetcherEnv(db_.url(), org_id_, sim_url_, core::StrJoin(objects, ","));
  env["SFBRIDGE_LOG_FORMAT"] = "text";

  std::map<std::string, std::string> writer_env = env;
  writer_env["SFBRIDGE_GRPC_HOST"] = "127.0.0.1";
  writer_env["SFBRIDGE_GRPC_PORT"] = "0";
  writer_env["SFBRIDGE_WRITER_READ_ROLE"] = app_role_;
  ChildProcess* writer = Launch("writer", {SFBRIDGE_WRITER}, writer_env);
  if (writer == nullptr) return false;
  auto grpc = writer->WaitForLine("writer gRPC listening on ", seconds(60));
  if (!grpc) return false;
  writer_address_ = grpc->substr(std::string_view("writer gRPC listening on ").size());

  env["SFBRIDGE_FETCHER_POLL_INTERVAL"] = "500ms";
  if (Launch("fetcher", {SFBRIDGE_FETCHER}, env) == nullptr) return false;

  absl::StatusOr<std::unique_ptr<salesforce::PocoTransport>> transport =
      salesforce::PocoTransport::Create({});
  if (!transport.ok()) {
    ADD_FAILURE() << transport.status();
    return false;
  }
  transport_ = *std::move(transport);
  salesforce::ClientOptions co;
  co.credentials.flow = salesforce::AuthFlow::kPassword;
  co.credentials.login_url = sim_url_;
  co.credentials.client_id = std::string(st::kClientId);
  co.credentials.client_secret = std::string(st::kClientSecret);
  co.credentials.username = std::string(st::kUsername);
  co.credentials.password = std::string(st::kPassword);
  co.max_attempts = 2;
  client_ = std::make_unique<salesforce::Client>(co, *transport_, core::SystemClock::Instance());

  // The backfill, with the budget out of the way: seconds for a few hundred records.
  if (!st::WaitUntil([&] { return CaughtUp(objects); }, seconds(150))) {
    ADD_FAILURE() << "the backfill did not catch up: "
                  << OwnerScalar(
                         "SELECT string_agg(object_name || ' ' || state || ' ' || "
                         "coalesce(error, ''), ', ') FROM sfbridge.objects WHERE org_id = $1",
                         {org_id_});
    return false;
  }

  proxy_env_ = env;
  return LaunchProxy(0);
}

// The proxy takes the same salesforce.* settings as the fetcher (from the environment); the
// rest are flags.
bool E2eStack::LaunchProxy(int port) {
  const proxy::testing::HostPort pg = proxy::testing::ParseUrlHostPort(db_.url());
  ChildProcess* proxy =
      Launch("proxy",
             {SFBRIDGE_PROXY, StrCat("--upstream.url=postgresql://", pg.host, ":", pg.port),
              "--listen.host=127.0.0.1", StrCat("--listen.port=", port), "--metrics.port=0",
              StrCat("--org.id=", org_id_), StrCat("--postgres.url=", db_.url()),
              StrCat("--writer.address=", writer_address_)},
             proxy_env_);
  if (proxy == nullptr) return false;
  auto line = proxy->WaitForLine("sfbridge-proxy listening on ", seconds(60));
  if (!line) return false;
  proxy_port_ = std::stoi(line->substr(line->rfind(':') + 1));
  return true;
}

bool E2eStack::KillAndRestartProxy() {
  for (auto it = programs_.begin(); it != programs_.end(); ++it) {
    if (it->name != "proxy") continue;
    it->process->Signal(SIGKILL);
    it->process->Wait(std::chrono::seconds(10));
    programs_.erase(it);
    break;
  }
  const int port = proxy_port_;
  // The port may take a moment to be free again.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (LaunchProxy(port)) return true;
    if (!programs_.empty() && programs_.back().name == "proxy") programs_.pop_back();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ADD_FAILURE() << "the proxy did not come back on port " << port;
  return false;
}

absl::Status E2eStack::AdminPost(std::string_view path, std::string_view body) {
  absl::StatusOr<salesforce::HttpResponse> r = transport_->Send(
      {.method = "POST", .url = StrCat(sim_url_, "/__sfsim/", path), .body = std::string(body)});
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InternalError(StrCat("POST /__sfsim/", path, ": ", r->status, " ", r->body));
  }
  return absl::OkStatus();
}

ChildProcess* E2eStack::Launch(const std::string& name, const std::vector<std::string>& argv,
                               const std::map<std::string, std::string>& env) {
  auto child = ChildProcess::Start(argv, env);
  if (child == nullptr) {
    ADD_FAILURE() << "cannot start " << name;
    return nullptr;
  }
  programs_.push_back({name, std::move(child)});
  return programs_.back().process.get();
}

bool E2eStack::CaughtUp(const std::vector<std::string>& objects) {
  for (const Program& p : programs_) {
    if (!p.process->GroupAlive()) return false;
  }
  auto live = owner_->Exec(
      "SELECT count(*) FILTER (WHERE state = 'live') FROM sfbridge.objects WHERE org_id = $1",
      {org_id_});
  if (!live.ok() || live->rows.empty() || live->rows[0][0] != std::to_string(objects.size())) {
    return false;
  }
  for (const std::string& object : objects) {
    auto table = owner_->Exec(
        "SELECT format('%I.%I', schema_name, table_name) FROM sfbridge.synced_tables "
        "WHERE org_id = $1 AND object_name = $2",
        {org_id_, object});
    if (!table.ok() || table->rows.empty()) return false;
    const std::string count = OwnerScalar(StrCat("SELECT count(*) FROM ", *table->rows[0][0]));
    if (count != std::to_string(SfsimCount(object))) return false;
  }
  return true;
}

std::string E2eStack::ProxyUrl() const {
  return StrCat("postgresql://", app_role_, "@127.0.0.1:", proxy_port_, "/", db_.name());
}

std::string E2eStack::ProxyConnInfo() const {
  return StrCat("host=127.0.0.1 port=", proxy_port_, " user=", app_role_, " dbname=", db_.name());
}

absl::StatusOr<postgres::QueryResult> E2eStack::Owner(std::string_view sql,
                                                      const postgres::Params& params) {
  return owner_->Exec(sql, params);
}

std::string E2eStack::OwnerScalar(std::string_view sql, const postgres::Params& params) {
  auto r = owner_->Exec(sql, params);
  if (!r.ok()) return StrCat("error: ", r.status().message());
  if (r->rows.empty()) return "<none>";
  return r->rows[0][0].value_or("<null>");
}

absl::StatusOr<std::vector<salesforce::Record>> E2eStack::Soql(std::string_view soql) {
  absl::StatusOr<salesforce::QueryPage> page = client_->Query(soql);
  if (!page.ok()) return page.status();
  std::vector<salesforce::Record> records = std::move(page->records);
  while (!page->done) {
    page = client_->QueryMore(page->next_records_url);
    if (!page.ok()) return page.status();
    for (auto& r : page->records) records.push_back(std::move(r));
  }
  return records;
}

std::vector<salesforce::Record> E2eStack::Records(std::string_view soql) {
  absl::StatusOr<std::vector<salesforce::Record>> records = Soql(soql);
  EXPECT_TRUE(records.ok()) << soql << ": " << records.status();
  return records.ok() ? *std::move(records) : std::vector<salesforce::Record>{};
}

salesforce::Record E2eStack::SfsimRecord(std::string_view object, std::string_view id,
                                         std::string_view fields) {
  std::vector<salesforce::Record> r =
      Records(StrCat("SELECT ", fields, " FROM ", object, " WHERE Id = '", id, "'"));
  EXPECT_EQ(r.size(), 1u) << object << " " << id << " not in sfsim";
  return r.size() == 1 ? r[0] : salesforce::Record{};
}

void E2eStack::ExpectSameVersion(std::string_view object, std::string_view table,
                                 std::string_view id) {
  absl::StatusOr<std::string> digest = AdminGet(StrCat("digest/", object));
  ASSERT_TRUE(digest.ok()) << digest.status();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*digest, m, std::regex(StrCat("\"", id, "\":([0-9]+)"))))
      << id << " not in sfsim's digest";
  EXPECT_EQ(OwnerScalar(StrCat("SELECT _modstamp_ms FROM salesforce.", table, " WHERE id = $1"),
                        {std::string(id)}),
            m[1].str())
      << object << " " << id;
}

absl::StatusOr<std::string> E2eStack::AdminGet(std::string_view path) {
  absl::StatusOr<salesforce::HttpResponse> r =
      transport_->Send({.method = "GET", .url = StrCat(sim_url_, "/__sfsim/", path)});
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InternalError(StrCat("GET /__sfsim/", path, ": ", r->status, " ", r->body));
  }
  return r->body;
}

int64_t E2eStack::SfsimCount(std::string_view object) {
  absl::StatusOr<std::string> digest = AdminGet(StrCat("digest/", object));
  return digest.ok() ? JsonNumber(*digest, "count") : -1;
}

int64_t E2eStack::SfsimCalls(std::string_view kind) {
  absl::StatusOr<std::string> stats = AdminGet("stats");
  if (!stats.ok()) return -1;
  const int64_t n = JsonNumber(*stats, kind);
  return n < 0 ? 0 : n;  // a kind never called is not listed
}

sfbridge::testing::CommandResult E2eStack::Verify() const {
  return st::RunCommand(
      {SFBRIDGE_CLI, "verify", StrCat("--postgres.url=", db_.url()), StrCat("--org.id=", org_id_),
       StrCat("--sfsim.url=", sim_url_), "--settle=20", "--log.format=text"},
      {}, seconds(120));
}

std::string E2eStack::LogTails(int lines) const {
  std::string out;
  for (const Program& p : programs_) {
    StrAppend(&out, "----- ", p.name, " (last ", lines, " lines) -----\n",
              Tail(p.process->Output(), lines), "\n");
  }
  return out;
}

std::string FieldText(const salesforce::Record& record, std::string_view field) {
  const salesforce::FieldValue* v = record.Find(field);
  if (v == nullptr) return "<absent>";
  switch (v->kind) {
    case salesforce::FieldValue::Kind::kNull:
      return "<null>";
    case salesforce::FieldValue::Kind::kBool:
      return v->boolean ? "true" : "false";
    default:
      return v->text;
  }
}

}  // namespace sfbridge::proxy::e2e
