#include "sfsim/rest_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/core/json_writer.h"
#include "common/core/strings.h"
#include "sfsim/body_json.h"
#include "sfsim/record_json.h"
#include "sfsim/rest_calls.h"

namespace sfbridge::sfsim {

using core::StrCat;

RestApi::RestApi(org::Org& org, oauth::AuthServer& auth, ApiLimits& limits, Faults& faults,
                 QueryCursors& cursors, BulkQueryJobs& bulk, core::Clock& clock,
                 RestApiOptions options)
    : org_(org),
      auth_(auth),
      limits_(limits),
      faults_(faults),
      cursors_(cursors),
      bulk_(bulk),
      clock_(clock),
      options_(std::move(options)) {}

Response RestApi::Handle(const Request& request) {
  if (request.path == "/services/oauth2/token") return auth_.HandleToken(request);
  if (request.path == "/services/data" || request.path == "/services/data/") {
    if (request.method != "GET")
      return ErrorResponse(405, "METHOD_NOT_ALLOWED",
                           "HTTP Method '" + request.method + "' not allowed. Allowed are GET");
    return Versions();
  }
  std::string_view path = request.path;
  constexpr std::string_view kPrefix = "/services/data/v";
  if (!path.starts_with(kPrefix)) {
    return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
  }
  path.remove_prefix(kPrefix.size());
  size_t slash = path.find('/');
  std::string version(path.substr(0, slash));
  if (std::find(options_.versions.begin(), options_.versions.end(), version) ==
      options_.versions.end()) {
    return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
  }
  if (auto denied = auth_.Authenticate(request)) return *denied;

  Call call{request, version, slash == std::string_view::npos ? "" : path.substr(slash + 1)};
  call.kind = ClassifyCall(request.method, call.rest);
  if (!limits_.TryCount(call.kind)) {
    Response r = ErrorResponse(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
    r.headers.emplace_back("Sforce-Limit-Info", limits_.LimitInfoHeader());
    return r;
  }
  FaultDecision fault = faults_.Decide(IsWriteCall(call.kind), 0);
  if (fault.drop) {
    Response r;
    r.drop_connection = true;
    return r;
  }
  // Salesforce refuses a request over the concurrent long-running cap when it starts, before
  // it does anything. A request known to run long from the start (modelled latency) asks here.
  bool long_running = false;
  if (fault.delay_ms >= kLongRunningMs) {
    if (!limits_.BeginLongRunning()) {
      Response r =
          ErrorResponse(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.");
      r.headers.emplace_back("Sforce-Limit-Info", limits_.LimitInfoHeader());
      return r;
    }
    long_running = true;
  }
  call.lock_error = fault.lock_error;
  Response response;
  // An injected 5xx, like Salesforce's own, comes before anything is applied.
  if (fault.fail_5xx || faults_.ObjectFails(ObjectOfCall(call))) {
    response = ErrorResponse(503, "SERVER_UNAVAILABLE",
                             "The server is temporarily unable to service your request. "
                             "Please try again later.");
  } else {
    response = Route(call);
  }
  // Per-record latency is known once the records are: the request has run by then, so it is
  // only counted, never refused.
  int64_t delay_ms = fault.delay_ms + faults_.Get().latency_per_record_us * call.records / 1000;
  if (!long_running && delay_ms >= kLongRunningMs) long_running = limits_.BeginLongRunning();
  if (delay_ms > 0) clock_.SleepFor(std::chrono::milliseconds(delay_ms));
  if (long_running) limits_.EndLongRunning();
  response.headers.emplace_back("Sforce-Limit-Info", limits_.LimitInfoHeader());
  if (fault.cut && !response.body.empty()) response.cut_body = true;
  return response;
}

std::string RestApi::ObjectOfCall(const Call& call) {
  std::string_view rest = call.rest;
  if (rest.starts_with("sobjects/")) {
    rest.remove_prefix(9);
    return std::string(rest.substr(0, rest.find('/')));
  }
  const bool query = rest.starts_with("query") && rest.find('/') == std::string_view::npos;
  const bool bulk_create =
      call.request.method == "POST" && (rest == "jobs/query" || rest == "jobs/query/");
  if (query || bulk_create) {
    const std::string soql =
        query ? call.request.Param("q") : JsonMemberText(call.request.body, "query");
    std::string upper = soql;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    size_t from = upper.find(" FROM ");
    if (from == std::string::npos) return "";
    size_t start = from + 6;
    size_t end = soql.find_first_of(" \t\n", start);
    return soql.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  return "";
}

Response RestApi::Versions() const {
  core::JsonWriter w;
  w.BeginArray();
  for (const std::string& v : options_.versions) {
    w.BeginObject()
        .Member("label", "Winter '24")
        .Member("url", StrCat("/services/data/v", v))
        .Member("version", v)
        .EndObject();
  }
  w.EndArray();
  Response r;
  r.body = w.Take();
  return r;
}

Response RestApi::Route(Call& call) {
  std::string_view rest = call.rest;
  const std::string& method = call.request.method;
  auto only = [&](std::string_view allowed) -> std::optional<Response> {
    if (method == allowed) return std::nullopt;
    return ErrorResponse(405, "METHOD_NOT_ALLOWED",
                         StrCat("HTTP Method '", method, "' not allowed. Allowed are ", allowed));
  };
  if (rest == "query" || rest == "query/" || rest == "queryAll" || rest == "queryAll/") {
    if (auto r = only("GET")) return *r;
    return Query(call, rest.starts_with("queryAll"));
  }
  if (rest.starts_with("query/") || rest.starts_with("queryAll/")) {
    if (auto r = only("GET")) return *r;
    return QueryMore(call, rest.substr(rest.find('/') + 1));
  }
  if (rest == "jobs/query" || rest.starts_with("jobs/query/")) {
    return BulkQuery(call, rest.substr(10));
  }
  if (rest == "limits" || rest == "limits/") {
    if (auto r = only("GET")) return *r;
    return Limits(call);
  }
  if (rest == "sobjects" || rest == "sobjects/") {
    if (auto r = only("GET")) return *r;
    Response resp;
    resp.body = DescribeGlobalJson(org_.objects(), call.version);
    return resp;
  }
  if (rest.starts_with("sobjects/")) return SObjects(call, rest.substr(9));
  if (rest == "composite/sobjects" || rest.starts_with("composite/sobjects/") ||
      rest.starts_with("composite/sobjects?")) {
    return Collections(call, rest.substr(std::min(rest.size(), size_t{19})));
  }
  if (rest == "composite" || rest == "composite/") {
    if (auto r = only("POST")) return *r;
    return Composite(call);
  }
  return ErrorResponse(404, "NOT_FOUND", "The requested resource does not exist");
}

Response RestApi::Query(Call& call, bool include_deleted) {
  std::string soql = call.request.Param("q");
  if (soql.empty()) {
    return ErrorResponse(400, "MALFORMED_QUERY", "A query string has to be specified");
  }
  org::Result<org::QueryResult> result = org_.Query(soql, include_deleted);
  if (auto* error = std::get_if<org::ApiError>(&result)) {
    return ErrorResponse(error->http_status, error->code, error->message, error->fields);
  }
  auto shared =
      std::make_shared<const org::QueryResult>(std::move(std::get<org::QueryResult>(result)));
  size_t batch = QueryBatchSize(call.request.Header("sforce-query-options"),
                                options_.default_batch_size, *shared);
  std::string locator;
  if (shared->records.size() > batch) locator = cursors_.Open(shared, batch);
  return Page(call, locator, shared, 0, batch);
}

Response RestApi::QueryMore(Call& call, std::string_view locator_and_offset) {
  size_t dash = locator_and_offset.rfind('-');
  size_t offset = 0;
  std::string locator(locator_and_offset.substr(0, dash));
  std::shared_ptr<const org::QueryResult> result;
  size_t query_batch = 0;
  if (dash != std::string_view::npos) {
    std::string_view digits = locator_and_offset.substr(dash + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
    if (ec == std::errc() && p == digits.data() + digits.size()) {
      result = cursors_.Find(locator, &query_batch);
    }
  }
  if (!result || offset > result->records.size()) {
    return ErrorResponse(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
  }
  // Later pages keep the batch size the query asked for, unless this request asks again.
  size_t batch =
      QueryBatchSize(call.request.Header("sforce-query-options"),
                     query_batch > 0 ? query_batch : options_.default_batch_size, *result);
  return Page(call, locator, result, offset, batch);
}

Response RestApi::Page(Call& call, const std::string& locator,
                       const std::shared_ptr<const org::QueryResult>& result, size_t offset,
                       size_t batch) {
  size_t end = std::min(result->records.size(), offset + batch);
  bool done = end >= result->records.size();
  core::JsonWriter w;
  w.Reserve((end - offset) * 512 + 128);
  w.BeginObject().Member("totalSize", result->total_size).Member("done", done);
  if (!done) {
    w.Member("nextRecordsUrl",
             StrCat("/services/data/v", call.version, "/query/", locator, "-", end));
  }
  w.Key("records").BeginArray();
  for (size_t i = offset; i < end; ++i) {
    WriteRecord(w, *result->object, *result->records[i], result->selected, call.version);
  }
  w.EndArray().EndObject();
  if (done && !locator.empty()) cursors_.Close(locator);
  call.records = static_cast<int64_t>(end - offset);
  Response r;
  r.body = w.Take();
  return r;
}

Response RestApi::Limits(Call& call) {
  core::JsonWriter w;
  int64_t max = limits_.daily_max();
  w.BeginObject()
      .Key("DailyApiRequests")
      .BeginObject()
      .Member("Max", max)
      .Member("Remaining", std::max<int64_t>(0, max - limits_.used()))
      .EndObject()
      .Key("DailyBulkV2QueryJobs")
      .BeginObject()
      .Member("Max", bulk_.DailyMax())
      .Member("Remaining", bulk_.DailyRemaining())
      .EndObject()
      .Key("DailyBulkV2QueryFileStorageMB")
      .BeginObject()
      .Member("Max", 976562)
      .Member("Remaining", 976562)
      .EndObject()
      .Key("DailyDurableStreamingApiEvents")
      .BeginObject()
      .Member("Max", 10000)
      .Member("Remaining", 10000)
      .EndObject()
      .EndObject();
  Response r;
  r.body = w.Take();
  return r;
}

}  // namespace sfbridge::sfsim
