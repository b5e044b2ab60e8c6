#pragma once

// Pieces shared by the files of RestApi: the call being answered, how calls are named and
// counted, and the JSON of save results. Internal to sfsim.

#include <string>
#include <string_view>

#include "common/core/json_writer.h"
#include "sfsim/rest_api.h"

namespace sfbridge::sfsim {

// Requests whose modelled latency reaches this count as long-running in Salesforce.
constexpr int64_t kLongRunningMs = 20'000;

struct RestApi::Call {
  const Request& request;
  std::string version;      // "59.0"
  std::string_view rest;    // the path after /services/data/vXX.X/
  std::string kind;         // what the call counts as: query, describe, collections_create, ...
  bool lock_error = false;  // fault: writes fail with UNABLE_TO_LOCK_ROW
  int64_t records = 0;      // records returned or written, for per-record latency
  // Composite with allOrNone: what each write replaced (nullptr for a create), so that the
  // writes can be undone when a later subrequest fails.
  bool track_undo = false;
  std::vector<std::pair<std::string, org::RecordPtr>> undo;
};

// The kind of call a method and path are: versions, query, query_more, query_all, describe,
// describe_global, sobject_create/read/update/delete/upsert, collections_create/update/
// upsert/delete/retrieve, composite, limits, get_updated, get_deleted, bulk_query_create/list/
// info/abort/delete/results, other.
std::string ClassifyCall(std::string_view method, std::string_view rest);
bool IsWriteCall(std::string_view kind);

// Page size from "Sforce-Query-Options: batchSize=N": 200..2000 (out of range → the nearest
// bound), `fallback` when absent; 200 when two or more long text fields are selected.
size_t QueryBatchSize(std::string_view header, size_t fallback, const org::QueryResult& result);

// {"id":"...","success":true,"errors":[]} (collections use statusCode in errors).
void WriteSaveResult(core::JsonWriter& w, const org::SaveResult& result, bool with_created);
Response ErrorFromApiErrors(const std::vector<org::ApiError>& errors);
// Parses "2024-01-15T10:20:30Z" / "...+00:00" / "....000+0000" into epoch ms.
std::optional<int64_t> ParseIsoDateTime(std::string_view text);
std::string FormatIsoDateTime(int64_t ms);

}  // namespace sfbridge::sfsim
