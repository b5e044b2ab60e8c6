// RestApi's Bulk API 2.0 query job resources, /services/data/vXX.X/jobs/query[/{id}[/results]]:
// the HTTP side of BulkQueryJobs (bulk_jobs.h). Calls pass through RestApi::Handle like every
// other call, so they are authenticated, counted in DailyApiRequests and Sforce-Limit-Info, and
// subject to the configured faults.

#include <simdjson.h>

#include <charconv>

#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "sfsim/gzip.h"
#include "sfsim/rest_calls.h"

namespace sfbridge::sfsim {
namespace {

using core::StrCat;

constexpr double kMinBulkQueryVersion = 47.0;
constexpr size_t kJobsPerListPage = 1000;

Response FromApiError(const org::ApiError& e) {
  return ErrorResponse(e.http_status, e.code, e.message, e.fields);
}

enum class JobJson { kCreated, kListed, kFull };

// The members in the order Salesforce lists them; create and list answers stop at
// columnDelimiter (list adds jobType before it), job info goes on with the counters.
void WriteJob(core::JsonWriter& w, const JobInfo& job, JobJson shape) {
  w.BeginObject()
      .Member("id", job.id)
      .Member("operation", job.operation)
      .Member("object", job.object)
      .Member("createdById", job.created_by_id)
      .Member("createdDate", FormatIsoDateTime(job.created_ms))
      .Member("systemModstamp", FormatIsoDateTime(job.system_modstamp_ms))
      .Member("state", JobStateName(job.state))
      .Member("concurrencyMode", "Parallel")
      .Member("contentType", "CSV")
      .Key("apiVersion")
      .Raw(job.api_version);
  if (shape != JobJson::kCreated) w.Member("jobType", "V2Query");
  w.Member("lineEnding", job.line_ending).Member("columnDelimiter", job.column_delimiter);
  if (shape == JobJson::kFull) {
    w.Member("numberRecordsProcessed", job.records_processed)
        .Member("retries", job.retries)
        .Member("totalProcessingTime", job.total_processing_ms);
    if (job.state == JobState::kFailed) w.Member("errorMessage", job.error_message);
  }
  w.EndObject();
}

Response JobResponse(const JobInfo& job, JobJson shape, int status = 200) {
  core::JsonWriter w;
  WriteJob(w, job, shape);
  Response r;
  r.status = status;
  r.body = w.Take();
  return r;
}

Response JsonParserError(std::string_view what) {
  return ErrorResponse(400, "JSON_PARSER_ERROR", what);
}

// {"operation":"query","query":"SELECT ...","columnDelimiter":"COMMA","lineEnding":"LF",
//  "contentType":"CSV"}; members left out keep their defaults.
std::variant<CreateJobRequest, Response> ParseCreate(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return JsonParserError("The request body must be a JSON object");
  }
  CreateJobRequest request;
  struct Member {
    const char* name;
    std::string* target;
  } members[] = {{"operation", &request.operation},
                 {"query", &request.query},
                 {"contentType", &request.content_type},
                 {"columnDelimiter", &request.column_delimiter},
                 {"lineEnding", &request.line_ending}};
  for (const Member& m : members) {
    simdjson::dom::element e;
    if (doc[m.name].get(e) != simdjson::SUCCESS || e.is_null()) continue;
    std::string_view text;
    if (e.get_string().get(text) != simdjson::SUCCESS) {
      return JsonParserError(StrCat("Cannot deserialize value of type String for ", m.name));
    }
    *m.target = std::string(text);
  }
  return request;
}

}  // namespace

