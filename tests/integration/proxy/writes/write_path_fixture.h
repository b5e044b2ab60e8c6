#pragma once

// What the write path's integration tests and benchmark share: a throwaway database with the
// control plane, an org with a generous budget, synced tables made by the writer's EnsureTable
// from an in-process sfsim's describe, the writer's gRPC service in-process, the write path
// itself, and a ServerQuerier on a plain libpq connection (the client's own connection, without
// the wire layer).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/control/migrations.h"
#include "common/control/org_settings.h"
#include "common/core/clock.h"
#include "common/core/metrics.h"
#include "common/core/strings.h"
#include "common/mapping/schema_mapping.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"
#include "proxy/write_path.h"
#include "proxy/writes/salesforce_write_path.h"
#include "sfsim/simulator.h"
#include "tests/harness/test_env.h"
#include "writer/grpc_service.h"
#include "writer/table_schema.h"

namespace sfbridge::proxy::testing {

inline constexpr char kClientId[] = "3MVG9proxyWritesConsumerKey";
inline constexpr char kClientSecret[] = "proxy-writes-secret-5d7f";
inline constexpr char kUsername[] = "proxy-writes@sfbridge.example";
inline constexpr char kPassword[] = "proxy-writes-pass-token-4Kx";

// The client's connection: ServerQuerier over libpq, errors carrying the server's fields.
class PqQuerier final : public ServerQuerier {
 public:
  explicit PqQuerier(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}
  ~PqQuerier() override { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  int backend_pid() const override { return PQbackendPID(conn_); }

  absl::StatusOr<Rows> Query(std::string_view sql, const BoundParams& params) override {
    const std::string text(sql);
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    std::vector<Oid> types;
    for (size_t i = 0; i < params.values.size(); ++i) {
      values.push_back(params.values[i] ? params.values[i]->data() : nullptr);
      lengths.push_back(params.values[i] ? static_cast<int>(params.values[i]->size()) : 0);
      formats.push_back(i < params.formats.size() ? params.formats[i] : 0);
      types.push_back(i < params.type_oids.size() ? params.type_oids[i] : 0);
    }
    PGresult* r = PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), types.data(),
                               values.data(), lengths.data(), formats.data(), 0);
    std::unique_ptr<PGresult, void (*)(PGresult*)> guard(r, PQclear);
    const ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      if (r == nullptr || PQresultErrorField(r, PG_DIAG_SQLSTATE) == nullptr) {
        return absl::UnavailableError(PQerrorMessage(conn_));
      }
      PgError e;
      auto field = [&](int code) {
        const char* v = PQresultErrorField(r, code);
        return std::string(v != nullptr ? v : "");
      };
      e.severity = field(PG_DIAG_SEVERITY);
      e.sqlstate = field(PG_DIAG_SQLSTATE);
      e.message = field(PG_DIAG_MESSAGE_PRIMARY);
      e.detail = field(PG_DIAG_MESSAGE_DETAIL);
      e.hint = field(PG_DIAG_MESSAGE_HINT);
      return ServerErrorStatus(e);
    }
    Rows rows;
    for (int c = 0; c < PQnfields(r); ++c) {
      rows.columns.push_back({PQfname(r, c), PQftype(r, c)});
    }
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < PQnfields(r); ++c) {
        if (PQgetisnull(r, i, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(r, i, c), PQgetlength(r, i, c)));
        }
      }
      rows.rows.push_back(std::move(row));
    }
    rows.command_tag = PQcmdStatus(r);
    return rows;
  }

  // Runs `sql` without parameters; the first column of the first row, "<null>", or the error.
  std::string Scalar(const std::string& sql) {
    absl::StatusOr<Rows> r = Query(sql, {});
    if (!r.ok()) return core::StrCat("error: ", r.status().message());
    if (r->rows.empty()) return "<none>";
    return r->rows[0][0].value_or("<null>");
  }

 private:
  PGconn* conn_;
};

inline BoundParams TextParams(std::vector<std::optional<std::string>> values) {
  BoundParams p;
  p.values = std::move(values);
  p.formats.assign(p.values.size(), 0);
  p.type_oids.assign(p.values.size(), 0);
  return p;
}

// What the client would see for one statement.
struct Result {
  StatementPlan::Kind plan = StatementPlan::Kind::kPassThrough;
  PgError refusal;  // kRefused
  MutationOutcome outcome;
  std::vector<std::vector<std::optional<std::string>>> returning;  // RETURNING rows
  absl::Status returning_status;
};

