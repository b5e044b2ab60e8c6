#include "tests/proxy/fake_write_path.h"

#include <algorithm>
#include <cctype>

namespace sfbridge::proxy::testing {
namespace {

struct FakeMutation : Mutation {
  std::string sql;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool Has(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> FakeWritePath::Split(std::string_view sql) {
  // The tests' statements hold no ';' inside literals.
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= sql.size()) {
    size_t end = sql.find(';', start);
    if (end == std::string_view::npos) end = sql.size();
    std::string_view part = sql.substr(start, end - start);
    size_t b = part.find_first_not_of(" \t\n");
    if (b != std::string_view::npos) out.emplace_back(part.substr(b));
    start = end + 1;
  }
  return out;
}

StatementPlan FakeWritePath::Plan(std::string_view statement_sql) {
  std::string sql = Lower(statement_sql);
  {
    std::lock_guard lock(mu_);
    ++plans_;
  }
  StatementPlan plan;
  if (Has(sql, "fake_refused")) {
    plan.kind = StatementPlan::Kind::kRefused;
    plan.error = {.sqlstate = "0A000", .message = "writes to fake_refused are not supported"};
  } else if (Has(sql, "fake_synced") && (sql.starts_with("insert") || sql.starts_with("update") ||
                                         sql.starts_with("delete"))) {
    auto m = std::make_shared<FakeMutation>();
    m->sql = sql;
    plan.kind = StatementPlan::Kind::kMutation;
    plan.mutation = std::move(m);
  }
  return plan;
}

MutationOutcome FakeWritePath::Execute(const Mutation& mutation, const BoundParams& params,
                                       TxStatus tx_status, ServerQuerier& server) {
  const std::string& sql = static_cast<const FakeMutation&>(mutation).sql;
  Call call{sql, params.values, tx_status, ""};
  MutationOutcome outcome;
  std::string first = !params.values.empty() && params.values[0] ? *params.values[0] : "none";
  if (Has(sql, "'error'")) {
    outcome.error = PgError{.sqlstate = "23505",
                            .message = "duplicate value found: name (fake)",
                            .detail = "columns: name",
                            .hint = "use another name",
                            .column = "name",
                            .table = "fake_synced",
                            .schema = "public"};
  } else if (Has(sql, "queryfail")) {
    absl::StatusOr<ServerQuerier::Rows> rows = server.Query("SELECT 1/0", {});
    std::optional<PgError> e = rows.ok() ? std::nullopt : GetServerError(rows.status());
    call.derived_value = e ? e->sqlstate : "no error";
    outcome.error = e ? *e : PgError{.sqlstate = "XX000", .message = "expected a failure"};
  } else if (Has(sql, "passthrough")) {
    outcome.pass_through = true;
  } else if (Has(sql, "returnfail")) {
    outcome.command_tag = "INSERT 0 1";
    outcome.returning_sql = "SELECT 1 / 0 AS id";
  } else if (Has(sql, "returning")) {
    outcome.command_tag = "INSERT 0 1";
    outcome.returning_sql = "SELECT 42::int4 AS id, $1::text AS name";
    outcome.returning_params.values = {!params.values.empty() && params.values[0]
                                           ? params.values[0]
                                           : std::optional<std::string>("fake")};
    outcome.returning_params.formats = {
        static_cast<int16_t>(params.formats.empty() ? 0 : params.formats[0])};
    outcome.returning_params.type_oids = {0};
  } else {
    BoundParams p;
    p.values = {first};
    p.formats = {0};
    p.type_oids = {25};
    absl::StatusOr<ServerQuerier::Rows> rows =
        server.Query("INSERT INTO fake_log(v) VALUES ($1) RETURNING v || '!'", p);
    if (!rows.ok()) {
      std::optional<PgError> e = GetServerError(rows.status());
      outcome.error = e ? *e : PgError{.sqlstate = "XX000", .message = "querier failed"};
    } else {
      call.derived_value = rows->rows.empty() || !rows->rows[0][0] ? "" : *rows->rows[0][0];
      if (rows->columns.empty() || rows->command_tag != "INSERT 0 1") {
        outcome.error = PgError{.sqlstate = "XX000", .message = "querier lost the description"};
      }
      outcome.command_tag = Has(sql, "update") ? "UPDATE 1" : "INSERT 0 1";
      if (Has(sql, "notice")) {
        outcome.notices.push_back({.severity = "NOTICE",
                                   .sqlstate = "01000",
                                   .message = "the Salesforce change cannot be rolled back"});
      }
    }
  }
  std::lock_guard lock(mu_);
  calls_.push_back(std::move(call));
  return outcome;
}

std::vector<FakeWritePath::Call> FakeWritePath::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

size_t FakeWritePath::plan_count() const {
  std::lock_guard lock(mu_);
  return plans_;
}

}  // namespace sfbridge::proxy::testing
