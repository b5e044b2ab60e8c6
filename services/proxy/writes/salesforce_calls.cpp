#include "proxy/writes/salesforce_calls.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <utility>

#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/mapping/record_mapping.h"
#include "common/mapping/schema_mapping.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/url_encoding.h"
#include "proxy/writes/priority_budget_gate.h"
#include "proxy/writes/value_conversion.h"

namespace sfbridge::proxy::writes {
namespace {

using core::StrCat;

constexpr std::string_view kRolledBack = "ALL_OR_NONE_OPERATION_ROLLED_BACK";

bool IsSalesforceId(std::string_view id) {
  return (id.size() == 15 || id.size() == 18) && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c));
         });
}

}  // namespace

absl::StatusOr<std::vector<salesforce::Fields>> ToRecords(const AnalyzedWrite& write,
                                                          const SyncedTable& table,
                                                          const ServerQuerier::Rows& rows) {
  std::vector<const SyncedField*> fields;
  for (const std::string& column : write.columns) fields.push_back(table.FindColumn(column));
  const size_t offset = write.operation == Operation::kInsert ? 0 : 1;
  std::vector<salesforce::Fields> records;
  for (const auto& row : rows.rows) {
    salesforce::Fields record;
    if (write.operation != Operation::kInsert) {
      if (!row[0] || !IsSalesforceId(*row[0])) {
        return absl::InvalidArgumentError(
            StrCat("row with id \"", row[0].value_or("NULL"), "\" is not a Salesforce record"));
      }
      record.emplace_back("Id", salesforce::FieldValue::String(*row[0]));
    }
    if (write.operation != Operation::kDelete) {
      for (size_t i = 0; i < fields.size(); ++i) {
        absl::StatusOr<salesforce::FieldValue> v =
            ToSalesforceValue(row.at(offset + i), *fields[i]);
        if (!v.ok()) return v.status();
        record.emplace_back(fields[i]->field, *std::move(v));
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

namespace {

mapping::FieldPlan PlanOf(const SyncedTable& table) {
  mapping::FieldPlan plan;
  plan.object_name = table.object;
  plan.schema_fingerprint = table.schema_fingerprint;
  for (const SyncedField& f : table.fields) {
    plan.fields.push_back({f.field, f.salesforce_type, mapping::ValueKindOf(f.salesforce_type)});
  }
  plan.Reindex();
  return plan;
}

const std::string& IdOf(const salesforce::Fields& record) { return record.front().second.text; }

bool IsLockFailure(const absl::Status& s) {
  std::optional<salesforce::ApiError> e = salesforce::GetApiError(s);
  return e && e->error_code == "UNABLE_TO_LOCK_ROW";
}

}  // namespace

const salesforce::SaveResult* FirstRefusal(const std::vector<salesforce::SaveResult>& results) {
  const salesforce::SaveResult* refused = nullptr;
  for (const salesforce::SaveResult& r : results) {
    if (r.success) continue;
    const bool rolled_back = !r.errors.empty() && r.errors[0].status_code == kRolledBack;
    if (refused == nullptr || (!rolled_back && refused->errors.size() > 0 &&
                               refused->errors[0].status_code == kRolledBack)) {
      refused = &r;
    }
  }
  return refused;
}

ChunkRequest BuildChunkRequest(Operation operation, const SyncedTable& table,
                               const std::vector<salesforce::Fields>& records,
                               std::string_view reference_prefix, std::string_view upsert_field) {
  ChunkRequest out;
  const std::string write_ref = StrCat(reference_prefix, "w");
  const std::string read_ref = StrCat(reference_prefix, "r");
  salesforce::CompositeSubrequest write{.reference_id = write_ref};
  std::vector<std::string> ids;
  switch (operation) {
    case Operation::kInsert:
      write.method = upsert_field.empty() ? "POST" : "PATCH";
      write.url = upsert_field.empty()
                      ? std::string("/composite/sobjects")
                      : StrCat("/composite/sobjects/", table.object, "/", upsert_field);
      write.body = salesforce::BuildCollectionsBody(table.object, records, true);
      for (size_t i = 0; i < records.size(); ++i) {
        ids.push_back(StrCat("@{", write_ref, "[", i, "].id}"));
      }
      break;
    case Operation::kUpdate:
      write.method = "PATCH";
      write.url = "/composite/sobjects";
      write.body = salesforce::BuildCollectionsBody(table.object, records, true);
      for (const auto& r : records) ids.push_back(IdOf(r));
      break;
    case Operation::kDelete:
      for (const auto& r : records) ids.push_back(IdOf(r));
      write.method = "DELETE";
      write.url = StrCat("/composite/sobjects?ids=", core::StrJoin(ids, ","), "&allOrNone=true");
      break;
  }
  out.subrequests.push_back(std::move(write));

  std::vector<std::string> fields;
  for (const SyncedField& f : table.fields) fields.push_back(f.field);
  salesforce::CompositeSubrequest read{.method = "GET", .reference_id = read_ref};
  if (operation == Operation::kDelete) {
    const std::string soql = StrCat("SELECT ", core::StrJoin(fields, ", "), " FROM ", table.object,
                                    " WHERE Id IN ('", core::StrJoin(ids, "','"), "')");
    read.url = StrCat("/queryAll?", salesforce::EncodeParams({{"q", soql}}));
    out.queries = 1;
  } else {
    // Ids and API names are letters, digits and underscores; references stay as they are for
    // Salesforce to replace.
    read.url = StrCat("/composite/sobjects/", table.object, "?ids=", core::StrJoin(ids, ","),
                      "&fields=", core::StrJoin(fields, ","));
  }
  out.subrequests.push_back(std::move(read));
  return out;
}

ChunkOutcome ReadChunkReply(Operation operation, const SyncedTable& table,
                            const std::vector<salesforce::Fields>& records,
                            const std::vector<salesforce::CompositeSubresponse>& replies,
                            std::string_view org_id, int64_t now_ms, bool upsert) {
  ChunkOutcome out;
  if (replies.size() != 2) {
    out.failure = salesforce::MarkOutcomeUnknown(
        absl::InternalError(StrCat("composite reply has ", replies.size(), " results for 2")));
    return out;
  }
  const salesforce::CompositeSubresponse& write = replies[0];
  if (write.http_status < 200 || write.http_status >= 300) {
    out.failure = salesforce::StatusFromErrorReply(write.http_status, write.body);
    return out;
  }
  absl::StatusOr<std::vector<salesforce::SaveResult>> results =
      salesforce::ParseSaveResults(write.body);
  if (results.ok() && results->size() != records.size()) {
    results = absl::InternalError(StrCat("collections reply has ", results->size(), " results for ",
                                         records.size(), " records"));
  }
  if (!results.ok()) {
    // Answered, but not readably: what was applied is not known.
    out.failure = salesforce::MarkOutcomeUnknown(results.status());
    return out;
  }
  if (const salesforce::SaveResult* refused = FirstRefusal(*results)) {
    out.failure = salesforce::SaveResultStatus(*refused);
    return out;
  }
  for (size_t i = 0; i < results->size(); ++i) {
    out.accepted.push_back(operation == Operation::kInsert ? (*results)[i].id : IdOf(records[i]));
    // A create's result carries no "created"; an upsert's says which it did.
    if (operation == Operation::kInsert) out.created.push_back(!upsert || (*results)[i].created);
  }

  const salesforce::CompositeSubresponse& read = replies[1];
  if (read.http_status < 200 || read.http_status >= 300) {
    out.changes = core::Annotate(salesforce::StatusFromErrorReply(read.http_status, read.body),
                                 "reading the confirmed records back");
    return out;
  }
  std::vector<salesforce::Record> found;
  if (operation == Operation::kDelete) {
    absl::StatusOr<salesforce::QueryPage> page = salesforce::ParseQueryPage(read.body);
    if (!page.ok()) {
      out.changes = core::Annotate(page.status(), "reading the confirmed records back");
      return out;
    }
    found = std::move(page->records);
  } else {
    absl::StatusOr<std::vector<std::optional<salesforce::Record>>> array =
        salesforce::ParseRecordArray(read.body);
    if (!array.ok()) {
      out.changes = core::Annotate(array.status(), "reading the confirmed records back");
      return out;
    }
    for (auto& r : *array) {
      if (r) found.push_back(*std::move(r));
    }
  }
  const mapping::FieldPlan plan = PlanOf(table);
  std::vector<v1::RecordChange> changes;
  for (const salesforce::Record& record : found) {
    absl::StatusOr<v1::RecordChange> change =
        mapping::ToRecordChange(org_id, plan, record, v1::CHANGE_SOURCE_PROXY, now_ms);
    if (!change.ok()) {
      out.changes = change.status();
      return out;
    }
    if (operation == Operation::kDelete) change->set_deleted(true);
    changes.push_back(*std::move(change));
  }
  out.changes = std::move(changes);
  return out;
}

absl::StatusOr<std::vector<size_t>> SalesforceCalls::Existing(
    const SyncedTable& table, std::string_view field,
    const std::vector<salesforce::Fields>& records, std::chrono::nanoseconds* salesforce_time) {
  // Each record's key, lowercased (Salesforce compares external ids without case); none for a
  // null key, which never conflicts (as in PostgreSQL).
  std::vector<std::optional<std::string>> keys;
  std::vector<std::string> literals;
  for (const salesforce::Fields& record : records) {
    std::optional<std::string> key;
    for (const auto& [name, value] : record) {
      if (name != field || value.kind == salesforce::FieldValue::Kind::kNull) continue;
      key = value.text;
      std::string literal = "'";
      for (char c : value.text) {
        if (c == '\\' || c == '\'') literal.push_back('\\');
        literal.push_back(c);
      }
      literals.push_back(literal + "'");
    }
    if (key) {
      for (char& c : *key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    keys.push_back(std::move(key));
  }
  std::set<std::string> taken;
  if (!literals.empty()) {
    const std::string soql = StrCat("SELECT Id, ", field, " FROM ", table.object, " WHERE ", field,
                                    " IN (", core::StrJoin(literals, ","), ")");
    absl::StatusOr<std::vector<salesforce::CompositeSubresponse>> replies =
        batcher_.Send({{.method = "GET",
                        .url = StrCat("/query?", salesforce::EncodeParams({{"q", soql}})),
                        .reference_id = StrCat(batcher_.NextReferencePrefix(), "q")}},
                      1, salesforce_time);
    if (!replies.ok()) return replies.status();
    const salesforce::CompositeSubresponse& reply = replies->front();
    if (reply.http_status < 200 || reply.http_status >= 300) {
      return salesforce::StatusFromErrorReply(reply.http_status, reply.body);
    }
    absl::StatusOr<salesforce::QueryPage> page = salesforce::ParseQueryPage(reply.body);
    if (!page.ok()) return page.status();
    for (const salesforce::Record& r : page->records) {
      if (const salesforce::FieldValue* v = r.Find(std::string(field)); v && !v->text.empty()) {
        std::string key = v->text;
        for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        taken.insert(std::move(key));
      }
    }
  }
  std::vector<size_t> skipped;
  for (size_t i = 0; i < keys.size(); ++i) {
    // Taken in Salesforce, or by an earlier row of this statement.
    if (keys[i] && !taken.insert(*keys[i]).second) skipped.push_back(i);
  }
  return skipped;
}

ChunkOutcome SalesforceCalls::SendChunk(const AnalyzedWrite& write, const SyncedTable& table,
                                        const std::vector<salesforce::Fields>& records,
                                        std::chrono::nanoseconds* salesforce_time) {
  std::string upsert_field;
  if (write.upsert) {
    const SyncedField* f = table.FindColumn(write.upsert->column);
    if (f == nullptr) {
      ChunkOutcome out;
      out.failure = absl::InvalidArgumentError(
          StrCat("ON CONFLICT column \"", write.upsert->column, "\" is not a synced field"));
      return out;
    }
    upsert_field = f->field;
  }
  const bool do_nothing = write.upsert && write.upsert->do_nothing;
  std::vector<size_t> skipped;
  const std::vector<salesforce::Fields>* to_send = &records;
  std::vector<salesforce::Fields> kept;
  if (do_nothing) {
    absl::StatusOr<std::vector<size_t>> existing =
        Existing(table, upsert_field, records, salesforce_time);
    if (!existing.ok()) {
      ChunkOutcome out;
      out.failure = existing.status();
      return out;
    }
    skipped = *std::move(existing);
    for (size_t i = 0, s = 0; i < records.size(); ++i) {
      if (s < skipped.size() && skipped[s] == i) {
        ++s;
      } else {
        kept.push_back(records[i]);
      }
    }
    to_send = &kept;
    if (kept.empty()) {
      ChunkOutcome out;
      out.skipped = std::move(skipped);
      return out;
    }
  }
  const std::string_view upsert_by = do_nothing ? std::string_view() : upsert_field;
  for (int attempt = 1;; ++attempt) {
    ChunkRequest request = BuildChunkRequest(write.operation, table, *to_send,
                                             batcher_.NextReferencePrefix(), upsert_by);
    absl::StatusOr<std::vector<salesforce::CompositeSubresponse>> replies =
        batcher_.Send(std::move(request.subrequests), request.queries, salesforce_time);
    ChunkOutcome out;
    if (!replies.ok()) {
      out.failure = replies.status();
      return out;
    }
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count();
    out = ReadChunkReply(write.operation, table, *to_send, *replies, org_id_, now_ms,
                         !upsert_by.empty());
    out.skipped = skipped;
    // A row lock refused the whole collection: nothing was applied, it may pass on a resend.
    if (attempt >= lock_attempts_ || !IsLockFailure(out.failure)) return out;
    clock_.SleepFor(lock_backoff_ * attempt);
  }
}

}  // namespace sfbridge::proxy::writes
