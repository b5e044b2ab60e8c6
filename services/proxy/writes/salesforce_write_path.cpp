#include "proxy/writes/salesforce_write_path.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "common/core/strings.h"
#include "common/salesforce/client.h"
#include "common/salesforce/poco_transport.h"
#include "proxy/writes/catalog.h"
#include "proxy/writes/composite_batcher.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/held_write_path.h"
#include "proxy/writes/held_writes.h"
#include "proxy/writes/immediate_write_path.h"
#include "proxy/writes/pending_write_client.h"
#include "proxy/writes/priority_budget_gate.h"
#include "proxy/writes/salesforce_calls.h"
#include "proxy/writes/sql_tree.h"
#include "proxy/writes/statement_analysis.h"
#include "proxy/writes/write_metrics.h"
#include "proxy/writes/write_preparation.h"
#include "proxy/writes/writer_client.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;
using writes::AnalyzedWrite;

struct PlannedWrite final : Mutation {
  std::shared_ptr<const AnalyzedWrite> write;
};

// True when a text mentions one of the names, ignoring case: a statement that does not cannot
// write a synced table (the parser is not needed to know).
bool MentionsAny(std::string_view sql, const std::vector<std::string>& names) {
  std::string lower(sql);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return lower.find(n) != std::string::npos; });
}

salesforce::ClientOptions ClientOptionsFrom(const WritePathOptions& o) {
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

// The WritePath: plans statements, and runs them as immediate (immediate_write_path.h) or held
// (held_write_path.h) writes, counting each in the metrics.
class SalesforceWritePath final : public WritePath {
 public:
  SalesforceWritePath(WritePathOptions options, core::MetricsRegistry& registry,
                      std::unique_ptr<salesforce::PocoTransport> owned_transport)
      : options_(std::move(options)),
        clock_(*options_.clock),
        metrics_(registry, options_.org_id),
        owned_transport_(std::move(owned_transport)),
        catalog_(options_.control_url, options_.org_id, clock_, options_.catalog_refresh),
        gate_(options_.control_url, options_.org_id, clock_, options_.budget_wait),
        client_(ClientOptionsFrom(options_),
                options_.transport != nullptr ? *options_.transport : *owned_transport_, clock_,
                &gate_),
        batcher_(client_, clock_, options_.coalesce_window),
        calls_(batcher_, clock_, options_.org_id, options_.salesforce_attempts,
               options_.salesforce_backoff),
        writer_(options_.writer_address, options_.writer_timeout),
        pending_(options_.control_url),
        preparation_(catalog_, pending_, options_.max_rows),
        immediate_(preparation_, calls_, writer_, metrics_, options_.org_id),
        held_(preparation_, pending_, client_, batcher_, clock_, metrics_, options_.org_id) {}

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
        metrics_.CountMutation(plan.error.table, "unknown", "refused");
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
    writes::WriteRun run;
    MutationOutcome out = immediate_.Execute(write, params, server, run);
    if (!out.pass_through) {
      if (!out.error && tx_status == TxStatus::kInTransaction) {
        out.notices.push_back(writes::CommittedNotice());
      }
      const auto elapsed = clock_.Monotonic() - start;
      metrics_.CountMutation(run.table, OperationName(write.operation), run.outcome);
      metrics_.ObserveTimes(elapsed, run.salesforce);
    }
    return out;
  }

  std::unique_ptr<HeldWrites> NewHeldWrites() override {
    return std::make_unique<writes::HeldUnit>();
  }

  MutationOutcome Hold(const Mutation& mutation, const BoundParams& params, TxStatus tx_status,
                       ServerQuerier& server, HeldWrites& held) override {
    const auto& planned = static_cast<const PlannedWrite&>(mutation);
    writes::WriteRun run;
    MutationOutcome out = held_.Hold(planned.write, params, tx_status, server,
                                     static_cast<writes::HeldUnit&>(held), run);
    if (!out.pass_through && out.error) {
      metrics_.CountMutation(run.table, OperationName(planned.write->operation), run.outcome);
    }
    return out;
  }

  HeldCommit CommitHeld(HeldWrites& held, ServerQuerier& server) override {
    std::vector<writes::HeldStatement> statements =
        std::move(static_cast<writes::HeldUnit&>(held).statements);
    static_cast<writes::HeldUnit&>(held).statements.clear();
    if (statements.empty()) return {};
    const auto start = clock_.Monotonic();
    writes::WriteRun run;
    HeldCommit out = held_.Commit(statements, server, run);
    for (const writes::HeldStatement& st : statements) {
      metrics_.CountMutation(st.table->table, OperationName(st.write.operation), run.outcome);
    }
    metrics_.ObserveTimes(clock_.Monotonic() - start, run.salesforce);
    return out;
  }

  void DiscardHeld(HeldWrites& held) override {
    static_cast<writes::HeldUnit&>(held).statements.clear();
  }

 private:
  const WritePathOptions options_;
  core::Clock& clock_;
  writes::WriteMetrics metrics_;
  std::unique_ptr<salesforce::PocoTransport> owned_transport_;
  writes::Catalog catalog_;
  writes::PriorityBudgetGate gate_;
  salesforce::Client client_;
  writes::CompositeBatcher batcher_;
  writes::SalesforceCalls calls_;
  writes::WriterClient writer_;
  writes::PendingWriteClient pending_;
  writes::WritePreparation preparation_;
  writes::ImmediateWritePath immediate_;
  writes::HeldWritePath held_;
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
