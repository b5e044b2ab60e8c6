#include "proxy/writes/immediate_write_path.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <variant>

#include "common/core/logging.h"
#include "common/core/strings.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/write_reply.h"

namespace sfbridge::proxy::writes {

using core::StrCat;

namespace {

// "Salesforce ids: a, b, c." (the first ten, then how many more): where a client finds the
// records of a write it is told IS applied.
std::string AcceptedIds(const std::vector<std::string>& ids) {
  constexpr size_t kShown = 10;
  std::string out = "Salesforce ids: ";
  for (size_t i = 0; i < ids.size() && i < kShown; ++i) {
    if (i > 0) out += ", ";
    out += ids[i];
  }
  if (ids.size() > kShown) out += StrCat(" and ", ids.size() - kShown, " more");
  return out + ".";
}

}  // namespace

MutationOutcome ImmediateWritePath::Execute(const AnalyzedWrite& write, const BoundParams& params,
                                            ServerQuerier& server, WriteRun& run) {
  std::variant<MutationOutcome, PreparedWrite> prepared =
      preparation_.Prepare(write, params, server, run, /*lock=*/false);
  if (auto* done = std::get_if<MutationOutcome>(&prepared)) return std::move(*done);
  PreparedWrite& p = std::get<PreparedWrite>(prepared);
  return SendToSalesforce(p.trimmed ? *p.trimmed : write, *p.table, params, p.rows, run);
}

MutationOutcome ImmediateWritePath::SendToSalesforce(const AnalyzedWrite& write,
                                                     const SyncedTable& table,
                                                     const BoundParams& params,
                                                     const ServerQuerier::Rows& rows,
                                                     WriteRun& run) {
  absl::StatusOr<std::vector<salesforce::Fields>> records = ToRecords(write, table, rows);
  if (!records.ok()) {
    run.outcome = "refused";
    return FailedWith(TableError("22023", core::ToString(records.status().message()), table));
  }
  // Each chunk of up to 200 records is one Composite request with its read-back (one call,
  // one token); chunks go in order, and the first that fails stops the statement.
  std::vector<std::string> accepted;  // record ids, in row order
  std::vector<v1::RecordChange> changes;
  absl::Status read_back;  // the first chunk whose confirmed versions could not be read
  std::optional<PgError> failure;
  std::vector<size_t> skipped;  // ON CONFLICT DO NOTHING: rows whose record exists
  for (size_t begin = 0; begin < records->size(); begin += kRecordsPerCall) {
    const size_t end = std::min(records->size(), begin + kRecordsPerCall);
    const std::vector<salesforce::Fields> chunk(records->begin() + begin, records->begin() + end);
    ChunkOutcome sent = calls_.SendChunk(write, table, chunk, &run.salesforce);
    if (!sent.failure.ok()) {
      failure =
          metrics_.CountCallFailure(sent.failure, write.operation, table, accepted.size(), run);
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
  if (failure && accepted.empty()) return FailedWith(*std::move(failure));
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
        org_id_, table.table, OperationName(write.operation), accepted.size(),
        core::ToString(applied.message()));
    if (failure) return FailedWith(*std::move(failure));
    run.outcome = "unavailable";
    return FailedWith(TableError(
        "58000",
        StrCat("the ", OperationName(write.operation), " of ", accepted.size(),
               " records IS applied in Salesforce, but the table is not updated yet: ",
               applied.message()),
        table,
        StrCat("Nothing is lost: the change reaches the table through the sync within its "
               "polling interval. ",
               AcceptedIds(accepted)),
        "Do not repeat the statement."));
  }
  if (failure) return FailedWith(*std::move(failure));
  return BuildReply(write, table, params, changes, replied, accepted);
}

absl::Status ImmediateWritePath::ApplyThroughWriter(const std::vector<v1::RecordChange>& changes) {
  if (changes.empty()) return absl::OkStatus();
  return writer_.Apply(org_id_, changes).status();
}

}  // namespace sfbridge::proxy::writes
