#include "proxy/writes/salesforce_write_path.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/escaping.h"
#include "common/core/logging.h"
#include "common/core/strings.h"
#include "common/postgres/connection.h"
#include "common/salesforce/client.h"
#include "common/salesforce/json_records.h"
#include "common/salesforce/poco_transport.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/composite_batcher.h"
#include "proxy/writes/derived_query.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/held_writes.h"
#include "proxy/writes/priority_budget_gate.h"
#include "proxy/writes/salesforce_calls.h"
#include "proxy/writes/sql_tree.h"
#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_checks.h"
#include "proxy/writes/write_reply.h"
#include "proxy/writes/writer_client.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;
using writes::AnalyzedWrite;
using writes::Operation;
using writes::SyncedField;
using writes::SyncedTable;

struct PlannedWrite final : Mutation {
  std::shared_ptr<const AnalyzedWrite> write;
};

struct Metrics {
  explicit Metrics(core::MetricsRegistry& r)
      : mutations(r.CounterFamily("sfbridge_proxy_mutations_total",
                                  "Writes to synced tables by table, operation and outcome",
                                  {"org", "table", "operation", "outcome"})),
        salesforce_errors(r.CounterFamily("sfbridge_proxy_salesforce_errors_total",
                                          "Salesforce errors returned to clients, by code",
                                          {"code"})),
        salesforce_seconds(
            r.HistogramFamily("sfbridge_proxy_salesforce_seconds",
                              "Time a write spent in Salesforce calls (budget waits excluded)")),
        added_seconds(r.HistogramFamily(
            "sfbridge_proxy_added_seconds",
            "Time the proxy added to a write besides Salesforce's: Execute minus Salesforce")) {}
  core::Family<core::Counter>& mutations;
  core::Family<core::Counter>& salesforce_errors;
  core::Family<core::Histogram>& salesforce_seconds;
  core::Family<core::Histogram>& added_seconds;
};

// What one Execute did, for its metrics.
struct Run {
  std::string table = "unknown";
  std::string outcome = "ok";
  std::chrono::nanoseconds salesforce{0};
};

MutationOutcome Failure(PgError error) {
  MutationOutcome out;
  out.error = std::move(error);
  return out;
}

PgError PlainError(std::string_view sqlstate, std::string message, std::string detail = {},
                   std::string hint = {}) {
  PgError e;
  e.sqlstate = std::string(sqlstate);
  e.message = std::move(message);
  e.detail = std::move(detail);
  e.hint = std::move(hint);
  return e;
}

// Said on every write committed in Salesforce inside an explicit transaction block.
PgError CommittedNotice() {
  PgError notice = PlainError(
      "01000",
      "the change is committed in Salesforce and cannot be rolled back with this transaction");
  notice.severity = "NOTICE";
  return notice;
}

constexpr uint32_t kTextOid = 25;
constexpr uint32_t kRegclassOid = 2205;

// The server's own error for a failed derived query, as it is.
PgError ServerFailure(const absl::Status& s) {
  if (std::optional<PgError> e = GetServerError(s)) return *e;
  return PlainError("08006", StrCat("the server connection failed: ", s.message()));
}

// True when a text mentions one of the names, ignoring case: a statement that does not cannot
// write a synced table (the parser is not needed to know).
bool MentionsAny(std::string_view sql, const std::vector<std::string>& names) {
  std::string lower(sql);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return lower.find(n) != std::string::npos; });
}

class SalesforceWritePath final : public WritePath {
 public:
  SalesforceWritePath(WritePathOptions options, core::MetricsRegistry& registry,
                      std::unique_ptr<salesforce::PocoTransport> owned_transport)
      : options_(std::move(options)),
        clock_(*options_.clock),
        metrics_(registry),
        owned_transport_(std::move(owned_transport)),
        catalog_(options_.control_url, options_.org_id, clock_, options_.catalog_refresh),
        gate_(options_.control_url, options_.org_id, clock_, options_.budget_wait),
        client_(ClientOptionsFrom(options_),
                options_.transport != nullptr ? *options_.transport : *owned_transport_, clock_,
                &gate_),
        batcher_(client_, clock_, options_.coalesce_window),
        calls_(batcher_, clock_, options_.org_id, options_.salesforce_attempts,
               options_.salesforce_backoff),
        writer_(options_.writer_address, options_.writer_timeout) {}

  absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) override {
    return writes::SplitStatements(sql);
  }

  StatementPlan Plan(std::string_view statement_sql) override {
    std::shared_ptr<const writes::CatalogSnapshot> snapshot = catalog_.Get();
    if (snapshot->empty() || !MentionsAny(statement_sql, snapshot->table_names())) return {};
    writes::Analysis a =
        writes::Analyze(statement_sql, [&](std::string_view schema, std::string_view relation) {
          return snapshot->MayBeSynced(schema, relation);
        });
    StatementPlan plan;
    switch (a.kind) {
      case writes::Analysis::Kind::kPassThrough:
        break;
      case writes::Analysis::Kind::kRefused:
        plan.kind = StatementPlan::Kind::kRefused;
        plan.error = std::move(a.error);
        metrics_.mutations.WithLabels({options_.org_id, plan.error.table, "unknown", "refused"})
            .Increment();
        break;
      case writes::Analysis::Kind::kWrite: {
        auto planned = std::make_shared<PlannedWrite>();
        planned->write = std::move(a.write);
        plan.kind = StatementPlan::Kind::kMutation;
        plan.mutation = std::move(planned);
        break;
      }
    }
    return plan;
  }

  MutationOutcome Execute(const Mutation& mutation, const BoundParams& params, TxStatus tx_status,
                          ServerQuerier& server) override {
    const auto start = clock_.Monotonic();
    const AnalyzedWrite& write = *static_cast<const PlannedWrite&>(mutation).write;
    Run run;
    MutationOutcome out = ExecuteWrite(write, params, server, run);
    if (!out.pass_through) {
      if (!out.error && tx_status == TxStatus::kInTransaction) {
        out.notices.push_back(CommittedNotice());
      }
      const auto elapsed = clock_.Monotonic() - start;
      metrics_.mutations
          .WithLabels({options_.org_id, run.table, std::string(OperationName(write.operation)),
                       run.outcome})
          .Increment();
      if (run.salesforce.count() > 0) {
        metrics_.salesforce_seconds.Get().Observe(
            std::chrono::duration<double>(run.salesforce).count());
      }
      metrics_.added_seconds.Get().Observe(
          std::chrono::duration<double>(elapsed - run.salesforce).count());
    }
    return out;
  }

  std::unique_ptr<HeldWrites> NewHeldWrites() override {
    return std::make_unique<writes::HeldUnit>();
  }

  MutationOutcome Hold(const Mutation& mutation, const BoundParams& params, TxStatus tx_status,
                       ServerQuerier& server, HeldWrites& held) override {
    const auto& planned = static_cast<const PlannedWrite&>(mutation);
    Run run;
    MutationOutcome out = HoldWrite(planned.write, params, tx_status, server,
                                    static_cast<writes::HeldUnit&>(held), run);
    if (!out.pass_through && out.error) {
      metrics_.mutations
          .WithLabels({options_.org_id, run.table,
                       std::string(OperationName(planned.write->operation)), run.outcome})
          .Increment();
    }
    return out;
  }

  HeldCommit CommitHeld(HeldWrites& held, ServerQuerier& server) override {
    std::vector<writes::HeldStatement> statements =
        std::move(static_cast<writes::HeldUnit&>(held).statements);
    static_cast<writes::HeldUnit&>(held).statements.clear();
    if (statements.empty()) return {};
    const auto start = clock_.Monotonic();
    Run run;
    HeldCommit out = CommitUnit(statements, server, run);
    for (const writes::HeldStatement& st : statements) {
      metrics_.mutations
          .WithLabels({options_.org_id, st.table->table,
                       std::string(OperationName(st.write.operation)), run.outcome})
          .Increment();
    }
    if (run.salesforce.count() > 0) {
      metrics_.salesforce_seconds.Get().Observe(
          std::chrono::duration<double>(run.salesforce).count());
    }
    metrics_.added_seconds.Get().Observe(
        std::chrono::duration<double>(clock_.Monotonic() - start - run.salesforce).count());
    return out;
  }

  void DiscardHeld(HeldWrites& held) override {
    static_cast<writes::HeldUnit&>(held).statements.clear();
  }

 private:
  static salesforce::ClientOptions ClientOptionsFrom(const WritePathOptions& o) {
    salesforce::ClientOptions c;
    c.credentials = o.credentials;
    c.api_version = o.api_version;
    c.max_attempts = o.salesforce_attempts;
    c.initial_backoff = o.salesforce_backoff;
    c.max_backoff = std::max(o.salesforce_backoff, std::chrono::milliseconds(2'000));
    c.request_timeout = o.salesforce_timeout;
    c.auth_timeout = o.salesforce_timeout;
    return c;
  }

  // The synced table the write's relation names on the client's connection; nullptr when it is
  // not one (the statement then passes through).
  absl::StatusOr<const SyncedTable*> Resolve(const AnalyzedWrite& write, ServerQuerier& server,
                                             std::shared_ptr<const writes::CatalogSnapshot>& snap) {
    std::string schema = write.schema, table = write.relation;
    if (schema.empty()) {
      BoundParams p;
      p.values.push_back(writes::QuoteIdentifier(table));
      p.formats.push_back(0);
      p.type_oids.push_back(25);
      absl::StatusOr<ServerQuerier::Rows> r = server.Query(
          "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c "
          "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "WHERE c.oid = pg_catalog.to_regclass($1)",
          p);
      if (!r.ok()) return r.status();
      if (r->rows.empty() || !r->rows[0][0] || !r->rows[0][1]) return nullptr;
      schema = *r->rows[0][0];
      table = *r->rows[0][1];
    }
    if (const SyncedTable* t = snap->Find(schema, table)) return t;
    // Perhaps synced since the catalog was loaded.
    if (absl::Status s = catalog_.Refresh(); !s.ok()) return nullptr;
    snap = catalog_.Get();
    return snap->Find(schema, table);
  }

  // A statement ready to send: its table, the write as sent (without the columns Salesforce
  // sets) and the affected rows with their values.
  struct Prepared {
    std::shared_ptr<const writes::CatalogSnapshot> snapshot;
    const SyncedTable* table = nullptr;
    // The write as sent when it leaves out columns Salesforce sets; nullopt: as written (no copy
    // of its parse tree on the common path).
    std::optional<AnalyzedWrite> trimmed;
    ServerQuerier::Rows rows;
  };

  MutationOutcome ExecuteWrite(const AnalyzedWrite& write, const BoundParams& params,
                               ServerQuerier& server, Run& run) {
    std::variant<MutationOutcome, Prepared> prepared = Prepare(write, params, server, run, false);
    if (auto* done = std::get_if<MutationOutcome>(&prepared)) return std::move(*done);
    Prepared& p = std::get<Prepared>(prepared);
    return SendToSalesforce(p.trimmed ? *p.trimmed : write, *p.table, params, p.rows, run);
  }

  // Everything before Salesforce is called: the outcome when the statement ends here (passed
  // through, refused, or no row affected), else what to send. `lock`: an UPDATE's or DELETE's
  // rows are locked in the client's transaction (sfbridge.pending_write 'lock') and derived again
  // once locked, as PostgreSQL re-reads a row a concurrent transaction changed.
  std::variant<MutationOutcome, Prepared> Prepare(const AnalyzedWrite& write,
                                                  const BoundParams& params, ServerQuerier& server,
                                                  Run& run, bool lock) {
    std::shared_ptr<const writes::CatalogSnapshot> snapshot = catalog_.Get();
    absl::StatusOr<const SyncedTable*> resolved = Resolve(write, server, snapshot);
    if (!resolved.ok()) {
      run.outcome = "refused";
      return Failure(ServerFailure(resolved.status()));
    }
    if (*resolved == nullptr) {
      MutationOutcome out;
      out.pass_through = true;
      return out;
    }
    const SyncedTable& table = **resolved;
    run.table = table.table;
    writes::ColumnPlan plan;
    if (std::optional<PgError> refused = writes::PlanColumns(write, table, &plan)) {
      run.outcome = "refused";
      return Failure(*std::move(refused));
    }

    // The affected rows and their new values, from Postgres.
    ServerQuerier::Rows rows;
    writes::DerivedQuery derived;
    if (write.default_values) {
      rows.rows.emplace_back();
    } else {
      absl::StatusOr<writes::DerivedQuery> q =
          writes::BuildAffectedRowsQuery(write, table, params, &plan);
      if (!q.ok()) {
        run.outcome = "refused";
        return Failure(
            writes::TableError(q.status().code() == absl::StatusCode::kNotFound ? "42703" : "42601",
                               core::ToString(q.status().message()), table));
      }
      derived = *std::move(q);
      absl::StatusOr<ServerQuerier::Rows> r = server.Query(derived.sql, derived.params);
      if (r.ok() && lock && write.operation != Operation::kInsert && !r->rows.empty()) {
        absl::Status locked = PendingWrite(server, table, "lock", IdRowsJson(*r)).status();
        r = locked.ok() ? server.Query(derived.sql, derived.params) : locked;
      }
      if (!r.ok()) {
        run.outcome = "refused";
        return Failure(ServerFailure(r.status()));
      }
      rows = *std::move(r);
    }
    if (std::optional<PgError> refused =
            writes::CheckServerSetValues(write, table, plan, rows, derived.current_at)) {
      run.outcome = "refused";
      return Failure(*std::move(refused));
    }
    if (write.operation != Operation::kInsert) DeduplicateById(rows);
    if (rows.rows.size() > static_cast<size_t>(options_.max_rows)) {
      run.outcome = "refused";
      return Failure(writes::TableError(
          "54000",
          StrCat(OperationName(write.operation), " of ", rows.rows.size(),
                 " rows of synced table \"", table.table, "\": at most ", options_.max_rows,
                 " rows per statement"),
          table,
          "A statement of up to 200 rows is one all-or-none Salesforce call; nothing was changed.",
          "Change fewer rows per statement (e.g. add a condition on id)."));
    }
    if (rows.rows.empty()) return writes::BuildReply(write, table, params, {}, rows);
    if (write.default_values && write.returning) {
      // RETURNING is checked before Salesforce is called (the derived query does it for the
      // other forms): here on a row Salesforce alone fills.
      absl::StatusOr<writes::DerivedQuery> check =
          writes::BuildReturningQuery(write, table, params, "[{}]");
      absl::Status checked =
          check.ok() ? server.Query(check->sql, check->params).status() : check.status();
      if (!checked.ok()) {
        run.outcome = "refused";
        if (GetServerError(checked)) return Failure(ServerFailure(checked));
        return Failure(writes::TableError("42601", core::ToString(checked.message()), table));
      }
    }
    Prepared prepared{.snapshot = std::move(snapshot), .table = &table};
    // Without the columns Salesforce sets or defaults.
    if (!plan.SendsAll()) {
      prepared.trimmed = write;
      writes::KeepSentColumns(plan, &*prepared.trimmed, &rows);
    }
    prepared.rows = std::move(rows);
    return prepared;
  }

  static void DeduplicateById(ServerQuerier::Rows& rows) {
    std::set<std::string> seen;
    std::vector<std::vector<std::optional<std::string>>> kept;
    for (auto& row : rows.rows) {
      if (row.empty() || !row[0] || !seen.insert(*row[0]).second) continue;
      kept.push_back(std::move(row));
    }
    rows.rows = std::move(kept);
  }

  PgError CallFailure(const absl::Status& s, const AnalyzedWrite& write, const SyncedTable& table,
                      size_t accepted_before, Run& run) {
    writes::CallFailure f = writes::MapCallFailure(s, write.operation, table, accepted_before);
    run.outcome = std::move(f.outcome);
    metrics_.salesforce_errors.WithLabels({f.code}).Increment();
    return std::move(f.error);
  }

  MutationOutcome SendToSalesforce(const AnalyzedWrite& write, const SyncedTable& table,
                                   const BoundParams& params, const ServerQuerier::Rows& rows,
                                   Run& run) {
    absl::StatusOr<std::vector<salesforce::Fields>> records = writes::ToRecords(write, table, rows);
    if (!records.ok()) {
      run.outcome = "refused";
      return Failure(
          writes::TableError("22023", core::ToString(records.status().message()), table));
    }
    // Each chunk of up to 200 records is one Composite request with its read-back (one call,
    // one token); chunks go in order, and the first that fails stops the statement.
    std::vector<std::string> accepted;  // record ids, in row order
    std::vector<v1::RecordChange> changes;
    absl::Status read_back;  // the first chunk whose confirmed versions could not be read
    std::optional<PgError> failure;
    std::vector<size_t> skipped;  // ON CONFLICT DO NOTHING: rows whose record exists
    for (size_t begin = 0; begin < records->size(); begin += writes::kRecordsPerCall) {
      const size_t end = std::min(records->size(), begin + writes::kRecordsPerCall);
      const std::vector<salesforce::Fields> chunk(records->begin() + begin, records->begin() + end);
      writes::ChunkOutcome sent = calls_.SendChunk(write, table, chunk, &run.salesforce);
      if (!sent.failure.ok()) {
        failure = CallFailure(sent.failure, write, table, accepted.size(), run);
        break;
      }
      accepted.insert(accepted.end(), sent.accepted.begin(), sent.accepted.end());
      for (size_t i : sent.skipped) skipped.push_back(begin + i);
      if (sent.changes.ok()) {
        for (auto& c : *sent.changes) changes.push_back(std::move(c));
      } else if (read_back.ok()) {
        read_back = sent.changes.status();
      }
    }
    if (failure && accepted.empty()) return Failure(*std::move(failure));
    // DO NOTHING: the reply (tag, RETURNING) has only the rows inserted.
    ServerQuerier::Rows inserted;
    if (!skipped.empty()) {
      inserted.columns = rows.columns;
      for (size_t i = 0, s = 0; i < rows.rows.size(); ++i) {
        if (s < skipped.size() && skipped[s] == i) {
          ++s;
        } else {
          inserted.rows.push_back(rows.rows[i]);
        }
      }
    }
    const ServerQuerier::Rows& replied = skipped.empty() ? rows : inserted;

    // Salesforce holds the change now: apply the confirmed versions.
    absl::Status applied = ApplyThroughWriter(changes);
    if (applied.ok()) applied = read_back;
    if (!applied.ok()) {
      core::Logger("proxy")->warn(
          "org={} table={} {} of {} records applied in Salesforce, not "
          "yet in the table: {}",
          options_.org_id, table.table, OperationName(write.operation), accepted.size(),
          core::ToString(applied.message()));
      if (failure) return Failure(*std::move(failure));
      run.outcome = "unavailable";
      return Failure(writes::TableError(
          "58000",
          StrCat("the ", OperationName(write.operation), " of ", accepted.size(),
                 " records IS applied in Salesforce, but the table is not updated yet: ",
                 applied.message()),
          table,
          "Nothing is lost: the change reaches the table through the sync within its polling "
          "interval.",
          "Do not repeat the statement."));
    }
    if (failure) return Failure(*std::move(failure));
    return writes::BuildReply(write, table, params, changes, replied, accepted);
  }

  absl::Status ApplyThroughWriter(const std::vector<v1::RecordChange>& changes) {
    if (changes.empty()) return absl::OkStatus();
    return writer_.Apply(options_.org_id, changes).status();
  }

  // --- Held writes (write_path.h Hold / CommitHeld; held_writes.h) ---

  // The token that lets the client's backend `pid` call sfbridge.pending_write
  // (writer/pending_writes.h): hex(sha256(secret || ':' || pid)).
  absl::StatusOr<std::string> PendingWriteToken(int pid) {
    if (pid <= 0)
      return absl::FailedPreconditionError("the server connection's process is unknown");
    std::string secret;
    {
      std::lock_guard lock(secret_mu_);
      if (secret_.empty()) {
        absl::StatusOr<std::unique_ptr<postgres::Connection>> conn =
            postgres::Connection::Connect(options_.control_url);
        if (!conn.ok()) return conn.status();
        absl::StatusOr<postgres::QueryResult> r =
            (*conn)->Exec("SELECT encode(secret, 'hex') FROM sfbridge.proxy_secret");
        if (!r.ok()) return r.status();
        if (r->rows.empty() || !r->rows[0][0]) {
          return absl::FailedPreconditionError(
              "sfbridge.proxy_secret is empty: start the writer once to set it up");
        }
        secret_ = absl::HexStringToBytes(*r->rows[0][0]);
      }
      secret = secret_;
    }
    const std::string message = StrCat(secret, ":", pid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(message.data(), message.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
      return absl::InternalError("sha256 failed");
    }
    return absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(size)));
  }

  // sfbridge.pending_write(token, table, op, rows) on the client's connection: the rows as the
  // table holds them afterwards (a JSON array).
  absl::StatusOr<std::string> PendingWrite(ServerQuerier& server, const SyncedTable& table,
                                           std::string_view op, std::string rows_json) {
    absl::StatusOr<std::string> token = PendingWriteToken(server.backend_pid());
    if (!token.ok()) {
      return ServerErrorStatus(
          PlainError("57P03", StrCat("the proxy cannot hold writes: ", token.status().message())));
    }
    BoundParams p;
    p.values = {
        *std::move(token),
        StrCat(writes::QuoteIdentifier(table.schema), ".", writes::QuoteIdentifier(table.table)),
        std::string(op), std::move(rows_json)};
    p.formats.assign(4, 0);
    p.type_oids = {kTextOid, kRegclassOid, kTextOid, writes::kJsonbOid};
    absl::StatusOr<ServerQuerier::Rows> r =
        server.Query("SELECT sfbridge.pending_write($1, $2, $3, $4)", p);
    if (!r.ok()) return r.status();
    if (r->rows.empty() || r->rows[0].empty() || !r->rows[0][0]) return std::string("[]");
    return *std::move(r->rows[0][0]);
  }

  // [{"id": ...}, ...] of the derived rows' first column.
  static std::string IdRowsJson(const ServerQuerier::Rows& rows) {
    std::string json = "[";
    for (const auto& row : rows.rows) {
      if (json.size() > 1) json.push_back(',');
      json.append("{\"id\":");
      salesforce::AppendJsonString(&json, row.empty() ? "" : row[0].value_or(""));
      json.push_back('}');
    }
    json.push_back(']');
    return json;
  }

  // The pending rows of a held statement, as sfbridge.pending_write takes them: an insert's with
  // its provisional id, an update's id and new values, a delete's id.
  static std::string PendingRowsJson(const writes::HeldStatement& st,
                                     const ServerQuerier::Rows& rows) {
    const size_t offset = st.write.operation == Operation::kInsert ? 0 : 1;
    std::string json = "[";
    for (size_t r = 0; r < rows.rows.size(); ++r) {
      if (r > 0) json.push_back(',');
      json.append("{\"id\":");
      salesforce::AppendJsonString(&json, st.ids[r]);
      if (st.write.operation == Operation::kInsert) json.append(",\"_modstamp_ms\":0");
      if (st.write.operation != Operation::kDelete) {
        for (size_t c = 0; c < st.write.columns.size(); ++c) {
          json.push_back(',');
          salesforce::AppendJsonString(&json, st.write.columns[c]);
          json.push_back(':');
          const std::optional<std::string>& v = rows.rows[r][offset + c];
          if (v) {
            salesforce::AppendJsonString(&json, *v);
          } else {
            json.append("null");
          }
        }
      }
      json.push_back('}');
    }
    json.push_back(']');
    return json;
  }

  // The rows of `by_id` in the order of `ids`, as a JSON array (ids without a row left out).
  static std::string OrderedRows(const std::map<std::string, std::string>& by_id,
                                 const std::vector<std::string>& ids) {
    std::string json = "[";
    for (const std::string& id : ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;
      if (json.size() > 1) json.push_back(',');
      json.append(it->second);
    }
    json.push_back(']');
    return json;
  }

  // The statement's answer with RETURNING over `rows_json`.
  static MutationOutcome HeldReply(const writes::HeldStatement& st, std::string rows_json) {
    MutationOutcome out;
    out.command_tag = writes::CommandTag(st.write.operation, st.records.size());
    if (!st.original->returning) return out;
    absl::StatusOr<writes::DerivedQuery> q =
        writes::BuildReturningQuery(*st.original, *st.table, st.params, std::move(rows_json));
    if (!q.ok())
      return Failure(writes::TableError("XX000", core::ToString(q.status().message()), *st.table));
    out.returning_sql = std::move(q->sql);
    out.returning_params = std::move(q->params);
    return out;
  }

  MutationOutcome HoldWrite(const std::shared_ptr<const AnalyzedWrite>& write,
                            const BoundParams& params, TxStatus tx_status, ServerQuerier& server,
                            writes::HeldUnit& unit, Run& run) {
    if (write->upsert) {
      run.outcome = "refused";
      return Failure(PlainError(
          "0A000",
          "INSERT ... ON CONFLICT is not supported together with other writes in one pipeline or "
          "query string",
          "Nothing was changed.", "Send it on its own: its own Sync (or its own query string)."));
    }
    std::variant<MutationOutcome, Prepared> prepared = Prepare(*write, params, server, run, true);
    if (auto* done = std::get_if<MutationOutcome>(&prepared)) return std::move(*done);
    Prepared& p = std::get<Prepared>(prepared);
    const SyncedTable& table = *p.table;
    absl::StatusOr<std::vector<salesforce::Fields>> records =
        writes::ToRecords(p.trimmed ? *p.trimmed : *write, table, p.rows);
    if (!records.ok()) {
      run.outcome = "refused";
      return Failure(
          writes::TableError("22023", core::ToString(records.status().message()), table));
    }
    writes::HeldStatement st{.snapshot = p.snapshot,
                             .table = p.table,
                             .write = p.trimmed ? std::move(*p.trimmed) : *write,
                             .original = write,
                             .params = params,
                             .records = *std::move(records),
                             .in_transaction = tx_status == TxStatus::kInTransaction};
    for (const auto& row : p.rows.rows) {
      st.ids.push_back(st.write.operation == Operation::kInsert ? writes::NewProvisionalId()
                                                                : row[0].value_or(""));
    }
    unit.statements.push_back(st);
    if (absl::Status fits = writes::UnitFits(writes::ShapeOf(unit.statements)); !fits.ok()) {
      unit.statements.pop_back();
      run.outcome = "refused";
      return Failure(writes::TableError(
          "54000", StrCat("too many writes in one pipeline or query string: ", fits.message()),
          table,
          "The writes sent together before a Sync (or in one query string) go to Salesforce as "
          "one all-or-none request; nothing was changed.",
          "Send fewer writes before each Sync, or fewer statements per query string."));
    }
    const std::string op = st.write.operation == Operation::kInsert   ? "insert"
                           : st.write.operation == Operation::kUpdate ? "update"
                                                                      : "delete";
    absl::StatusOr<std::string> applied =
        PendingWrite(server, table, op, PendingRowsJson(st, p.rows));
    absl::StatusOr<std::map<std::string, std::string>> by_id =
        applied.ok() ? writes::RowsById(*applied) : applied.status();
    if (!by_id.ok()) {
      unit.statements.pop_back();
      run.outcome = "refused";
      return Failure(ServerFailure(by_id.status()));
    }
    std::string rows_json = OrderedRows(*by_id, st.ids);
    if (st.write.operation == Operation::kDelete) unit.statements.back().deleted_rows = rows_json;
    return HeldReply(st, std::move(rows_json));
  }

  HeldCommit CommitUnit(const std::vector<writes::HeldStatement>& statements, ServerQuerier& server,
                        Run& run) {
    HeldCommit out;
    absl::StatusOr<writes::UnitRequest> request =
        writes::BuildUnitRequest(statements, batcher_.NextReferencePrefix());
    if (!request.ok()) {
      run.outcome = "refused";
      out.error = writes::TableError("54000", core::ToString(request.status().message()),
                                     *statements.front().table);
      return out;
    }
    salesforce::Reservation reservation;
    const auto start = clock_.Monotonic();
    absl::StatusOr<std::vector<salesforce::CompositeSubresponse>> replies = client_.Composite(
        request->subrequests, /*all_or_none=*/true, salesforce::Priority::kHigh, &reservation);
    run.salesforce += clock_.Monotonic() - start - reservation.waited;
    writes::UnitOutcome unit;
    if (!replies.ok()) {
      unit.failure = replies.status();
    } else {
      const int64_t now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
              .count();
      unit = writes::ReadUnitReply(*request, statements, *replies, options_.org_id, now_ms);
    }
    if (!unit.failure.ok()) {
      const writes::HeldStatement& failed = statements[unit.failed_statement];
      out.failed_statement = unit.failed_statement;
      out.error = CallFailure(unit.failure, failed.write, *failed.table, 0, run);
      return out;
    }

    // Accepted: the confirmed versions take the pending rows' places in the transaction.
    std::map<std::string, std::string> real_id;  // provisional -> Salesforce's
    for (size_t p = 0; p < request->parts.size(); ++p) {
      const writes::UnitPart& part = request->parts[p];
      if (part.operation != Operation::kInsert) continue;
      for (size_t i = 0; i < part.members.size() && i < unit.parts[p].accepted.size(); ++i) {
        const auto& [s, r] = part.members[i];
        real_id[statements[s].ids[r]] = unit.parts[p].accepted[i];
      }
    }
    std::map<std::string, std::string> replaced;  // Salesforce's id -> the provisional one
    for (const auto& [provisional, real] : real_id) replaced[real] = provisional;
    out.ids.assign(real_id.begin(), real_id.end());
    std::map<std::string, std::string> confirmed;  // id -> the row as the table holds it
    absl::Status applied;
    for (size_t p = 0; p < request->parts.size() && applied.ok(); ++p) {
      const writes::UnitPart& part = request->parts[p];
      if (!unit.parts[p].changes.ok()) {
        applied = unit.parts[p].changes.status();
        break;
      }
      if (unit.parts[p].changes->empty()) continue;
      std::string json = "[";
      for (const v1::RecordChange& change : *unit.parts[p].changes) {
        if (json.size() > 1) json.push_back(',');
        writes::AppendConfirmedRowJson(json, *part.table, change);
        if (auto it = replaced.find(change.record_id()); it != replaced.end()) {
          json.pop_back();
          json.append(",\"_replaces\":");
          salesforce::AppendJsonString(&json, it->second);
          json.push_back('}');
        }
      }
      json.push_back(']');
      const bool deleted = part.operation == Operation::kDelete;
      absl::StatusOr<std::string> rows =
          PendingWrite(server, *part.table, deleted ? "tombstone" : "confirm", std::move(json));
      absl::StatusOr<std::map<std::string, std::string>> by_id =
          rows.ok() ? writes::RowsById(*rows) : rows.status();
      if (!by_id.ok()) {
        applied = by_id.status();
        break;
      }
      for (auto& [id, row] : *by_id) confirmed[id] = std::move(row);
    }
    if (applied.ok()) {
      applied = PendingWrite(server, *statements.front().table, "resolved", "[]").status();
    }
    if (!applied.ok()) {
      core::Logger("proxy")->warn(
          "org={} {} held writes applied in Salesforce, not yet in the table: {}", options_.org_id,
          statements.size(), core::ToString(applied.message()));
      run.outcome = "unavailable";
      out.error = writes::TableError(
          "58000",
          StrCat("the ", statements.size(),
                 " writes of this pipeline or query string ARE applied in Salesforce, but the "
                 "tables are not updated yet: ",
                 applied.message()),
          *statements.front().table,
          "Nothing is lost: the changes reach the tables through the sync within its polling "
          "interval.",
          "Do not repeat the statements.");
      return out;
    }
    for (const writes::HeldStatement& st : statements) {
      std::string rows_json;
      if (st.write.operation == Operation::kDelete) {
        rows_json = st.deleted_rows;
      } else {
        std::vector<std::string> ids;
        for (const std::string& id : st.ids) {
          auto it = real_id.find(id);
          ids.push_back(it == real_id.end() ? id : it->second);
        }
        rows_json = OrderedRows(confirmed, ids);
      }
      MutationOutcome reply = HeldReply(st, std::move(rows_json));
      if (st.in_transaction) reply.notices.push_back(CommittedNotice());
      out.statements.push_back(std::move(reply));
    }
    return out;
  }

  const WritePathOptions options_;
  core::Clock& clock_;
  Metrics metrics_;
  std::unique_ptr<salesforce::PocoTransport> owned_transport_;
  writes::Catalog catalog_;
  writes::PriorityBudgetGate gate_;
  salesforce::Client client_;
  writes::CompositeBatcher batcher_;
  writes::SalesforceCalls calls_;
  writes::WriterClient writer_;
  std::mutex secret_mu_;
  std::string secret_;  // guarded by secret_mu_: sfbridge.proxy_secret's, once read
};

}  // namespace

absl::StatusOr<std::unique_ptr<WritePath>> MakeSalesforceWritePath(WritePathOptions options,
                                                                   core::MetricsRegistry& metrics) {
  std::vector<std::string> missing;
  if (options.org_id.empty()) missing.push_back("org id");
  if (options.control_url.empty()) missing.push_back("control-plane URL");
  if (options.writer_address.empty()) missing.push_back("writer address");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(StrCat("write path: missing ", core::StrJoin(missing, ", ")));
  }
  std::unique_ptr<salesforce::PocoTransport> transport;
  if (options.transport == nullptr) {
    absl::StatusOr<std::unique_ptr<salesforce::PocoTransport>> t =
        salesforce::PocoTransport::Create({.extra_ca_file = options.ca_file});
    if (!t.ok()) return t.status();
    transport = *std::move(t);
  }
  return std::unique_ptr<WritePath>(
      new SalesforceWritePath(std::move(options), metrics, std::move(transport)));
}

}  // namespace sfbridge::proxy
