#include "common/salesforce/bulk_query.h"

#include <simdjson.h>

#include <array>
#include <utility>

#include "absl/strings/numbers.h"
#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "common/salesforce/url_encoding.h"

namespace sfbridge::salesforce {
namespace {

constexpr std::array<std::pair<BulkJobState, std::string_view>, 5> kStateNames = {{
    {BulkJobState::kUploadComplete, "UploadComplete"},
    {BulkJobState::kInProgress, "InProgress"},
    {BulkJobState::kJobComplete, "JobComplete"},
    {BulkJobState::kFailed, "Failed"},
    {BulkJobState::kAborted, "Aborted"},
}};

std::string JobPath(std::string_view job_id) {
  return core::StrCat("/jobs/query/", UrlEncode(job_id));
}

}  // namespace

std::string_view BulkJobStateName(BulkJobState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "Other";
}

BulkJobState ParseBulkJobState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return BulkJobState::kOther;
}

absl::StatusOr<BulkJob> ParseBulkJob(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get_object().get(object) != simdjson::SUCCESS) {
    return absl::InternalError("malformed Bulk job reply: not a JSON object");
  }
  BulkJob job;
  auto text = [&](const char* key, std::string& out) {
    std::string_view v;
    if (object[key].get_string().get(v) == simdjson::SUCCESS) out = std::string(v);
  };
  text("id", job.id);
  text("operation", job.operation);
  text("object", job.object);
  text("state", job.state_name);
  text("createdDate", job.created_date);
  text("errorMessage", job.error_message);
  double version = 0;
  std::string_view version_text;
  if (object["apiVersion"].get_double().get(version) == simdjson::SUCCESS) {
    job.api_version = core::StrCat(version);
  } else if (object["apiVersion"].get_string().get(version_text) == simdjson::SUCCESS) {
    job.api_version = std::string(version_text);
  }
  int64_t processed = 0;
  if (object["numberRecordsProcessed"].get_int64().get(processed) == simdjson::SUCCESS) {
    job.records_processed = processed;
  }
  if (job.id.empty() || job.state_name.empty()) {
    return absl::InternalError("malformed Bulk job reply: no id or state");
  }
  job.state = ParseBulkJobState(job.state_name);
  return job;
}

absl::StatusOr<BulkJob> BulkQuery::Create(std::string_view soql, BulkOperation operation,
                                          Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "POST", "/jobs/query");
  call.body = core::JsonWriter()
                  .BeginObject()
                  .Member("operation", operation == BulkOperation::kQueryAll ? "queryAll" : "query")
                  .Member("query", soql)
                  .Member("contentType", "CSV")
                  .Member("columnDelimiter", "COMMA")
                  .Member("lineEnding", "LF")
                  .EndObject()
                  .Take();
  // A create sent twice makes two jobs (one spent allocation, one left behind).
  call.idempotent = false;
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();
  return ParseBulkJob(response->body);
}

absl::StatusOr<BulkJob> BulkQuery::Get(std::string_view job_id, Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "GET", JobPath(job_id));
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();
  return ParseBulkJob(response->body);
}

absl::StatusOr<BulkJob> BulkQuery::Abort(std::string_view job_id, Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "PATCH", JobPath(job_id));
  call.body = R"({"state":"Aborted"})";
  // Sent again after an abort that was applied, it is refused (the job has ended).
  call.idempotent = false;
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();
  return ParseBulkJob(response->body);
}

absl::Status BulkQuery::Delete(std::string_view job_id, Priority priority) {
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "DELETE", JobPath(job_id));
  return client_.Execute(call).status();
}

absl::StatusOr<BulkResultsPage> BulkQuery::Results(std::string_view job_id,
                                                   std::string_view object_type,
                                                   std::string_view locator, int64_t max_records,
                                                   size_t batch_size, const RecordBatchFn& on_batch,
                                                   const std::vector<std::string>& known_columns,
                                                   Priority priority) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!locator.empty()) params.emplace_back("locator", std::string(locator));
  if (max_records > 0) params.emplace_back("maxRecords", core::StrCat(max_records));
  std::string path = core::StrCat(JobPath(job_id), "/results");
  if (!params.empty()) core::StrAppend(&path, "?", EncodeParams(params));
  Client::Call call = Client::MakeCall(CallKind::kBulkQuery, priority, "GET", std::move(path));
  call.headers.emplace_back("Accept", "text/csv");
  absl::StatusOr<HttpResponse> response = client_.Execute(call);
  if (!response.ok()) return response.status();

  BulkResultsPage page;
  BulkCsvDecoder decoder(std::string(object_type), ',', batch_size, on_batch,
                         known_columns.empty()
                             ? std::nullopt
                             : std::optional<std::vector<std::string>>(known_columns));
  // Fed in slices, as a streamed body would come, so no step needs the page as one piece.
  constexpr size_t kSlice = 64 * 1024;
  std::string_view body = response->body;
  for (size_t at = 0; at < body.size(); at += kSlice) {
    if (absl::Status s = decoder.Feed(body.substr(at, kSlice)); !s.ok()) return s;
  }
  if (absl::Status s = decoder.Finish(); !s.ok()) return s;
  page.records = decoder.records();
  page.columns = decoder.columns();
  if (page.columns.empty()) page.columns = known_columns;
  if (std::optional<std::string> n = response->Header("Sforce-NumberOfRecords")) {
    int64_t value = 0;
    if (absl::SimpleAtoi(*n, &value)) page.number_of_records = value;
  }
  std::optional<std::string> next = response->Header("Sforce-Locator");
  page.next_locator = next && *next != "null" ? *next : "";
  if (page.number_of_records && *page.number_of_records != page.records) {
    return absl::InternalError(core::StrCat("Bulk results page of job ", job_id, " has ",
                                            page.records, " records, Sforce-NumberOfRecords says ",
                                            *page.number_of_records));
  }
  return page;
}

}  // namespace sfbridge::salesforce
