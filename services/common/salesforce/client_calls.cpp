// Client, continued: the typed calls (describe, query, collections, retrieve, Composite, limits)
// built on the request path in client.cpp.

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/core/strings.h"
#include "common/salesforce/api_error.h"
#include "common/salesforce/client.h"
#include "common/salesforce/url_encoding.h"

namespace sfbridge::salesforce {
namespace {

constexpr size_t kMaxRetrieveIds = 800;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The first row-lock error when no record of a collections reply was saved and every error is
// UNABLE_TO_LOCK_ROW or ALL_OR_NONE_OPERATION_ROLLED_BACK; nullopt otherwise.
std::optional<absl::Status> OnlyLockFailures(const std::vector<SaveResult>& results) {
  std::optional<absl::Status> lock;
  for (const SaveResult& result : results) {
    if (result.success || result.errors.empty()) return std::nullopt;
    for (const SaveError& error : result.errors) {
      if (error.status_code == "UNABLE_TO_LOCK_ROW") {
        if (!lock) lock = SaveResultStatus(result);
      } else if (error.status_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK") {
        return std::nullopt;
      }
    }
  }
  return lock;
}

absl::Status Malformed(absl::Status status, std::string_view what) {
  return absl::Status(status.code(), core::StrCat(what, ": ", status.message()));
}

}  // namespace

absl::StatusOr<std::vector<SObjectSummary>> Client::DescribeGlobal(Priority priority) {
  Call call = MakeCall(CallKind::kDescribe, priority, "GET", "/sobjects");
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseDescribeGlobal(response->body);
}

absl::StatusOr<SObjectDescribe> Client::Describe(std::string_view object_name, Priority priority) {
  Call call = MakeCall(CallKind::kDescribe, priority, "GET",
                       core::StrCat("/sobjects/", UrlEncode(object_name), "/describe"));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  absl::StatusOr<SObjectDescribe> describe = ParseDescribe(response->body);
  if (!describe.ok()) return Malformed(describe.status(), core::StrCat("describe ", object_name));
  return describe;
}

absl::StatusOr<QueryPage> Client::RunQuery(std::string_view resource, std::string_view soql,
                                           int batch_size, Priority priority) {
  Call call = MakeCall(CallKind::kQuery, priority, "GET",
                       core::StrCat(resource, "?", EncodeParams({{"q", std::string(soql)}})));
  if (batch_size > 0) {
    call.headers.emplace_back("Sforce-Query-Options", core::StrCat("batchSize=", batch_size));
  }
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseQueryPage(response->body);
}

absl::StatusOr<QueryPage> Client::Query(std::string_view soql, int batch_size, Priority priority) {
  return RunQuery("/query", soql, batch_size, priority);
}

absl::StatusOr<QueryPage> Client::QueryAll(std::string_view soql, int batch_size,
                                           Priority priority) {
  return RunQuery("/queryAll", soql, batch_size, priority);
}

absl::StatusOr<QueryPage> Client::QueryMore(std::string_view next_records_url, Priority priority) {
  if (next_records_url.rfind("/services/data/", 0) != 0 ||
      next_records_url.find("//") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "nextRecordsUrl must be a path under /services/data/ as Salesforce gives it");
  }
  Call call = MakeCall(CallKind::kQueryMore, priority, "GET", std::string(next_records_url));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseQueryPage(response->body);
}

absl::StatusOr<std::vector<SaveResult>> Client::SendCollection(Call call, size_t count) {
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> response = Execute(call);
    if (!response.ok()) return response.status();
    absl::StatusOr<std::vector<SaveResult>> results = ParseSaveResults(response->body);
    if (!results.ok()) return results.status();
    if (results->size() != count) {
      return absl::InternalError(core::StrCat("collections reply has ", results->size(),
                                              " results for ", count, " records"));
    }
    // Salesforce reports row locks per record inside a 200 reply. When every record failed on a
    // lock (or was rolled back because of one) nothing was applied, so the call may be sent
    // again, creates included; the last attempt's results are returned as they are.
    std::optional<absl::Status> lock = OnlyLockFailures(*results);
    if (!lock || !PrepareRetry(call, attempt, *lock)) return results;
  }
}

absl::StatusOr<std::vector<SaveResult>> Client::CreateRecords(std::string_view object_type,
                                                              const std::vector<Fields>& records,
                                                              bool all_or_none, Priority priority) {
  if (records.size() > kMaxCollectionRecords) {
    return absl::InvalidArgumentError(core::StrCat("create ", object_type, ": ", records.size(),
                                                   " records, at most ", kMaxCollectionRecords,
                                                   " per collections call"));
  }
  if (records.empty()) return std::vector<SaveResult>();
  Call call = MakeCall(CallKind::kCollections, priority, "POST", "/composite/sobjects");
  call.body = BuildCollectionsBody(object_type, records, all_or_none);
  call.idempotent = false;
  return SendCollection(std::move(call), records.size());
}

