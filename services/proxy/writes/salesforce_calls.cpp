#include "proxy/writes/salesforce_calls.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "fetcher/record_mapping.h"
#include "fetcher/schema_mapping.h"
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

// allOrNone: when a call is refused, the first result with a real error explains it (the
// others only say they were rolled back); nullptr when every record succeeded.
const salesforce::SaveResult* Refusal(const std::vector<salesforce::SaveResult>& results) {
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

template <typename Call>
auto SalesforceCalls::Timed(std::chrono::nanoseconds* salesforce_time, const Call& call) {
  PriorityBudgetGate::ResetWaited();
  const auto start = clock_.Monotonic();
  auto result = call();
  *salesforce_time += clock_.Monotonic() - start - PriorityBudgetGate::WaitedThisThread();
  return result;
}

SalesforceCalls::Sent SalesforceCalls::Send(const AnalyzedWrite& write, const SyncedTable& table,
                                            const std::vector<salesforce::Fields>& records,
                                            std::chrono::nanoseconds* salesforce_time) {
  Sent sent;
  for (size_t begin = 0; begin < records.size(); begin += kRecordsPerCall) {
    const size_t end = std::min(records.size(), begin + kRecordsPerCall);
    std::vector<salesforce::Fields> chunk(records.begin() + begin, records.begin() + end);
    absl::StatusOr<std::vector<salesforce::SaveResult>> results = Timed(salesforce_time, [&] {
      switch (write.operation) {
        case Operation::kInsert:
          return client_.CreateRecords(table.object, chunk, true);
        case Operation::kUpdate:
          return client_.UpdateRecords(table.object, chunk, true);
        case Operation::kDelete: {
          std::vector<std::string> ids;
          for (const auto& r : chunk) ids.push_back(r.front().second.text);
          return client_.DeleteRecords(ids, true);
        }
      }
      return absl::StatusOr<std::vector<salesforce::SaveResult>>(
          absl::InternalError("unknown operation"));
    });
    if (!results.ok()) {
      sent.failure = results.status();
      break;
    }
    if (const salesforce::SaveResult* refused = Refusal(*results)) {
      sent.failure = salesforce::SaveResultStatus(*refused);
      break;
    }
    for (size_t i = 0; i < results->size(); ++i) {
      sent.accepted.push_back(write.operation == Operation::kInsert ? (*results)[i].id
                                                                    : chunk[i].front().second.text);
    }
  }
  return sent;
}

absl::StatusOr<std::vector<v1::RecordChange>> SalesforceCalls::ReadBack(
    const AnalyzedWrite& write, const SyncedTable& table, const std::vector<std::string>& ids,
    std::chrono::nanoseconds* salesforce_time) {
  fetcher::FieldPlan plan;
  plan.object_name = table.object;
  plan.schema_fingerprint = table.schema_fingerprint;
  for (const SyncedField& f : table.fields) {
    plan.fields.push_back({f.field, f.salesforce_type, fetcher::ValueKindOf(f.salesforce_type)});
  }
  plan.Reindex();
  const std::string select = StrCat("SELECT ", core::StrJoin(plan.FieldNames(), ", "), " FROM ",
                                    table.object, " WHERE Id IN ('");
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  std::vector<v1::RecordChange> changes;
  for (size_t begin = 0; begin < ids.size(); begin += kRecordsPerCall) {
    const size_t end = std::min(ids.size(), begin + kRecordsPerCall);
    std::vector<std::string> chunk(ids.begin() + begin, ids.begin() + end);
    const std::string soql = StrCat(select, core::StrJoin(chunk, "','"), "')");
    absl::StatusOr<salesforce::QueryPage> page = Timed(
        salesforce_time, [&] { return client_.QueryAll(soql, 0, salesforce::Priority::kHigh); });
    if (!page.ok()) return core::Annotate(page.status(), "reading the confirmed records back");
    for (const salesforce::Record& record : page->records) {
      absl::StatusOr<v1::RecordChange> change =
          fetcher::ToRecordChange(org_id_, plan, record, v1::CHANGE_SOURCE_PROXY, now_ms);
      if (!change.ok()) return change.status();
      if (write.operation == Operation::kDelete) change->set_deleted(true);
      changes.push_back(*std::move(change));
    }
  }
  return changes;
}

}  // namespace sfbridge::proxy::writes