class WritePathFixture {
 public:
  // `objects`: synced at start. Errors are reported through gtest.
  void Start(const std::vector<std::string>& objects,
             std::map<std::string, int64_t> counts = {{"User", 2}, {"Account", 3}}) {
    sfsim::SimulatorOptions o;
    o.org.seed = 11;
    o.org.counts = std::move(counts);
    o.admin_enabled = true;
    // Enough for every session's kept-alive connection: a Poco server thread stays with its
    // connection while it is kept alive.
    o.server.threads = 16;
    o.oauth.client_id = kClientId;
    o.oauth.client_secret = kClientSecret;
    o.oauth.username = kUsername;
    o.oauth.password = kPassword;
    auto sim = sfsim::Simulator::Start(o, core::SystemClock::Instance());
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    sim_url_ = sim_->base_url();

    org_id_ = sfbridge::testing::UniqueName("pw");
    auto conn = postgres::Connection::Connect(db_.url());
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = *std::move(conn);
    ASSERT_TRUE(control::Migrate(*conn_).ok());
    control::OrgSettings settings;
    settings.org_id = org_id_;
    settings.display_name = org_id_;
    settings.rate_per_second = 1000;
    settings.burst = 1000;
    settings.daily_quota_share = 1;
    ASSERT_TRUE(control::UpsertOrg(*conn_, settings).ok());

    auto transport = salesforce::PocoTransport::Create({});
    ASSERT_TRUE(transport.ok());
    transport_ = *std::move(transport);
    salesforce::ClientOptions co;
    co.credentials = Credentials();
    describe_client_ =
        std::make_unique<salesforce::Client>(co, *transport_, core::SystemClock::Instance());
    for (const std::string& object : objects) Sync(object);

    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &writer_port_);
    writer_service_ = std::make_unique<writer::WriterGrpcService>(db_.url(), "salesforce", nullptr);
    builder.RegisterService(writer_service_.get());
    writer_server_ = builder.BuildAndStart();
    ASSERT_NE(writer_server_, nullptr);
    ASSERT_GT(writer_port_, 0);

    querier_ = std::make_unique<PqQuerier>(db_.url());
    ASSERT_TRUE(querier_->ok());
    // As an application would: unqualified names resolve to the synced schema.
    ASSERT_EQ(querier_->Scalar("SET search_path = salesforce, public"), "<none>");
    auto wp = MakeSalesforceWritePath(Options(), metrics_);
    ASSERT_TRUE(wp.ok()) << wp.status();
    write_path_ = *std::move(wp);
  }

  void Stop() {
    write_path_.reset();
    if (writer_server_) writer_server_->Shutdown();
    writer_server_.reset();
  }

  salesforce::Credentials Credentials() const {
    salesforce::Credentials c;
    c.flow = salesforce::AuthFlow::kPassword;
    c.login_url = sim_url_;
    c.client_id = kClientId;
    c.client_secret = kClientSecret;
    c.username = kUsername;
    c.password = kPassword;
    return c;
  }

  WritePathOptions Options() const {
    WritePathOptions o;
    o.org_id = org_id_;
    o.credentials = Credentials();
    o.control_url = db_.url();
    o.writer_address = core::StrCat("127.0.0.1:", writer_port_);
    o.budget_wait = std::chrono::milliseconds(500);
    o.salesforce_attempts = 2;
    o.salesforce_backoff = std::chrono::milliseconds(10);
    o.salesforce_timeout = std::chrono::milliseconds(10'000);
    o.writer_timeout = std::chrono::milliseconds(5'000);
    o.catalog_refresh = catalog_refresh_;
    o.coalesce_window = coalesce_window_;
    return o;
  }

  // Describes `object` in sfsim and lets the writer create its table.
  void Sync(const std::string& object) {
    auto describe = describe_client_->Describe(object);
    ASSERT_TRUE(describe.ok()) << describe.status();
    v1::ObjectSchema schema = mapping::ToObjectSchema(org_id_, *describe, 0);
    schema.set_version(1);
    absl::Status s = writer::EnsureTable(*conn_, "salesforce", schema, {.read_role = ""});
    ASSERT_TRUE(s.ok()) << s;
  }

  // Plans and executes `sql` as the session would, then runs RETURNING's query.
  Result Exec(WritePath& wp, const std::string& sql, const BoundParams& params = {},
              TxStatus tx = TxStatus::kIdle) {
    Result r;
    StatementPlan plan = wp.Plan(sql);
    r.plan = plan.kind;
    if (plan.kind == StatementPlan::Kind::kRefused) r.refusal = plan.error;
    if (plan.kind != StatementPlan::Kind::kMutation) return r;
    r.outcome = wp.Execute(*plan.mutation, params, tx, *querier_);
    if (r.outcome.returning_sql) {
      auto rows = querier_->Query(*r.outcome.returning_sql, r.outcome.returning_params);
      r.returning_status = rows.status();
      if (rows.ok()) r.returning = rows->rows;
    }
    return r;
  }
  Result Exec(const std::string& sql, const BoundParams& params = {},
              TxStatus tx = TxStatus::kIdle) {
    return Exec(*write_path_, sql, params, tx);
  }

  std::string Scalar(const std::string& sql, const postgres::Params& params = {}) {
    auto r = conn_->Exec(sql, params);
    if (!r.ok()) return core::StrCat("error: ", r.status().message());
    if (r->rows.empty()) return "<none>";
    return r->rows[0][0].value_or("<null>");
  }

  // Short, so that tests see a newly synced table at once; the benchmark uses the default.
  std::chrono::milliseconds catalog_refresh_{10};
  std::chrono::microseconds coalesce_window_ = WritePathOptions().coalesce_window;
  sfbridge::testing::TempDatabase db_;
  std::unique_ptr<sfsim::Simulator> sim_;
  std::string sim_url_;
  std::string org_id_;
  std::unique_ptr<postgres::Connection> conn_;
  std::unique_ptr<salesforce::PocoTransport> transport_;
  std::unique_ptr<salesforce::Client> describe_client_;
  std::unique_ptr<writer::WriterGrpcService> writer_service_;
  std::unique_ptr<grpc::Server> writer_server_;
  int writer_port_ = 0;
  std::unique_ptr<PqQuerier> querier_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<WritePath> write_path_;
};

}  // namespace sfbridge::proxy::testing
