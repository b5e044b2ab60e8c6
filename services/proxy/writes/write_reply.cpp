#include "proxy/writes/write_reply.h"

#include <map>
#include <utility>

#include "common/core/strings.h"
#include "common/salesforce/json_records.h"
#include "proxy/writes/derived_query.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/value_conversion.h"

namespace sfbridge::proxy::writes {
using core::StrCat;

void AppendConfirmedRowJson(std::string& json, const SyncedTable& table,
                            const v1::RecordChange& change) {
  json.append("{\"id\":");
  salesforce::AppendJsonString(&json, change.record_id());
  core::StrAppend(&json, ",\"_modstamp_ms\":", change.system_modstamp_ms());
  for (const auto& [name, value] : change.fields()) {
    const SyncedField* f = table.FindField(name);
    if (f == nullptr || f->column == "id") continue;
    json.push_back(',');
    salesforce::AppendJsonString(&json, f->column);
    json.push_back(':');
    AppendColumnJson(&json, value);
  }
  json.append(",\"_synced_at\":\"now\"}");
}

std::string CommandTag(Operation operation, size_t rows) {
  switch (operation) {
    case Operation::kInsert:
      return StrCat("INSERT 0 ", rows);
    case Operation::kUpdate:
      return StrCat("UPDATE ", rows);
    case Operation::kDelete:
      return StrCat("DELETE ", rows);
  }
  return "";
}

MutationOutcome BuildReply(const AnalyzedWrite& write, const SyncedTable& table,
                           const BoundParams& params, const std::vector<v1::RecordChange>& changes,
                           const ServerQuerier::Rows& rows, const std::vector<std::string>& order) {
  MutationOutcome out;
  out.command_tag = CommandTag(write.operation, rows.rows.size());
  if (!write.returning) return out;
  std::string json = "[";
  if (write.operation == Operation::kDelete) {
    // The rows as they were before the delete (the derived query's second column).
    for (size_t i = 0; i < rows.rows.size(); ++i) {
      if (i > 0) json.push_back(',');
      json.append(rows.rows[i].size() > 1 && rows.rows[i][1] ? *rows.rows[i][1] : "{}");
    }
  } else {
    std::map<std::string, const v1::RecordChange*> by_id;
    for (const v1::RecordChange& c : changes) by_id[c.record_id()] = &c;
    bool first = true;
    for (const std::string& id : order) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;
      if (!first) json.push_back(',');
      first = false;
      AppendConfirmedRowJson(json, table, *it->second);
    }
  }
  json.push_back(']');
  absl::StatusOr<DerivedQuery> q = BuildReturningQuery(write, table, params, std::move(json));
  if (!q.ok()) {
    // Cannot happen for a statement that was analysed; say so rather than answer wrongly.
    MutationOutcome failed;
    failed.error = TableError("XX000", core::ToString(q.status().message()), table);
    return failed;
  }
  out.returning_sql = std::move(q->sql);
  out.returning_params = std::move(q->params);
  return out;
}

}  // namespace sfbridge::proxy::writes