absl::StatusOr<std::vector<SaveResult>> Client::UpdateRecords(std::string_view object_type,
                                                              const std::vector<Fields>& records,
                                                              bool all_or_none, Priority priority) {
  if (records.size() > kMaxCollectionRecords) {
    return absl::InvalidArgumentError(core::StrCat("update ", object_type, ": ", records.size(),
                                                   " records, at most ", kMaxCollectionRecords,
                                                   " per collections call"));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    bool has_id = std::any_of(records[i].begin(), records[i].end(), [](const auto& field) {
      return EqualsIgnoreCase(field.first, "Id") && field.second.kind == FieldValue::Kind::kString;
    });
    if (!has_id) {
      return absl::InvalidArgumentError(
          core::StrCat("update ", object_type, ": record ", i, " has no Id"));
    }
  }
  if (records.empty()) return std::vector<SaveResult>();
  Call call = MakeCall(CallKind::kCollections, priority, "PATCH", "/composite/sobjects");
  call.body = BuildCollectionsBody(object_type, records, all_or_none);
  return SendCollection(std::move(call), records.size());
}

absl::StatusOr<std::vector<SaveResult>> Client::DeleteRecords(const std::vector<std::string>& ids,
                                                              bool all_or_none, Priority priority) {
  if (ids.size() > kMaxCollectionRecords) {
    return absl::InvalidArgumentError(core::StrCat("delete: ", ids.size(), " ids, at most ",
                                                   kMaxCollectionRecords, " per collections call"));
  }
  if (ids.empty()) return std::vector<SaveResult>();
  Call call = MakeCall(CallKind::kCollections, priority, "DELETE",
                       core::StrCat("/composite/sobjects?",
                                    EncodeParams({{"ids", core::StrJoin(ids, ",")},
                                                  {"allOrNone", all_or_none ? "true" : "false"}})));
  return SendCollection(std::move(call), ids.size());
}

absl::StatusOr<std::vector<std::optional<Record>>> Client::RetrieveRecords(
    std::string_view object_type, const std::vector<std::string>& ids,
    const std::vector<std::string>& fields, Priority priority) {
  if (ids.size() > kMaxRetrieveIds) {
    return absl::InvalidArgumentError(core::StrCat("retrieve ", object_type, ": ", ids.size(),
                                                   " ids, at most ", kMaxRetrieveIds));
  }
  if (fields.empty()) {
    return absl::InvalidArgumentError(core::StrCat("retrieve ", object_type, ": no fields"));
  }
  if (ids.empty()) return std::vector<std::optional<Record>>();
  Call call = MakeCall(CallKind::kCollections, priority, "GET",
                       core::StrCat("/composite/sobjects/", UrlEncode(object_type), "?",
                                    EncodeParams({{"ids", core::StrJoin(ids, ",")},
                                                  {"fields", core::StrJoin(fields, ",")}})));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseRecordArray(response->body);
}

absl::StatusOr<std::vector<CompositeSubresponse>> Client::Composite(
    const std::vector<CompositeSubrequest>& subrequests, bool all_or_none, Priority priority,
    Reservation* reservation) {
  if (subrequests.size() > kMaxCompositeSubrequests) {
    return absl::InvalidArgumentError(core::StrCat(
        "composite: ", subrequests.size(), " subrequests, at most ", kMaxCompositeSubrequests));
  }
  if (subrequests.empty()) return std::vector<CompositeSubresponse>();
  // A PATCH or DELETE sent twice is not always the same as once (a delete retried after a
  // dropped attempt that was applied answers ENTITY_IS_DELETED): any write makes it unsafe.
  const bool idempotent =
      std::all_of(subrequests.begin(), subrequests.end(),
                  [](const CompositeSubrequest& s) { return EqualsIgnoreCase(s.method, "GET"); });
  Call call = MakeCall(CallKind::kComposite, priority, "POST", "/composite");
  call.body = BuildCompositeBody(subrequests, all_or_none, data_path_);
  call.idempotent = idempotent;
  call.reservation = reservation;
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  // A 2xx reply that cannot be read says nothing of what was applied.
  absl::StatusOr<std::vector<CompositeSubresponse>> results =
      ParseCompositeResponse(response->body);
  if (!results.ok()) return MarkOutcomeUnknown(results.status());
  if (results->size() != subrequests.size()) {
    return MarkOutcomeUnknown(
        absl::InternalError(core::StrCat("composite reply has ", results->size(), " results for ",
                                         subrequests.size(), " subrequests")));
  }
  return results;
}

absl::StatusOr<std::map<std::string, LimitValue>> Client::Limits(Priority priority) {
  Call call = MakeCall(CallKind::kLimits, priority, "GET", "/limits");
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseLimits(response->body);
}

absl::StatusOr<DeletedRecords> Client::GetDeleted(std::string_view object_type,
                                                  core::Clock::WallTime start,
                                                  core::Clock::WallTime end, Priority priority) {
  Call call = MakeCall(CallKind::kGetDeleted, priority, "GET",
                       core::StrCat("/sobjects/", UrlEncode(object_type), "/deleted/?",
                                    EncodeParams({{"start", FormatReplicationTime(start)},
                                                  {"end", FormatReplicationTime(end)}})));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseDeletedRecords(response->body);
}

absl::StatusOr<UpdatedRecords> Client::GetUpdated(std::string_view object_type,
                                                  core::Clock::WallTime start,
                                                  core::Clock::WallTime end, Priority priority) {
  Call call = MakeCall(CallKind::kGetUpdated, priority, "GET",
                       core::StrCat("/sobjects/", UrlEncode(object_type), "/updated/?",
                                    EncodeParams({{"start", FormatReplicationTime(start)},
                                                  {"end", FormatReplicationTime(end)}})));
  absl::StatusOr<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  return ParseUpdatedRecords(response->body);
}

}  // namespace sfbridge::salesforce