Response RestApi::BulkQuery(Call& call, std::string_view rest) {
  double version = 0;
  std::from_chars(call.version.data(), call.version.data() + call.version.size(), version);
  // Bulk API 2.0 query jobs exist from v47.0: below it the resource is not there at all.
  if (version < kMinBulkQueryVersion) {
    return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
  }
  const std::string& method = call.request.method;
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty()) {
    if (method == "POST") {
      std::variant<CreateJobRequest, Response> request = ParseCreate(call.request.body);
      if (auto* error = std::get_if<Response>(&request)) return *error;
      org::Result<JobInfo> job = bulk_.Create(std::get<CreateJobRequest>(request), call.version);
      if (auto* e = std::get_if<org::ApiError>(&job)) return FromApiError(*e);
      return JobResponse(std::get<JobInfo>(job), JobJson::kCreated);
    }
    if (method == "GET") return BulkList(call);
    return ErrorResponse(405, "METHOD_NOT_ALLOWED",
                         StrCat("HTTP Method '", method, "' not allowed. Allowed are GET,POST"));
  }
  rest.remove_prefix(1);  // the '/' before the id
  const size_t slash = rest.find('/');
  const std::string_view id = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    if (rest.substr(slash + 1) != "results") {
      return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
    }
    if (method != "GET") {
      return ErrorResponse(405, "METHOD_NOT_ALLOWED",
                           StrCat("HTTP Method '", method, "' not allowed. Allowed are GET"));
    }
    return BulkResults(call, id);
  }
  if (method == "GET") {
    org::Result<JobInfo> job = bulk_.Get(id);
    if (auto* e = std::get_if<org::ApiError>(&job)) return FromApiError(*e);
    return JobResponse(std::get<JobInfo>(job), JobJson::kFull);
  }
  if (method == "PATCH") {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(call.request.body).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      return JsonParserError("The request body must be a JSON object");
    }
    std::string_view state;
    if (doc["state"].get_string().get(state) != simdjson::SUCCESS) {
      return ErrorResponse(400, "INVALIDJOB", "state is required");
    }
    if (state != "Aborted") {
      return ErrorResponse(400, "INVALIDJOB",
                           StrCat("Invalid state: ", state, ". A query job can only be Aborted"));
    }
    org::Result<JobInfo> job = bulk_.Abort(id);
    if (auto* e = std::get_if<org::ApiError>(&job)) return FromApiError(*e);
    return JobResponse(std::get<JobInfo>(job), JobJson::kCreated);
  }
  if (method == "DELETE") {
    org::Result<bool> deleted = bulk_.Delete(id);
    if (auto* e = std::get_if<org::ApiError>(&deleted)) return FromApiError(*e);
    Response r;
    r.status = 204;
    return r;
  }
  return ErrorResponse(
      405, "METHOD_NOT_ALLOWED",
      StrCat("HTTP Method '", method, "' not allowed. Allowed are DELETE,GET,PATCH"));
}

Response RestApi::BulkList(Call& call) {
  const std::string job_type = call.request.Param("jobType");
  const std::string mode = call.request.Param("concurrencyMode");
  std::vector<JobInfo> jobs;
  if ((job_type.empty() || job_type == "V2Query") && (mode.empty() || mode == "Parallel")) {
    jobs = bulk_.List();
  }
  size_t offset = 0;
  if (const std::string locator = call.request.Param("queryLocator"); !locator.empty()) {
    auto [p, ec] = std::from_chars(locator.data(), locator.data() + locator.size(), offset);
    if (ec != std::errc() || p != locator.data() + locator.size() || offset > jobs.size()) {
      return ErrorResponse(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    }
  }
  const size_t end = std::min(jobs.size(), offset + kJobsPerListPage);
  core::JsonWriter w;
  w.BeginObject().Member("done", end == jobs.size()).Key("records").BeginArray();
  for (size_t i = offset; i < end; ++i) WriteJob(w, jobs[i], JobJson::kListed);
  w.EndArray().Key("nextRecordsUrl");
  if (end == jobs.size()) {
    w.Null();
  } else {
    w.String(StrCat("/services/data/v", call.version, "/jobs/query?queryLocator=", end));
  }
  w.EndObject();
  Response r;
  r.body = w.Take();
  return r;
}

Response RestApi::BulkResults(Call& call, std::string_view id) {
  std::optional<int64_t> max_records;
  if (const std::string text = call.request.Param("maxRecords"); !text.empty()) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || n <= 0) {
      return ErrorResponse(400, "INVALID_FIELD",
                           StrCat("maxRecords must be a positive integer, not '", text, "'"));
    }
    max_records = n;
  }
  org::Result<ResultPage> page =
      bulk_.Results(id, call.version, call.request.Param("locator"), max_records);
  if (auto* e = std::get_if<org::ApiError>(&page)) return FromApiError(*e);
  ResultPage& p = std::get<ResultPage>(page);
  call.records = p.records;
  Response r;
  r.content_type = "text/csv";
  r.headers.emplace_back("Sforce-Locator", p.next_locator);
  r.headers.emplace_back("Sforce-NumberOfRecords", std::to_string(p.records));
  r.cut_body = p.cut;
  if (AcceptsGzip(call.request.Header("accept-encoding"))) {
    r.body = GzipCompress(p.csv);
    r.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    r.body = std::move(p.csv);
  }
  return r;
}

}  // namespace sfbridge::sfsim
