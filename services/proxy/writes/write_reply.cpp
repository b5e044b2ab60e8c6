#include "proxy/writes/write_reply.h"

#include <map>
#include <utility>

#include "common/core/strings.h"
#include "proxy/writes/derived_query.h"
#include "proxy/writes/error_mapping.h"
#include "proxy/writes/value_conversion.h"

namespace sfbridge::proxy::writes {
using core::StrCat;

void WriteConfirmedRowMembers(core::JsonWriter& json, const SyncedTable& table,
                              const v1::RecordChange& change) {
  json.Member("id", change.record_id()).Member("_modstamp_ms", change.system_modstamp_ms());
  for (const auto& [name, value] : change.fields()) {
    const SyncedField* f = table.FindField(name);
    if (f == nullptr || f->column == "id") continue;
    WriteColumnJson(json.Key(f->column), value);
  }
  json.Member("_synced_at", "now");
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
  core::JsonWriter json;
  json.BeginArray();
  if (write.operation == Operation::kDelete) {
    // The rows as they were before the delete (the derived query's second column: to_jsonb's
    // text, kept as it is).
    for (const auto& row : rows.rows) {
      if (row.size() > 1 && row[1]) {
        json.Raw(*row[1]);
      } else {
        json.BeginObject().EndObject();
      }
    }
  } else {
    std::map<std::string, const v1::RecordChange*> by_id;
    for (const v1::RecordChange& c : changes) by_id[c.record_id()] = &c;
    for (const std::string& id : order) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;
      json.BeginObject();
      WriteConfirmedRowMembers(json, table, *it->second);
      json.EndObject();
    }
  }
  json.EndArray();
  absl::StatusOr<DerivedQuery> q = BuildReturningQuery(write, table, params, json.Take());
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
